// The experiment of the bench's image workloads (bench/workloads/classes.ts: random 28x28 images,
// batch 64, 51 train and 13 test batches a epoch), shared by vs-pytorch.mjs and loop-overhead.mjs.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CLASSES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'classes.ts');

/** The config of `model` (mlp_784 or small_cnn) for `epochs`, on `workers` workers, `multiplicity` repeats, an optional backend. */
export function imageConfig(model, epochs, workers = 1, multiplicity = 1, backend = '') {
  return `[PROCESS]
lr = 1e-3
epochs = ${epochs}
data_scheme = data
pipeline_scheme = net
loss_function = MSELoss
${backend ? `backend = ${backend}` : ''}
[MONITOR]
nb_processus = ${workers}
multiplicity = ${multiplicity}
[data]
type = data
class = random_images
path_to_class = ${CLASSES}
key = random
batch_size = 64
train_size = 3276
test_size = 819
image = ${model === 'small_cnn' ? 'True' : 'False'}
[net]
type = net
class = ${model}
path_to_class = ${CLASSES}
key = ${model}
`;
}
