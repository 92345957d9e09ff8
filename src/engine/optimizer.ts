import type * as tf from '@tensorflow/tfjs';
import { tfjs } from './tfjs.js';
import type { OptimizerName } from './names.js';

export function makeOptimizer(name: OptimizerName, lr: number): tf.Optimizer {
  switch (name) {
    case 'adam':
      return tfjs.train.adam(lr);
    case 'sgd':
      return tfjs.train.sgd(lr);
    case 'rmsprop':
      return tfjs.train.rmsprop(lr);
    case 'adagrad':
      return tfjs.train.adagrad(lr);
    case 'adadelta':
      return tfjs.train.adadelta(lr);
    case 'adamax':
      return tfjs.train.adamax(lr);
    case 'momentum':
      return tfjs.train.momentum(lr, 0.9);
  }
}
