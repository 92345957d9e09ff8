import fs from 'node:fs';
import { readConfigFile } from '../config/load.js';
import { MosaicError } from '../core/errors.js';
import { refuseBadRace } from '../config/race.js';
import { generatePipelines, pipelinesToJson } from '../pipelines/generate.js';

export async function generateCommand(
  configPath: string,
  outPath: string,
  options: { check: boolean } = { check: true },
): Promise<void> {
  const config = readConfigFile(configPath);
  for (const w of config.warnings) console.error(`warning: ${w}`);
  const pipelines = generatePipelines(config);
  refuseBadRace(config, pipelines.length / config.monitor.multiplicity);
  if (options.check) {
    // A typo in a class name is caught before a long queue is made from this file.
    const { preflight } = await import('../engine/preflight/preflight.js');
    await preflight(config, { runFolder: false });
  }
  try {
    fs.writeFileSync(outPath, JSON.stringify(pipelinesToJson(pipelines), null, 1));
  } catch (e) {
    throw new MosaicError(`cannot write ${outPath}: ${(e as Error).message}`);
  }
  const m = config.monitor.multiplicity;
  const race = config.monitor.race
    ? `min_repeats ${m}: the first round of a race (multiplicity = auto), which queues more repeats round by round`
    : `multiplicity ${m}`;
  console.log(`${pipelines.length} pipelines (${pipelines.length / m} distinct x ${race}) written to ${outPath}`);
}
