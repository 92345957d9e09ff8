/**
 * The names the config may use for losses, optimizers and backends, kept apart from the
 * TensorFlow.js code so that reading a config does not load TensorFlow.js.
 * Lookups are case-insensitive and ignore `_`/`-`.
 */
export const LOSS_NAMES = {
  // PyTorch names (the original's)
  mseloss: 'mse',
  l1loss: 'mae',
  bceloss: 'bce',
  bcewithlogitsloss: 'bce_logits',
  crossentropyloss: 'cross_entropy_logits',
  nllloss: 'nll',
  huberloss: 'huber',
  smoothl1loss: 'huber',
  kldivloss: 'kl_div_log',
  hingeembeddingloss: 'hinge',
  // TensorFlow.js (tf.losses) names
  meansquarederror: 'mse',
  absolutedifference: 'mae',
  logloss: 'bce',
  sigmoidcrossentropy: 'bce_logits',
  softmaxcrossentropy: 'cross_entropy_logits',
  huber: 'huber',
  hingeloss: 'hinge',
  // Keras-style (tf.metrics / model.compile) names
  mse: 'mse',
  mae: 'mae',
  meanabsoluteerror: 'mae',
  binarycrossentropy: 'bce',
  categoricalcrossentropy: 'cross_entropy_probs',
  sparsecategoricalcrossentropy: 'sparse_cross_entropy_probs',
  kld: 'kl_div_probs',
  kullbackleiblerdivergence: 'kl_div_probs',
} as const;

export type LossKind = (typeof LOSS_NAMES)[keyof typeof LOSS_NAMES];

export const OPTIMIZER_NAMES = ['adam', 'sgd', 'rmsprop', 'adagrad', 'adadelta', 'adamax', 'momentum'] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

export const BACKEND_NAMES = ['cpu', 'wasm', 'tensorflow'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
/** What `[PROCESS] backend` may say: a backend, or `auto` (chosen per run from the model). */
export const BACKEND_SETTINGS = ['auto', ...BACKEND_NAMES] as const;
export type BackendSetting = (typeof BACKEND_SETTINGS)[number];

function normalize(name: string): string {
  return name.trim().toLowerCase().replace(/[_-]/g, '');
}

export function lossKind(name: string): LossKind | undefined {
  return (LOSS_NAMES as Record<string, LossKind>)[normalize(name)];
}

/** Loss names as a user would write them, for error messages. */
export const LOSS_DISPLAY_NAMES = [
  'MSELoss',
  'L1Loss',
  'BCELoss',
  'BCEWithLogitsLoss',
  'CrossEntropyLoss',
  'NLLLoss',
  'HuberLoss',
  'SmoothL1Loss',
  'KLDivLoss',
  'HingeEmbeddingLoss',
  'meanSquaredError',
  'absoluteDifference',
  'logLoss',
  'sigmoidCrossEntropy',
  'softmaxCrossEntropy',
  'huberLoss',
  'hingeLoss',
  'binaryCrossentropy',
  'categoricalCrossentropy',
  'sparseCategoricalCrossentropy',
];

export function optimizerName(name: string): OptimizerName | undefined {
  const n = normalize(name);
  return (OPTIMIZER_NAMES as readonly string[]).includes(n) ? (n as OptimizerName) : undefined;
}
