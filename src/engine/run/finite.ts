import type * as tf from '@tensorflow/tfjs';
import { tfjs } from '../../tfjs/tfjs.js';
import { SimdKernels } from '../../tfjs/wasm/simd-kernels.js';
import type { Batch } from '../../user/contracts.js';
import { asBatch, type Chain } from '../chain/chain.js';
import { chainLayers } from '../chain/chain-layers.js';

/**
 * Values that are not numbers (NaN, ±Infinity). In the data they train silently into NaN weights
 * (a ReLU on wasm turns NaN activations into zeros, so the losses stay finite): the first pass over
 * a data class's batches refuses them, naming the data class, the batch, the row and the feature.
 * In the weights they are checked at every epoch's end (a scan or a reduction per variable), and
 * name the layer. A run alone (`run.ts`) and a pack (`pack.ts`) check the same, and say the same.
 */

/** The data hold a value that is not a finite number: the run ends in error. */
export class NonFiniteDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NonFiniteDataError';
  }
}

/** Whether every value of `t` is finite: a scan of its values on cpu and wasm (no op), one reduction elsewhere. */
function allFinite(t: tf.Tensor): boolean {
  if (t.dtype !== 'float32') return true;
  const backend = tfjs.getBackend();
  if (backend === 'cpu' || backend === 'wasm') {
    // NaN and ±Infinity propagate through a sum in doubles, which float32 values cannot overflow.
    const values = t.dataSync();
    let sum = 0;
    for (let i = 0; i < values.length; i++) sum += values[i]!;
    return Number.isFinite(sum);
  }
  const all = tfjs.tidy(() => t.isFinite().all());
  const finite = all.dataSync()[0] === 1;
  all.dispose();
  return finite;
}

const kindOf = (v: number) => (Number.isNaN(v) ? 'NaN' : String(v));

/**
 * Refuses a batch whose inputs or targets are not all finite, naming the data class, the source
 * (train or test), the batch, the row and the feature (indices from 0, as the tensors count them).
 */
export function checkBatchFinite(b: Batch, source: 'train' | 'test', index: number, data: string): void {
  for (const [what, t] of [
    ['inputs', b.x],
    ['targets', b.y],
  ] as const) {
    if (allFinite(t)) continue;
    const values = t.dataSync();
    let first = -1;
    let count = 0;
    for (let i = 0; i < values.length; i++) {
      if (Number.isFinite(values[i]!)) continue;
      if (first < 0) first = i;
      count++;
    }
    const perRow = t.shape.slice(1).reduce((a, d) => a * d, 1);
    const row = Math.floor(first / perRow);
    const inner: number[] = [];
    let rest = first % perRow;
    for (let d = t.shape.length - 1; d >= 1; d--) {
      inner.unshift(rest % t.shape[d]!);
      rest = Math.floor(rest / t.shape[d]!);
    }
    const feature =
      inner.length === 0
        ? ''
        : `, ${what === 'inputs' ? 'feature' : 'column'} ${inner.length === 1 ? inner[0] : `(${inner.join(', ')})`}`;
    const others = count > 1 ? `; ${count} values of that batch are not finite` : '';
    throw new NonFiniteDataError(
      `${data}: ${kindOf(values[first]!)} in the ${what} of ${source} batch ${index}, row ${row}${feature} (indices from 0${others}): Mosaic trains on finite numbers only`,
    );
  }
}

/** `checkBatchFinite` over every batch of an array source, in order. */
export function checkBatchesFinite(batches: unknown[], source: 'train' | 'test', data: string): void {
  batches.forEach((item, i) => {
    checkBatchFinite(asBatch(item as never), source, i, data);
  });
}

/** What the user knows a weight by: its layer (name, position, model class) and which of its variables. */
function weightNames(chain: Chain): Map<tf.Variable, { layer: string; variable: string }> {
  const names = new Map<tf.Variable, { layer: string; variable: string }>();
  for (const { layer, position, owner } of chainLayers(chain)) {
    for (const w of layer.weights) {
      const variable = w.read() as tf.Variable;
      if (names.has(variable)) continue;
      const short = w.originalName.split('/').pop() ?? w.originalName;
      names.set(variable, {
        layer: `layer ${layer.name} (layer ${position} of ${owner}, ${layer.getClassName()})`,
        variable: short,
      });
    }
  }
  return names;
}

/** How a variable's bad values are said: which layer, which of its variables, how many of its values. */
function describe(chain: Chain, variable: tf.Variable, values: ArrayLike<number>, size: number): string {
  let nan = 0;
  let infinite = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) nan++;
    else if (!Number.isFinite(v)) infinite++;
  }
  const kind = nan > 0 && infinite > 0 ? 'NaN or infinite' : nan > 0 ? 'NaN' : 'infinite';
  const named = weightNames(chain).get(variable);
  const who = named ? `weights of ${named.layer}` : `weights ${variable.name} of the model chain`;
  const which = named ? `${named.variable}: ` : '';
  return `${who} are not finite (${which}${nan + infinite} of ${size} values ${kind})`;
}

/**
 * The first variable of a run alone whose values are not all finite, said with its layer, or
 * undefined. On wasm, a SIMD scan of each variable where it lies in the heap (~0.1 ms for the bench
 * MLP's 270,000 weights, against ~0.5 by reductions). Elsewhere one sum per variable, read back
 * once (a sum is not finite when a value is not, or, rarely, when finite values overflow: those
 * are then looked at one by one).
 */
export async function nonFiniteWeights(chain: Chain): Promise<string | undefined> {
  const variables = chain.variables;
  for (const j of await suspects(variables)) {
    const values = await variables[j]!.data();
    if (values.every((v) => Number.isFinite(v))) continue;
    return describe(chain, variables[j]!, values, values.length);
  }
  return undefined;
}

/** The indices of the variables that may hold a value that is not finite. */
async function suspects(variables: tf.Variable[]): Promise<number[]> {
  const simd = SimdKernels.of(tfjs.backend());
  if (simd && variables.every((v) => v.dtype === 'float32' && simd.inHeap(v)))
    return variables.flatMap((v, j) => (simd.anyNonFinite(v) ? [j] : []));
  const sums = tfjs.tidy(() => tfjs.stack(variables.map((v) => (v.dtype === 'float32' ? v.sum() : tfjs.scalar(0)))));
  const totals = await sums.data();
  sums.dispose();
  return variables.flatMap((_, j) => (Number.isFinite(totals[j]!) ? [] : [j]));
}

/**
 * The same for each replica of a pack, from its stacked (padded) weights `[R, …]`, read once per
 * epoch: for replica r, what `nonFiniteWeights` says of its run alone (undefined for the members
 * not given, those that have ended).
 */
export function nonFiniteReplicaWeights(
  weights: tf.Variable[],
  members: (Chain | undefined)[],
): (string | undefined)[] {
  const found: (string | undefined)[] = members.map(() => undefined);
  for (let j = 0; j < weights.length; j++) {
    const values = weights[j]!.dataSync();
    const per = values.length / members.length;
    members.forEach((chain, r) => {
      if (!chain || found[r] !== undefined) return;
      const slice = values.subarray(r * per, (r + 1) * per);
      let sum = 0;
      for (let i = 0; i < slice.length; i++) sum += slice[i]!;
      if (!Number.isFinite(sum)) found[r] = describe(chain, chain.variables[j]!, slice, chain.variables[j]!.size);
    });
  }
  return found;
}
