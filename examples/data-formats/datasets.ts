import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type DataModule,
  type ModuleParams,
  npyRows,
  type RunInfo,
  readCsv,
  readImageFolder,
  readNpy,
  trainTestBatches,
} from 'mosaic-ml';

/** Data files are named relative to this file (scripts/make-data-files.py wrote them). */
const here = path.dirname(fileURLToPath(import.meta.url));

/** Common to the three: the split and batches by the run's seed, and what the models need to know. */
abstract class labelled_data implements DataModule {
  batchSize: number;
  inputSize = 0;
  classes = 0;

  constructor(p: ModuleParams) {
    this.batchSize = p.batch_size;
  }

  abstract prepare(data: unknown, runInfo: RunInfo): unknown;

  protected split(x: ArrayLike<ArrayLike<number>>, y: ArrayLike<number>, runInfo: RunInfo) {
    this.inputSize = x[0]!.length;
    this.classes = new Set(Array.from(y)).size;
    return trainTestBatches(x, y, { batchSize: this.batchSize, seed: runInfo.seed });
  }

  info() {
    return { batch_size: this.batchSize, input_size: this.inputSize, output_size: this.classes };
  }
}

/** A CSV file: numeric feature columns and one column of class names. */
export class csv_file extends labelled_data {
  file: string;
  target: string;
  constructor(p: ModuleParams) {
    super(p);
    this.file = p.file;
    this.target = p.target;
  }
  async prepare(_data: unknown, runInfo: RunInfo) {
    const table = await readCsv(path.join(here, this.file), { target: this.target });
    return this.split(table.x, table.y as number[], runInfo);
  }
}

/** Two .npy files written by numpy: the samples (2-D) and their classes (1-D integers). */
export class npy_files extends labelled_data {
  xFile: string;
  yFile: string;
  constructor(p: ModuleParams) {
    super(p);
    this.xFile = p.x_file;
    this.yFile = p.y_file;
  }
  prepare(_data: unknown, runInfo: RunInfo) {
    const x = npyRows(readNpy(path.join(here, this.xFile))) as ArrayLike<ArrayLike<number>>;
    return this.split(x, readNpy(path.join(here, this.yFile)).data, runInfo);
  }
}

/** A folder of PNG images by class (`folder/<class>/*.png`), flattened to rows of pixels in [0, 1]. */
export class png_folder extends labelled_data {
  folder: string;
  constructor(p: ModuleParams) {
    super(p);
    this.folder = p.folder;
  }
  prepare(_data: unknown, runInfo: RunInfo) {
    const images = readImageFolder(path.join(here, this.folder));
    return this.split(images.x, images.y, runInfo);
  }
}
