/** The dashboard's JSON API, as the page uses it. Errors carry the server's sentence. */
export class ApiError extends Error {}

export async function getJson<T>(path: string, params?: URLSearchParams): Promise<T> {
  const res = await fetch(params && [...params].length ? `${path}?${params}` : path, { credentials: 'same-origin' });
  const body = (await res.json().catch(() => ({ error: `${res.status} ${res.statusText}` }))) as T & { error?: string };
  if (!res.ok) throw new ApiError(body.error ?? `${res.status}`);
  return body;
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const out = (await res.json().catch(() => ({ error: `${res.status}` }))) as T & { error?: string };
  if (!res.ok) throw new ApiError(out.error ?? `${res.status}`);
  return out;
}

export type {
  AcrossDatasetsAnswer,
  CompareAnswer,
  EpochRecord,
  RaceAnswer,
  RaceView,
  Summary,
  TableRow,
} from '../api-types.js';

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

import type { TableRow } from '../api-types.js';

export interface TablePage {
  total: number;
  matched: number;
  offset: number;
  rows: TableRow[];
  columns: string[];
  /** Each column's title: a class parameter by its own name when that is unambiguous. */
  labels: Record<string, string>;
}
