/**
 * The store writes its SQL with `?` placeholders (SQLite's); PostgreSQL numbers them: `$1`, `$2`…
 * A `?` inside a string literal, a quoted identifier, a dollar-quoted string or a comment is text,
 * not a placeholder.
 */
export function numberPlaceholders(sql: string): string {
  let out = '';
  let n = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const end = skipQuoted(sql, i);
    if (end > i) {
      out += sql.slice(i, end);
      i = end;
    } else if (c === '?') {
      out += `$${++n}`;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Where the quoted string, identifier or comment starting at `i` ends (`i` when none starts there). */
function skipQuoted(sql: string, i: number): number {
  const c = sql[i]!;
  const next = sql[i + 1];
  if (c === "'" || c === '"') {
    // Both close on the same quote; a doubled quote is an escaped one. E'…' strings may also escape with \.
    const backslashes = c === "'" && i > 0 && /[eE]/.test(sql[i - 1]!) && !/\w/.test(sql[i - 2] ?? '');
    let j = i + 1;
    while (j < sql.length) {
      if (backslashes && sql[j] === '\\') j += 2;
      else if (sql[j] === c && sql[j + 1] === c) j += 2;
      else if (sql[j] === c) return j + 1;
      else j++;
    }
    return sql.length;
  }
  if (c === '-' && next === '-') {
    const eol = sql.indexOf('\n', i);
    return eol < 0 ? sql.length : eol + 1;
  }
  if (c === '/' && next === '*') {
    const close = sql.indexOf('*/', i + 2);
    return close < 0 ? sql.length : close + 2;
  }
  if (c === '$' && !/\w/.test(sql[i - 1] ?? '')) {
    const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
    if (tag) {
      const close = sql.indexOf(tag[0], i + tag[0].length);
      return close < 0 ? sql.length : close + tag[0].length;
    }
  }
  return i;
}

const cache = new Map<string, string>();

/** numberPlaceholders, remembered: the store runs the same few statements over and over. */
export function pgSql(sql: string): string {
  let out = cache.get(sql);
  if (out === undefined) {
    // Statements built with a list of `?` per id vary without end: keep the cache bounded.
    if (cache.size >= 1000) cache.clear();
    out = numberPlaceholders(sql);
    cache.set(sql, out);
  }
  return out;
}
