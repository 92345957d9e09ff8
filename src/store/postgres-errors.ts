/** How the PostgreSQL store reads a driver's errors: which to retry, which are system failures. */

/** The SQLSTATE of a server error, or the errno code of a socket error. */
export function errorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const SOCKET_ERRORS = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
]);

/**
 * The connection is gone or the server cannot take it yet (shut down, restarting, unreachable):
 * worth reconnecting and trying again. Class 08 is "connection exception"; 57P01–57P03 are the
 * server shutting down or starting up.
 */
export function isConnectionLost(e: unknown): boolean {
  const code = errorCode(e);
  if (
    code !== undefined &&
    (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || SOCKET_ERRORS.has(code))
  )
    return true;
  if (code !== undefined && code.length === 5 && /^[0-9A-Z]{5}$/.test(code)) return false;
  return /Connection terminated|not queryable|connection error|timeout expired|Client was closed/i.test(
    errorMessage(e),
  );
}

/** Another transaction got in the way: running ours again succeeds. */
export function isSerialisationFailure(e: unknown): boolean {
  const code = errorCode(e);
  return code === '40001' || code === '40P01';
}

/**
 * The server cannot do the work whatever the statement (disk full, out of memory, too many
 * connections, I/O error, internal error, shutdown): a system failure, not a mistake in the SQL.
 */
export function isServerFailure(e: unknown): boolean {
  const code = errorCode(e);
  return code !== undefined && /^(53|58|XX|57P)/.test(code);
}

/** Errors a new connection will meet again: wrong password, no such database or role. */
export function isPermanentConnectFailure(e: unknown): boolean {
  const code = errorCode(e);
  return code !== undefined && (code.startsWith('28') || code === '3D000' || code === 'ENOTFOUND');
}

/** The server asked for a password and none was given (the driver says so in words, with no code). */
export function isMissingPassword(e: unknown): boolean {
  return (
    errorCode(e) === undefined &&
    /client password must be a string|password authentication.*no password/i.test(errorMessage(e))
  );
}
