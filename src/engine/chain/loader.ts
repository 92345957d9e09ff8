import fs from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Jiti } from 'jiti';
import { MosaicError } from '../../core/errors.js';
// Loaded (required) before any user file: jiti hands user code this very module from the require cache.
import '../../tfjs/tfjs.js';

/**
 * Loads user classes from `.ts`, `.js` or `.mjs` files. TensorFlow.js and Mosaic itself are
 * aliased to our own copies, so user code shares one tfjs instance with the engine
 * (`instanceof tf.Tensor` holds) and resolves them even outside the project. Mosaic is imported
 * natively; TF.js is the module `tfjs/tfjs.ts` required, which jiti takes from the require
 * cache (an `import()` of it would run Node's CommonJS-exports lexer, ~0.1 s).
 */
// tfjs has no "exports" map: require.resolve finds the file Node's ESM `import` loads too.
const require = createRequire(import.meta.url);
const TFJS_ENTRY = require.resolve('@tensorflow/tfjs');
// Required, not imported: jiti's ES entry imports its 190 kB CommonJS bundle, which Node then
// scans for its exports (~25 ms of every worker's start-up).
const { createJiti } = require('jiti') as typeof import('jiti');
const MOSAIC_ENTRY = fileURLToPath(new URL('../../index.js', import.meta.url));

let jiti: Jiti | undefined;

function loader(): Jiti {
  jiti ??= createJiti(import.meta.url, {
    nativeModules: ['mosaic-ml'],
    alias: { '@tensorflow/tfjs': TFJS_ENTRY, 'mosaic-ml': MOSAIC_ENTRY },
    moduleCache: true,
    fsCache: true,
  });
  return jiti;
}

const modules = new Map<string, Promise<Record<string, unknown>>>();

/** Imports a user file once per process. */
export function importUserFile(file: string): Promise<Record<string, unknown>> {
  let m = modules.get(file);
  if (!m) {
    m = loader().import<Record<string, unknown>>(file);
    modules.set(file, m);
  }
  return m;
}

/**
 * The class `className` exported by `file` (named export, or the default export when its
 * name matches). `where` says which config entry asked, for the error message.
 */
// biome-ignore lint/suspicious/noExplicitAny: a user's class, constructed with parameters of any type
type UserClass = new (...args: any[]) => any;

export async function loadUserClass(file: string, className: string, where: string): Promise<UserClass> {
  if (!fs.existsSync(file)) throw new MosaicError(`${where}: file ${file} does not exist`);
  let mod: Record<string, unknown>;
  try {
    mod = await importUserFile(file);
  } catch (e) {
    modules.delete(file);
    throw new UserCodeError(
      `${where}: cannot load ${file}: ${String((e as Error).message)
        .replace(/\s*\n\s*/g, ' at ')
        .trim()}`,
      e,
    );
  }
  const candidate = mod[className] ?? (isClassNamed(mod.default, className) ? mod.default : undefined);
  if (typeof candidate !== 'function') {
    const exported = Object.keys(mod).filter((k) => typeof mod[k] === 'function');
    throw new MosaicError(
      `${where}: ${file} exports no class "${className}" (it exports: ${exported.join(', ') || 'nothing'})`,
    );
  }
  return candidate as UserClass;
}

function isClassNamed(value: unknown, name: string): boolean {
  return typeof value === 'function' && value.name === name;
}

/** An exception raised by user code while loading: the user's error is its cause, for its trace. */
export class UserCodeError extends Error {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'UserCodeError';
  }
}
