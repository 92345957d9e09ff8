/** What user code imports from `mosaic-ml`. */
export type {
  Batch,
  BatchSource,
  DataModule,
  LossKind,
  LossModule,
  ModelModule,
  ModuleClass,
  ModuleInfo,
  ModuleParams,
  RunInfo,
} from './user/contracts.js';
export { trainTestBatches, batchesOf, type SplitOptions } from './user/batches.js';
export { streamedTrainTestBatches, type RowSource } from './user/streamed-batches.js';
export { readCsv, type CsvOptions, type CsvTable } from './user/csv.js';
export { readNpy, npyRows, openNpy, type NpyArray } from './user/npy.js';
export type { NpyData } from './user/npy-format.js';
export { readImageFolder, type ImageFolderOptions, type ImageSet } from './user/image-folder.js';
export { LayersModule, pytorchInitializers, seededInitializers } from './user/layers-module.js';
export { seededRandom, shuffled, type Random } from './user/random.js';
export { downloadFile, DownloadError } from './cache/download.js';
