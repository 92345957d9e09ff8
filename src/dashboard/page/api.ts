/** The dashboard's JSON API, as the page uses it. Errors carry the server's sentence. */
export class ApiError extends Error {}

export async function getJson<T>(path: string, params?: URLSearchParams): Promise<T> {
  const res = await fetch(params && [...params].length ? `${path}?${params}` : path, { credentials: 'same-origin' });
  const body = (await res.json().catch(() => ({ error: `${res.status} ${res.statusText}` }))) as T & { error?: string };
  if (!res.ok) throw new ApiError(body.error ?? `${res.status}`);
  return body;
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(path, { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const out = (await res.json().catch(() => ({ error: `${res.status}` }))) as T & { error?: string };
  if (!res.ok) throw new ApiError(out.error ?? `${res.status}`);
  return out;
}

export interface EpochRecord {
  epoch: number;
  train_loss: number;
  test_loss: number;
  train_acc: number | null;
  test_acc: number | null;
  duration_s: number;
}

export interface Summary {
  db: string;
  counts: Record<string, number>;
  total: number;
  paused: boolean;
  workersAlive: number;
  progress: number;
  remainingEpochs: number;
  etaSeconds: number | null;
  running: { runId: number; pipeline: string; epochsDone: number; epochsTarget: number; device: string | null; last: EpochRecord | null }[];
  epochs: Record<string, number>;
  hint: string | null;
  mark: string;
}

export interface Choices {
  statuses: string[];
  criteria: string[];
  modelTypes: string[];
  datasetKeys: string[];
  doneDatasetKeys: string[];
  modelKeys: string[];
  params: string[];
  varying: string[];
  at: string[];
}

export interface TableRow {
  runId: number;
  status: string;
  pipeline: string;
  dataKey: string;
  modelKey: string;
  epochsDone: number;
  epochsTarget: number;
  train_loss: number | null;
  test_loss: number | null;
  train_acc: number | null;
  test_acc: number | null;
  nb_params: number | null;
  duration_s: number | null;
  params: Record<string, string>;
}

export interface TablePage {
  total: number;
  matched: number;
  offset: number;
  rows: TableRow[];
  columns: string[];
}
