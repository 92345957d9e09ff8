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
export { LayersModule, pytorchInitializers, seededInitializers } from './user/layers-module.js';
export { seededRandom, shuffled, type Random } from './user/random.js';
export { downloadFile, DownloadError } from './cache/download.js';
