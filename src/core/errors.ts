/**
 * A mistake of the user's (bad config, bad argument, missing file). The CLI prints its message
 * on one line and exits non-zero, without a stack trace. Anything else is a bug and keeps its trace.
 */
export class MosaicError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MosaicError';
  }
}

/** Where in a config file a value came from, for error messages. */
export interface SourceLocation {
  file: string;
  line?: number;
  section?: string;
  key?: string;
}

export function formatLocation(loc: SourceLocation): string {
  let s = loc.file;
  if (loc.line !== undefined) s += `:${loc.line}`;
  if (loc.section !== undefined) s += ` [${loc.section}]`;
  if (loc.key !== undefined) s += ` ${loc.key}`;
  return s;
}

export class ConfigError extends MosaicError {
  constructor(
    readonly location: SourceLocation,
    readonly detail: string,
  ) {
    super(`${formatLocation(location)}: ${detail}`);
    this.name = 'ConfigError';
  }
}
