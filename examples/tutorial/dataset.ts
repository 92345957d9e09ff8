import { trainTestBatches, type DataModule, type ModuleParams, type RunInfo } from 'mosaic-ml';

/** The logical OR gate: random pairs of bits and their OR. */
export class dataset_OR implements DataModule {
  batchSize: number;
  dataSize: number;
  trainProp: number;

  constructor(p: ModuleParams) {
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
    const y = x.map(([a, b]) => [a! | b!]);
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
