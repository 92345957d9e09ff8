import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, MosaicError } from '../../core/errors.js';
import type { ExperimentConfig } from '../../config/types.js';
import { loadUserClass, UserCodeError } from '../chain/loader.js';
import { useBackend } from '../../tfjs/backends.js';
import { checkUnreadKeys } from './unread-keys.js';

/**
 * Checks, before any database is touched, what can be checked without training: every class
 * used by a pipeline loads from its file, the loss class too, `backend = tensorflow` loads, and
 * unless `build` is false (`run --no-check`, for data too expensive to prepare twice) every data
 * chain is prepared and every model class built and run on one batch, with the first swept
 * values, and every class reads every key of its section (`unread-keys.ts`, `first-builds.ts`).
 */
export async function preflight(
  config: ExperimentConfig,
  options: { runFolder?: boolean; build?: boolean } = {},
): Promise<void> {
  const schemeTypes = new Set([...config.dataScheme, ...config.pipelineScheme]);
  const checked = new Set<string>();
  for (const m of config.modules.filter((s) => schemeTypes.has(s.type))) {
    const key = `${m.absolutePathToClass}#${m.className}`;
    if (checked.has(key)) continue;
    checked.add(key);
    const lineOf = (k: string) => ({ file: config.file, line: m.lines[k], section: m.name, key: k });
    if (!fs.existsSync(m.absolutePathToClass)) {
      throw new ConfigError(lineOf('path_to_class'), `file ${m.absolutePathToClass} does not exist`);
    }
    await loadChecked(m.absolutePathToClass, m.className, `${config.file}:${m.lines.class} [${m.name}] class`);
  }
  for (const p of config.processVariants) {
    if (p.class_loss_function) {
      if (!fs.existsSync(p.path_to_class_loss_function!)) {
        throw new ConfigError(
          { file: config.file, section: 'PROCESS', key: 'path_to_class_loss_function' },
          `file ${p.path_to_class_loss_function} does not exist`,
        );
      }
      await loadChecked(
        p.path_to_class_loss_function!,
        p.class_loss_function,
        `${config.file} [PROCESS] class_loss_function`,
      );
    }
    // cpu and wasm come with Mosaic; tfjs-node is the user's to install.
    if (p.backend === 'tensorflow') await useBackend('tensorflow');
  }
  if (options.build ?? true) await checkUnreadKeys(config);
  // last: it leaves the folder made, and bad input leaves nothing behind
  if (options.runFolder ?? true) for (const p of config.processVariants) checkRunFolder(config.file, p.run_files_path);
}

/** The runs' checkpoint folder must be creatable and writable before anything starts. */
function checkRunFolder(configFile: string, folder: string): void {
  const probe = path.join(folder, `.mosaic-probe-${process.pid}`);
  try {
    fs.mkdirSync(folder, { recursive: true });
    fs.writeFileSync(probe, 'probe');
    fs.rmSync(probe);
  } catch (e) {
    const reason =
      (e as NodeJS.ErrnoException).code === 'ENOTDIR' || (e as NodeJS.ErrnoException).code === 'EEXIST'
        ? 'it is not a folder'
        : (e as Error).message;
    throw new ConfigError(
      { file: configFile, section: 'PROCESS', key: 'run_files_path' },
      `cannot write run files in ${folder}: ${reason}`,
    );
  }
}

async function loadChecked(file: string, className: string, where: string): Promise<void> {
  try {
    await loadUserClass(file, className, where);
  } catch (e) {
    if (e instanceof UserCodeError) throw new MosaicError(e.message);
    throw e;
  }
}
