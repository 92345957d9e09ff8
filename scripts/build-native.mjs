// Builds native/ (the C matrix products, src/tfjs/wasm/native-kernels.ts) with node-gyp, as npm
// builds better-sqlite3: python3, make and a C compiler. Optional: where the build fails, Mosaic
// runs on its WebAssembly kernels alone (the same numbers, slower), and this says so.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const NATIVE = path.join(ROOT, 'native');
const ADDON = path.join(NATIVE, 'build/Release/mosaic_kernels.node');

/** node-gyp as npm runs it (npm sets npm_config_node_gyp for its scripts), else the one npm bundles. */
function nodeGyp() {
  const bundled = path.join(
    path.dirname(process.execPath),
    '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
  );
  return [process.env.npm_config_node_gyp, bundled].find((file) => file && fs.existsSync(file));
}

if (process.env.MOSAIC_NATIVE === '0') {
  console.log('native kernels: not built (MOSAIC_NATIVE=0)');
  process.exit(0);
}
/** Node's own headers (npm's nodedir, else beside this node), so that node-gyp downloads nothing. */
function nodeDir() {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  return fs.existsSync(path.join(prefix, 'include/node/node_api.h')) ? prefix : undefined;
}

const gyp = nodeGyp();
const dir = nodeDir();
const args = [gyp, 'rebuild', '--directory', NATIVE, ...(dir ? [`--nodedir=${dir}`] : [])];
const result = gyp
  ? spawnSync(process.execPath, args, { encoding: 'utf8' })
  : { status: 1, stdout: '', stderr: 'node-gyp not found (it comes with npm)' };
if (result.status === 0 && fs.existsSync(ADDON)) {
  console.log(`native kernels built in ${path.relative(ROOT, ADDON)}`);
} else {
  fs.rmSync(path.join(NATIVE, 'build'), { recursive: true, force: true });
  const trailer = /gyp ERR! (System|command|cwd|node -v|node-gyp -v|not ok)/;
  const lines = `${result.stderr ?? ''}${result.error ?? ''}`.trim().split('\n');
  const why = lines
    .filter((line) => /error|ERR!|not found/i.test(line) && !trailer.test(line))
    .slice(0, 6)
    .join('\n  ');
  console.warn(
    `native kernels: not built, so the WebAssembly kernels do all the work (the same numbers, slower).\n  ${why}\n` +
      '  To build them: python3, make and a C compiler (Debian: apt-get install python3 make g++), then npm run build.',
  );
}
