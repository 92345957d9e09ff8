/**
 * Turning config strings into the typed values user classes receive: numbers arrive as
 * numbers, True/False as booleans, None as null; everything else stays a string.
 */
export type ParamValue = string | number | boolean | null;

const NUMBER_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

export function typedValue(raw: string): ParamValue {
  const s = raw.trim();
  if (NUMBER_RE.test(s)) return Number(s);
  const lower = s.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  if (lower === 'none' || lower === 'null') return null;
  return s;
}

const BOOLEAN_WORDS: Record<string, boolean> = {
  '1': true,
  yes: true,
  true: true,
  on: true,
  '0': false,
  no: false,
  false: false,
  off: false,
};

/** configparser's getboolean words. */
export function parseBoolean(raw: string): boolean | undefined {
  return BOOLEAN_WORDS[raw.trim().toLowerCase()];
}

const SIZE_RE = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i;
const SIZE_UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** `500M`, `1G`, `2T`, `123` (bytes) → bytes. */
export function parseSize(raw: string): number | undefined {
  const m = SIZE_RE.exec(raw.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * SIZE_UNITS[m[2]!.toUpperCase()]!);
}
