import type { ModuleParams } from '../user/contracts.js';

/** Thrown when a class reads a constructor parameter that is nowhere to be found. */
export class MissingParameterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingParameterError';
  }
}

// Read by JS machinery (await, JSON, inspection) rather than by the user's code.
const PASS_THROUGH = new Set(['then', 'toJSON', 'constructor', 'asymmetricMatch', 'nodeType', '$$typeof']);

/**
 * The object a user constructor receives: each property is looked up by name in the module's
 * config section, then in run_info, then in the class's static `defaults`. Reading a name found
 * in none of them throws an error naming the class, the parameter and the places looked.
 */
export function constructorParams(
  className: string,
  sectionName: string,
  section: Record<string, unknown>,
  runInfo: Record<string, unknown>,
  defaults: Record<string, unknown> = {},
): ModuleParams {
  const merged: Record<string, unknown> = { ...defaults, ...runInfo, ...section };
  return new Proxy(merged, {
    get(target, prop, receiver) {
      if (typeof prop !== 'string' || prop in target || PASS_THROUGH.has(prop) || prop in Object.prototype) {
        return Reflect.get(target, prop, receiver);
      }
      const infoKeys = Object.keys(runInfo).join(', ');
      throw new MissingParameterError(
        `${className}: required parameter "${prop}" not found: not a key of config section [${sectionName}], ` +
          `not in run_info (which has: ${infoKeys}), and not in ${className}.defaults`,
      );
    },
  });
}
