import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { ExperimentConfig } from '../config/types.js';
import type { ExperimentRecord } from '../store/types.js';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

export const MOSAIC_VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string })
  .version;

/**
 * Where an experiment comes from, kept beside its runs: the config as written and its hash, the
 * hash of every user file it loads, Mosaic's version, and the git commit of the config's folder
 * (`+dirty` when it has uncommitted changes), so a result can be traced back to its code.
 */
export function provenance(config: ExperimentConfig): ExperimentRecord {
  const configText = fs.readFileSync(config.file, 'utf8');
  const files = new Set<string>();
  const schemeTypes = new Set([...config.dataScheme, ...config.pipelineScheme]);
  for (const m of config.modules) if (schemeTypes.has(m.type)) files.add(m.absolutePathToClass);
  for (const p of config.processVariants) if (p.path_to_class_loss_function) files.add(p.path_to_class_loss_function);
  const userFiles: Record<string, string> = {};
  for (const f of [...files].sort()) {
    try {
      userFiles[f] = sha256(fs.readFileSync(f));
    } catch {
      userFiles[f] = 'unreadable';
    }
  }
  return {
    configFile: config.file,
    configText,
    configHash: sha256(configText),
    userFiles,
    mosaicVersion: MOSAIC_VERSION,
    gitCommit: gitCommit(config.dir),
  };
}

function gitCommit(dir: string): string | null {
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', dir, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    }).trim();
  try {
    const head = git('rev-parse', 'HEAD');
    return git('status', '--porcelain', '--untracked-files=no') === '' ? head : `${head}+dirty`;
  } catch {
    return null;
  }
}
