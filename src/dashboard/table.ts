import { compareValues, factNamed, sameValue } from '../analysis/params.js';
import { RUN_STATUSES, type RunStatus } from '../core/run-records.js';
import { TABLE_FIELDS } from '../core/result-fields.js';
import { HttpError, integer, text, texts, type Query } from './http-errors.js';
import type { Snapshot, TableRow } from './snapshot.js';

/** The runs table's query: filters, sort, one page. Pages are bounded: the page never gets thousands of rows at once. */
export interface TableQuery {
  statuses: RunStatus[];
  dataKey?: string;
  modelKey?: string;
  params: { name: string; op: '=' | '<=' | '>='; value: string }[];
  search?: string;
  sort: string;
  descending: boolean;
  offset: number;
  limit: number;
}

export const MAX_PAGE = 500;
const SORTS: readonly string[] = [
  'runId',
  'status',
  'pipeline',
  'dataKey',
  'modelKey',
  'epochsDone',
  ...TABLE_FIELDS.map((f) => f.name),
];

export function tableQuery(q: Query): TableQuery {
  const statuses = texts(q, 'status', RUN_STATUSES.length)
    .flatMap((s) => s.split(','))
    .filter(Boolean);
  for (const s of statuses)
    if (!(RUN_STATUSES as readonly string[]).includes(s))
      throw new HttpError(400, `unknown status "${s}"; one of ${RUN_STATUSES.join(', ')}`);
  const params = texts(q, 'param', 10).map((p) => {
    const m = /^([^<>=]+?)\s*(<=|>=|=)\s*(.*)$/.exec(p);
    if (!m) throw new HttpError(400, `a parameter filter is NAME=VALUE, NAME<=VALUE or NAME>=VALUE, not "${p}"`);
    return { name: m[1]!.trim(), op: m[2] as '=' | '<=' | '>=', value: m[3]!.trim() };
  });
  const sort = text(q, 'sort') ?? 'runId';
  if (!SORTS.includes(sort) && !sort.startsWith('param:')) throw new HttpError(400, `cannot sort by "${sort}"`);
  const dir = text(q, 'dir') ?? 'asc';
  if (dir !== 'asc' && dir !== 'desc') throw new HttpError(400, '"dir" is asc or desc');
  const dataKey = text(q, 'data');
  const modelKey = text(q, 'model');
  const search = text(q, 'q');
  return {
    statuses: statuses as RunStatus[],
    ...(dataKey !== undefined ? { dataKey } : {}),
    ...(modelKey !== undefined ? { modelKey } : {}),
    params,
    ...(search !== undefined ? { search: search.toLowerCase() } : {}),
    sort,
    descending: dir === 'desc',
    offset: integer(q, 'offset', 0, 10_000_000, 0),
    limit: integer(q, 'limit', 1, MAX_PAGE, 100),
  };
}

/** Whether a row passes a parameter filter: `width` finds `mlp_width`; values compare as numbers when both are. */
function paramMatches(row: TableRow, f: TableQuery['params'][number]): boolean {
  const name = factNamed(row.params, f.name, row.runId);
  const v = name === undefined ? undefined : row.params[name];
  if (v === undefined) return false;
  if (f.op === '=') return sameValue(v, f.value);
  const c = compareValues(v, f.value);
  return f.op === '<=' ? c <= 0 : c >= 0;
}

function matches(row: TableRow, q: TableQuery): boolean {
  if (q.statuses.length && !q.statuses.includes(row.status)) return false;
  if (q.dataKey !== undefined && row.dataKey !== q.dataKey) return false;
  if (q.modelKey !== undefined && row.modelKey !== q.modelKey) return false;
  for (const f of q.params) if (!paramMatches(row, f)) return false;
  if (q.search !== undefined) {
    const hay = `${row.runId} ${row.status} ${row.pipeline} ${row.dataKey} ${row.modelKey} ${Object.entries(row.params)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`.toLowerCase();
    if (!hay.includes(q.search)) return false;
  }
  return true;
}

/** Missing values sort last whichever the direction. */
function sorter(q: TableQuery): (a: TableRow, b: TableRow) => number {
  const param = q.sort.startsWith('param:') ? q.sort.slice(6) : undefined;
  const get = (r: TableRow): string | number | null =>
    param !== undefined ? (r.params[param] ?? null) : (r[q.sort as keyof TableRow] as string | number | null);
  const sign = q.descending ? -1 : 1;
  return (a, b) => {
    const [x, y] = [get(a), get(b)];
    if (
      x === null ||
      y === null ||
      (typeof x === 'number' && !Number.isFinite(x)) ||
      (typeof y === 'number' && !Number.isFinite(y))
    ) {
      const [mx, my] = [
        x === null || (typeof x === 'number' && !Number.isFinite(x)),
        y === null || (typeof y === 'number' && !Number.isFinite(y)),
      ];
      if (mx !== my) return mx ? 1 : -1;
      if (mx) return a.runId - b.runId;
    }
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : compareValues(String(x), String(y));
    return c !== 0 ? sign * c : a.runId - b.runId;
  };
}

/** The rows the query selects, sorted (all of them: the page or the CSV takes its part). */
export function selectRows(snapshot: Snapshot, q: TableQuery): TableRow[] {
  const rows = snapshot.rows.filter((r) => matches(r, q));
  return q.sort === 'runId' && !q.descending ? rows : rows.sort(sorter(q));
}

export function tablePage(snapshot: Snapshot, q: TableQuery) {
  const rows = selectRows(snapshot, q);
  return {
    total: snapshot.rows.length,
    matched: rows.length,
    offset: q.offset,
    rows: rows.slice(q.offset, q.offset + q.limit),
    columns: snapshot.varying,
    labels: snapshot.labels,
  };
}

/** The table as CSV: the selected rows, every column, every parameter. */
export function tableCsv(snapshot: Snapshot, q: TableQuery): string {
  const rows = selectRows(snapshot, q);
  const params = [...snapshot.varying, ...snapshot.constant];
  const head = [
    'run_id',
    'status',
    'pipeline',
    'dataset_key',
    'model_key',
    'epochs_done',
    'epochs_target',
    ...TABLE_FIELDS.map((f) => f.name),
    ...params,
  ];
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? '' : String(v);
    // A cell a spreadsheet would run as a formula is written as text.
    const safe = /^[=+\-@\t\r]/.test(s) && !/^-?[\d.]+(e[-+]?\d+)?$/i.test(s) ? `'${s}` : s;
    return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  const lines = rows.map((r) =>
    [
      r.runId,
      r.status,
      r.pipeline,
      r.dataKey,
      r.modelKey,
      r.epochsDone,
      r.epochsTarget,
      ...TABLE_FIELDS.map((f) => r[f.name]),
      ...params.map((p) => r.params[p]),
    ]
      .map(cell)
      .join(','),
  );
  return `${[head.join(','), ...lines].join('\n')}\n`;
}
