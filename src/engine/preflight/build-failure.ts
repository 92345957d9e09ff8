import type { ExperimentConfig, ModuleSection } from '../../config/types.js';
import { ConfigError, MosaicError } from '../../core/errors.js';
import type { PipelineModule } from '../../core/run-spec.js';
import { MissingParameterError } from '../chain/inject.js';
import { firstLine } from '../run/epoch-end.js';

/** Where a section's class failed: its data chain, building its model, or its first forward pass. */
export type BuildStage = 'data' | 'model' | 'forward';

const STAGE_WORDS: Record<BuildStage, string> = {
  data: 'preparing the data',
  model: 'building the model',
  forward: 'in its first forward pass',
};

export interface BuildFailureOf {
  section: ModuleSection;
  /** The values the section was built with: the first of each of its sweeps. */
  module: PipelineModule;
  stage: BuildStage;
  error: unknown;
  /** The data chain a model chain ran on, named when the experiment has several. */
  data?: ModuleSection[];
}

/**
 * The refusal of a pipeline that fails before its first training step: every run built with
 * those values would fail the same way, so none is queued. One line: the section, what failed,
 * the swept values it was built with, the error's first line, and how to skip the check.
 */
export function buildFailure(config: ExperimentConfig, f: BuildFailureOf): ConfigError {
  const swept = f.section.params.filter((p) => p.values.length > 1).map((p) => `${p.key} = ${f.module[p.key]}`);
  const values = swept.length
    ? ` with ${swept.join(', ')} (the first of its swept values; the others are left to their runs)`
    : '';
  const on = f.data ? ` on the data of ${f.data.map((m) => `[${m.name}]`).join(' | ')}` : '';
  // `units = [64]` reaches the class as the string "[64]" (a list's brackets are refused earlier)
  const bracketed = f.section.params.map((p) => p.key).find((k) => /^\[.*\]$/.test(f.module[k] ?? ''));
  const hint = bracketed
    ? ` (lists are written without brackets: ${bracketed} = ${f.module[bracketed]!.slice(1, -1)})`
    : '';
  // a missing parameter or a user mistake says so in Mosaic's words; TF.js ends its sentences with a period
  const e = f.error;
  const worded = e instanceof MissingParameterError || e instanceof MosaicError;
  const error = (worded ? e.message.split('\n')[0]! : firstLine(e)).replace(/\.$/, '');
  return new ConfigError(
    { file: config.file, line: f.section.line, section: f.section.name },
    `${f.section.className} fails ${STAGE_WORDS[f.stage]}${on}${values}: ${error}${hint}; nothing was queued (--no-check skips this check)`,
  );
}
