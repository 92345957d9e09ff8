import { tfjs } from '../../tfjs/tfjs.js';
import type { Claim, RunRecorder } from '../../store/types.js';
import type { Chain } from '../chain/chain.js';
import { parameterCount } from '../chain/chain.js';
import type { BackendName, BackendSetting } from '../../core/names.js';
import { useBackend } from '../../tfjs/backends.js';

/** Layers whose work wasm (XNNPACK, SIMD) does many times faster than the pure-JS cpu backend. */
const HEAVY_LAYERS = /conv|pool|lstm|gru|rnn|attention/i;

/**
 * Below this many multiply-adds per step (parameters × batch size), a model is bound by the
 * per-op overhead, where cpu is as fast or faster than wasm (measured here: the tutorial's
 * 30-parameter MLP at batch 1 takes 0.17 s an epoch on cpu, 0.27 s on wasm; from about 20,000
 * parameters × samples up, wasm wins, 4× at 20,000 parameters × 64).
 */
export const WASM_FROM_WORK = 20_000;

export interface BackendChoice {
  backend: BackendName;
  /** Why, in a few words, for `params.backend_used` and status. */
  reason: string;
}

/** `backend = auto`: the fast backend for this run's model, by a documented rule. */
export function chooseBackend(chain: Chain, replicas = 1): BackendChoice {
  const layers = chain.models.flatMap(({ module }) => {
    const model = (module as { model?: unknown }).model;
    return model instanceof tfjs.LayersModel ? model.layers.map((l) => l.getClassName()) : [];
  });
  const heavy = [...new Set(layers.filter((name) => HEAVY_LAYERS.test(name)))];
  if (heavy.length > 0) return { backend: 'wasm', reason: `auto: ${heavy.join(', ')} layers` };
  const params = parameterCount(chain.variables);
  const batch = Number(chain.runInfo.batch_size) || 1;
  const work = params * batch * replicas;
  const what = `${params} parameters x batch ${batch}${replicas > 1 ? ` x ${replicas} runs in a pack` : ''}`;
  return work >= WASM_FROM_WORK
    ? { backend: 'wasm', reason: `auto: ${what}` }
    : { backend: 'cpu', reason: `auto: small model, ${what}` };
}

/** The backend a run's chain is built on: the one set, or cpu until `auto` has seen the model. */
export async function useBuildBackend(setting: BackendSetting): Promise<void> {
  await useBackend(setting === 'auto' ? 'cpu' : setting);
}

/**
 * Makes the run's backend active, once its chain is built (built on cpu with `auto`: its tensors
 * move to the chosen backend on first use), and records the choice in `params.backend_used`.
 */
export async function settleBackend(
  store: RunRecorder,
  claims: Claim[],
  setting: BackendSetting,
  chain: Chain,
  replicas = 1,
): Promise<void> {
  const choice = setting === 'auto' ? chooseBackend(chain, replicas) : { backend: setting, reason: 'set in [PROCESS]' };
  await useBackend(choice.backend);
  const pack = replicas > 1 ? `; trained in a pack of ${replicas}` : '';
  for (const claim of claims)
    await store.recordFacts(claim, { backend_used: `${choice.backend} (${choice.reason}${pack})` });
}
