/**
 * Answers to bad requests: an HttpError becomes a 4xx JSON answer `{ error }`. Query parameters
 * are read through these helpers only, so every size is bounded and every malformed value refused.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export type Query = Record<string, unknown>;

/** At most this many characters in any one text parameter. */
const MAX_TEXT = 200;

/** A text parameter: absent → undefined; repeated or too long → 400. */
export function text(query: Query, name: string, max = MAX_TEXT): string | undefined {
  const v = query[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw new HttpError(400, `"${name}" must be given once`);
  if (v.length > max) throw new HttpError(400, `"${name}" is too long (at most ${max} characters)`);
  return v;
}

/** Every value of a parameter that may be repeated (`status=done&status=error`), bounded in number. */
export function texts(query: Query, name: string, maxCount = 20): string[] {
  const v = query[name];
  if (v === undefined) return [];
  const all = Array.isArray(v) ? v : [v];
  if (all.length > maxCount) throw new HttpError(400, `at most ${maxCount} values of "${name}"`);
  return all.map((x) => {
    if (typeof x !== 'string' || x.length > MAX_TEXT) throw new HttpError(400, `bad value of "${name}"`);
    return x;
  });
}

/** An integer parameter within [min, max]; absent → `fallback`. */
export function integer(query: Query, name: string, min: number, max: number, fallback: number): number {
  const v = text(query, name, 20);
  if (v === undefined) return fallback;
  if (!/^-?\d+$/.test(v)) throw new HttpError(400, `"${name}" must be an integer, not "${v}"`);
  const n = Number(v);
  if (n < min || n > max) throw new HttpError(400, `"${name}" must be between ${min} and ${max}, not ${v}`);
  return n;
}

/** A run id from the path. */
export function runId(raw: unknown): number {
  if (typeof raw !== 'string' || !/^\d{1,9}$/.test(raw))
    throw new HttpError(400, `a run id is a positive integer, not "${String(raw).slice(0, 40)}"`);
  return Number(raw);
}

/** A list of run ids, `1,2,7`, at most `max` of them. */
export function runIds(query: Query, name: string, max: number): number[] {
  const v = text(query, name, max * 10);
  if (v === undefined) return [];
  const ids = v.split(',').map((s) => runId(s.trim()));
  if (ids.length > max) throw new HttpError(400, `at most ${max} runs at once`);
  return [...new Set(ids)];
}
