import { trainTestBatches, type DataModule, type ModuleParams, type RunInfo } from 'mosaic-ml';

/** The eight two-input logic gates that depend on both inputs: a dataset each (key `gate_{op}`). */
const GATES: Record<string, (a: number, b: number) => number> = {
  and: (a, b) => a & b,
  or: (a, b) => a | b,
  xor: (a, b) => a ^ b,
  nand: (a, b) => 1 - (a & b),
  nor: (a, b) => 1 - (a | b),
  xnor: (a, b) => 1 - (a ^ b),
  a_and_not_b: (a, b) => a & (1 - b),
  a_implies_b: (a, b) => (1 - a) | b,
};

/** Random pairs of bits and the gate's output, split into train and test by the run's seed. */
export class gate implements DataModule {
  op: (a: number, b: number) => number;
  batchSize: number;
  dataSize: number;
  trainProp: number;

  constructor(p: ModuleParams) {
    const op = GATES[p.op as string];
    if (!op) throw new Error(`unknown gate "${p.op}"; known: ${Object.keys(GATES).join(', ')}`);
    this.op = op;
    this.batchSize = p.batch_size;
    this.dataSize = p.data_size;
    this.trainProp = p.train_prop;
  }

  prepare(_data: unknown, runInfo: RunInfo) {
    let state = runInfo.seed >>> 0;
    const bit = () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state >>> 31;
    };
    const x = Array.from({ length: this.dataSize }, () => [bit(), bit()]);
    const y = x.map(([a, b]) => [this.op(a!, b!)]);
    return trainTestBatches(x, y, {
      batchSize: this.batchSize,
      trainProportion: this.trainProp,
      seed: runInfo.seed,
      dropLast: true,
    });
  }

  info() {
    return { batch_size: this.batchSize, input_size: 2, output_size: 1 };
  }
}
