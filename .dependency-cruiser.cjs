/**
 * The layers of src/, bottom up: a folder may import its own layer and the layers below it,
 * never one above (docs/ARCHITECTURE.md draws the same). Checked by `npm run check:deps`, which
 * `npm test` runs first; no cycles between files either.
 */
const LAYERS = [
  { name: 'core', path: '^src/core/' },
  { name: 'config', path: '^src/config/' },
  { name: 'pipelines', path: '^src/pipelines/' },
  { name: 'store', path: '^src/store/' },
  { name: 'tfjs', path: '^src/tfjs/' },
  { name: 'user', path: '^src/user/' },
  { name: 'cache and render', path: '^src/(cache|render)/' },
  { name: 'engine', path: '^src/engine/' },
  { name: 'analysis', path: '^src/analysis/' },
  { name: 'race', path: '^src/race/' },
  { name: 'worker', path: '^src/worker/' },
  { name: 'experiment', path: '^src/experiment/' },
  { name: 'dashboard', path: '^src/dashboard/' },
  { name: 'cli', path: '^src/cli/' },
  { name: 'package', path: '^src/index\\.ts$' },
];

/** The engine's parts, bottom up, with the same rule inside engine/. */
const ENGINE_PARTS = [
  { name: 'engine/chain', path: '^src/engine/chain/' },
  { name: 'engine/backend', path: '^src/engine/backend/' },
  { name: 'engine/optimizers', path: '^src/engine/optimizers/' },
  { name: 'engine/checkpoints', path: '^src/engine/checkpoints/' },
  { name: 'engine/run', path: '^src/engine/run/' },
  { name: 'engine/pack', path: '^src/engine/pack/' },
  { name: 'engine/preflight', path: '^src/engine/preflight/' },
];

const above = (layers) =>
  layers.flatMap((low, i) =>
    layers.slice(i + 1).map((high) => ({
      name: `${low.name}-not-above`,
      comment: `${low.name} is below ${high.name}: it may not import it`,
      severity: 'error',
      from: { path: low.path },
      to: { path: high.path },
    })),
  );

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'no file imports itself through others',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...above(LAYERS),
    ...above(ENGINE_PARTS),
    {
      name: 'tfjs-for-engine-and-user',
      comment:
        'TensorFlow.js and the wasm kernels are loaded by the engine and the user API only (reading a database never loads them)',
      severity: 'error',
      from: { pathNot: '^src/(tfjs|engine|user)/|^src/index\\.ts$' },
      to: { path: '^src/tfjs/' },
    },
    {
      name: 'nothing-imports-cli',
      comment: 'the commands are the edge: the core returns data, the CLI prints it',
      severity: 'error',
      from: { pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'tfjs-not-user',
      comment: 'the TensorFlow.js layer knows nothing of the user API',
      severity: 'error',
      from: { path: '^src/tfjs/' },
      to: { path: '^src/user/' },
    },
    { name: 'cache-not-render', severity: 'error', from: { path: '^src/cache/' }, to: { path: '^src/render/' } },
    { name: 'render-not-cache', severity: 'error', from: { path: '^src/render/' }, to: { path: '^src/cache/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/dashboard/page/|^src/tfjs/wasm/simd/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js'],
    },
  },
};
