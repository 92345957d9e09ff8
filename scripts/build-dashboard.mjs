// Bundles the dashboard's page (src/dashboard/page) with vega-embed into dist/dashboard/public:
// no CDN, the page works offline. Charts are a separate chunk, loaded when a chart is first shown.
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
const src = path.join(root, 'src/dashboard/page');
const out = path.join(root, 'dist/dashboard/public');
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
await build({
  entryPoints: [path.join(src, 'main.ts')],
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox110', 'safari16'],
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  chunkNames: 'chunk-[hash]',
  logLevel: 'warning',
  tsconfig: path.join(src, 'tsconfig.json'),
});
for (const file of ['index.html', 'style.css']) fs.copyFileSync(path.join(src, file), path.join(out, file));
const size = fs.readdirSync(out).reduce((s, f) => s + fs.statSync(path.join(out, f)).size, 0);
console.log(`dashboard page built in ${path.relative(root, out)} (${(size / 1e6).toFixed(1)} MB)`);
