import type { ModuleParams } from '../../user/contracts.js';

/** Thrown when a class reads a constructor parameter that is nowhere to be found. */
export class MissingParameterError extends Error {
  constructor(
    message: string,
    /** The name read, and the config section of the class that read it. */
    readonly parameter?: string,
    readonly section?: string,
  ) {
    super(message);
    this.name = 'MissingParameterError';
  }
}

// Read by JS machinery (await, JSON, inspection) rather than by the user's code.
const PASS_THROUGH = new Set(['then', 'toJSON', 'constructor', 'asymmetricMatch', 'nodeType', '$$typeof']);

/** A name the user's code reads, rather than JS machinery or Object.prototype. */
function isParameterName(prop: string | symbol): prop is string {
  return typeof prop === 'string' && !PASS_THROUGH.has(prop) && !(prop in Object.prototype);
}

/**
 * The object a user constructor receives: each property is looked up by name in the module's
 * config section, then in run_info, then in the class's static `defaults`. Reading a name found
 * in none of them throws an error naming the class, the parameter and the places looked.
 * With `reads`, every name the class reads (`p.x`, `'x' in p`; enumerating `p` reads them all)
 * is added to it, for as long as the class keeps the object: preflight's check of unread keys.
 */
export function constructorParams(
  className: string,
  sectionName: string,
  section: Record<string, unknown>,
  runInfo: Record<string, unknown>,
  defaults: Record<string, unknown> = {},
  reads?: Set<string>,
): ModuleParams {
  const merged: Record<string, unknown> = { ...defaults, ...runInfo, ...section };
  return new Proxy(merged, {
    get(target, prop, receiver) {
      if (reads && isParameterName(prop)) reads.add(prop);
      if (typeof prop !== 'string' || prop in target || PASS_THROUGH.has(prop) || prop in Object.prototype) {
        return Reflect.get(target, prop, receiver);
      }
      const infoKeys = Object.keys(runInfo).join(', ');
      throw new MissingParameterError(
        `${className}: required parameter "${prop}" not found: not a key of config section [${sectionName}], ` +
          `not in run_info (which has: ${infoKeys}), and not in ${className}.defaults`,
        prop,
        sectionName,
      );
    },
    ...(reads ? recordingTraps(reads) : {}),
  });
}

/** `has` and `ownKeys` traps that add to `reads` the name tested, or every name enumerated. */
function recordingTraps<T extends object>(reads: Set<string>): Pick<ProxyHandler<T>, 'has' | 'ownKeys'> {
  return {
    has(target, prop) {
      if (isParameterName(prop)) reads.add(prop);
      return Reflect.has(target, prop);
    },
    ownKeys(target) {
      const keys = Reflect.ownKeys(target);
      for (const k of keys) if (isParameterName(k)) reads.add(k);
      return keys;
    },
  };
}

/** `info` itself (nothing added, nothing thrown), each name read from it added to `reads`. */
export function recordingReads<T extends Record<string, unknown>>(info: T, reads: Set<string>): T {
  return new Proxy(info, {
    get(target, prop, receiver) {
      if (isParameterName(prop)) reads.add(prop);
      return Reflect.get(target, prop, receiver);
    },
    ...recordingTraps<T>(reads),
  });
}
