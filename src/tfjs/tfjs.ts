import { createRequire } from 'node:module';
import type * as TF from '@tensorflow/tfjs';

/**
 * TF.js, loaded with `require`. Its package is CommonJS: an ESM `import` of it makes Node run
 * its CommonJS-exports lexer over the bundles it re-exports (~0.1 s in every process that loads
 * TF.js, on the path of every run's start); `require` does not. The same module instance either
 * way: user classes (loaded by jiti, which finds it in the require cache) share it. Types come
 * from `import type * as tf from '@tensorflow/tfjs'`, which leaves no import behind.
 */
export const tfjs: typeof TF = createRequire(import.meta.url)('@tensorflow/tfjs');

// PROD silences TF.js's "install the node backend" banner (Mosaic chooses its backends itself; a
// user who imports mosaic-ml sees it otherwise) and skips debug-only checks.
tfjs.env().set('PROD', true);
