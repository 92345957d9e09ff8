import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/helpers.js';

/** The package as a user installs and imports it. */
describe('the mosaic-ml package', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    engines: { node: string };
  };
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<
      string,
      { version?: string; engines?: { node?: string } | string[]; dev?: boolean; optional?: boolean }
    >;
  };

  it('installs without an engine warning on the oldest Node it declares: every package it runs with accepts that Node', () => {
    const oldest = semver.minVersion(manifest.engines.node)!.version;
    expect(semver.satisfies(process.version, manifest.engines.node)).toBe(true);
    const refusing = Object.entries(lock.packages)
      .filter(([where, p]) => where !== '' && !p.dev && !p.optional)
      .filter(([, p]) => !Array.isArray(p.engines) && p.engines?.node && !semver.satisfies(oldest, p.engines.node))
      .map(
        ([where, p]) =>
          `${where.replace(/^.*node_modules\//, '')}@${p.version} needs node ${(p.engines as { node: string }).node}`,
      );
    expect(refusing).toEqual([]);
  });

  it('importing it and building a TF.js model prints no TF.js banner (Mosaic chooses the backends)', () => {
    const script = `
      const { pytorchInitializers } = await import(${JSON.stringify(path.join(ROOT, 'dist/index.js'))});
      const tf = await import('@tensorflow/tfjs');
      const model = tf.sequential();
      model.add(tf.layers.dense({ units: 2, inputShape: [3], ...pytorchInitializers(1)(3) }));
      model.predict(tf.zeros([1, 3])).dataSync();
      console.log('built');`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toBe('built\n');
  });
});
