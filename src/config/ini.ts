import { ConfigError } from '../core/errors.js';

/**
 * An INI reader with the rules of Python's configparser (default settings), so that the
 * original Mosaic configs read the same:
 * - `[section]` headers, section names case-sensitive; keys case-insensitive (lower-cased);
 * - `key = value` or `key: value`, split at the first `=` or `:`;
 * - whole-line comments starting with `#` or `;`;
 * - continuation lines (indented deeper than the key) extend a value, joined with newlines;
 * - a `[DEFAULT]` section whose keys every other section inherits;
 * - `%(name)s` interpolation from the same section or DEFAULT, `%%` for a literal `%`;
 * - duplicate sections or keys are errors.
 * One deliberate difference: an inline comment (` #` or ` ;` after whitespace) is removed,
 * where configparser would keep it in the value.
 */
export interface IniEntry {
  value: string;
  line: number;
  /** Copied from `[DEFAULT]`, not written in the section itself (`line` is then DEFAULT's). */
  inherited?: boolean;
}

export interface IniSection {
  name: string;
  line: number;
  entries: Map<string, IniEntry>;
}

export interface IniDocument {
  file: string;
  sections: IniSection[];
}

const SECTION_RE = /^\[([^\]]+)\]\s*$/;
const DEFAULT_SECTION = 'DEFAULT';

export function parseIni(text: string, file: string): IniDocument {
  const sections: IniSection[] = [];
  const defaults: IniSection = { name: DEFAULT_SECTION, line: 0, entries: new Map() };
  let current: IniSection | undefined;
  let lastKey: { entry: IniEntry; indent: number } | undefined;
  let pendingBlank = 0;

  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i]!;
    const stripped = raw.trim();
    if (stripped === '') {
      if (lastKey) pendingBlank++;
      continue;
    }
    if (stripped.startsWith('#') || stripped.startsWith(';')) continue;
    const indent = raw.length - raw.trimStart().length;

    if (lastKey && indent > lastKey.indent) {
      const piece = stripInlineComment(stripped);
      lastKey.entry.value += '\n'.repeat(pendingBlank + 1) + piece;
      pendingBlank = 0;
      continue;
    }
    lastKey = undefined;
    pendingBlank = 0;

    const header = SECTION_RE.exec(stripped);
    if (header) {
      const name = header[1]!.trim();
      if (name === DEFAULT_SECTION) {
        current = defaults;
        continue;
      }
      const dup = sections.find((s) => s.name === name);
      if (dup) {
        throw new ConfigError(
          { file, line: lineNo, section: name },
          `section [${name}] already defined at line ${dup.line}`,
        );
      }
      current = { name, line: lineNo, entries: new Map() };
      sections.push(current);
      continue;
    }

    const delim = stripped.search(/[=:]/);
    if (delim <= 0) {
      throw new ConfigError(
        { file, line: lineNo, section: current?.name },
        `expected "key = value" or "[section]", found "${stripped}"`,
      );
    }
    if (!current) {
      throw new ConfigError({ file, line: lineNo }, `"${stripped}" comes before any [section] header`);
    }
    const key = stripped.slice(0, delim).trim().toLowerCase();
    const value = stripInlineComment(stripped.slice(delim + 1).trim());
    const existing = current.entries.get(key);
    if (existing) {
      throw new ConfigError(
        { file, line: lineNo, section: current.name, key },
        `key "${key}" already set at line ${existing.line}`,
      );
    }
    const entry = { value, line: lineNo };
    current.entries.set(key, entry);
    lastKey = { entry, indent };
  }

  for (const section of sections) {
    for (const [key, entry] of defaults.entries) {
      if (!section.entries.has(key)) section.entries.set(key, { ...entry, inherited: true });
    }
    for (const [key, entry] of section.entries) {
      entry.value = interpolate(entry.value, section, file, key, entry.line);
    }
  }
  return { file, sections };
}

function stripInlineComment(value: string): string {
  const m = /\s[#;]/.exec(value);
  return m ? value.slice(0, m.index).trimEnd() : value;
}

function interpolate(value: string, section: IniSection, file: string, key: string, line: number, depth = 0): string {
  if (!value.includes('%')) return value;
  if (depth > 10) {
    throw new ConfigError(
      { file, line, section: section.name, key },
      'interpolation is too deeply nested (a loop of %(name)s?)',
    );
  }
  return value.replace(/%(%|\(([^)]+)\)s)/g, (match, what: string, ref: string | undefined) => {
    if (what === '%') return '%';
    const target = section.entries.get(ref!.toLowerCase());
    if (!target) {
      throw new ConfigError(
        { file, line, section: section.name, key },
        `"${match}" refers to a key that [${section.name}] does not have`,
      );
    }
    return interpolate(target.value, section, file, ref!, line, depth + 1);
  });
}
