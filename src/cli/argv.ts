import path from 'node:path';

/**
 * The original's spellings: `mosaic_run ARGS` is `mosaic run ARGS`, and single-dash long
 * options (`-id`, `-epochs`, `-plot_size`, `-request`, …) are read as `--id`, `--epochs`, …
 * (commander alone would read `-id` as `-i -d`).
 */
export function normalizeArgv(argv: string[]): string[] {
  const [node, script, ...rest] = argv;
  const bin = path.basename(script ?? '').replace(/\.(c|m)?js$/, '');
  const verb = /^mosaic_(\w+)$/.exec(bin)?.[1];
  const args = rest.map((a) => (/^-[a-zA-Z][a-zA-Z_]+$/.test(a) ? `-${a}` : a));
  return [node!, script!, ...(verb ? [verb] : []), ...args];
}
