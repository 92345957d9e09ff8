import { getJson, type EpochRecord, type Summary } from './api.js';
import type { Chart } from './charts.js';
import { clear, h, notice, statusChip } from './dom.js';
import { significant } from '../../core/format.js';
import { RESULT_FIELDS } from '../../core/result-fields.js';
import { duration } from './format.js';
import { chartWidth, charts, type View } from './view.js';

interface RunDetail {
  runId: number;
  status: string;
  pipeline: string;
  returnStatus: string | null;
  traceback: string | null;
  results: Record<string, number | null> | null;
  epochsDone: number;
  epochsTarget: number;
  device: string | null;
  metrics: Record<string, number | null>;
  lastFailure: { attempt: number; epoch: number; status: string; message: string } | null;
  facts: Record<string, string>;
  runDir: string | null;
  seed: string | null;
  history: EpochRecord[];
}

const RESULT_ORDER = RESULT_FIELDS.map((f) => f.name);
const HIDDEN_FACTS = new Set(['pipeline', 'traceback', 'status']);

/** One run: its facts, results, curves growing live, and the full trace of an error. */
export function runView(id: number): View {
  const el = h('div', { class: 'run-view' });
  const curves: { loss?: Chart; acc?: Chart } = {};
  let detail: RunDetail | undefined;
  let gone = false;

  const load = async () => {
    try {
      detail = await getJson<RunDetail>(`/api/runs/${id}`);
    } catch (e) {
      clear(el);
      el.append(notice((e as Error).message, 'error'));
      return;
    }
    if (!gone) await draw(detail);
  };

  async function draw(d: RunDetail) {
    for (const c of Object.values(curves)) c?.finalize();
    delete curves.loss;
    delete curves.acc;
    clear(el);
    const keys = [d.facts.data_scheme, d.facts.pipeline_scheme]
      .join(',')
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean)
      .map((t) => d.facts[`${t}_key`] ?? '?');
    el.append(
      h(
        'div',
        { class: 'run-head' },
        h('h2', {}, `Run ${d.runId} `, statusChip(d.status)),
        h('div', { class: 'pipeline' }, d.pipeline),
        h('div', { class: 'keys' }, keys.join(' | ')),
      ),
    );
    const info: [string, string][] = [
      ['epochs', `${d.epochsDone} / ${d.epochsTarget}`],
      ['seed', d.seed ?? ''],
      ['device', d.device ?? ''],
      ['checkpoints', d.runDir ?? ''],
      ['return status', d.returnStatus ?? ''],
    ];
    if (d.facts.backend_used) info.push(['backend', d.facts.backend_used]);
    el.append(
      h(
        'dl',
        { class: 'info' },
        ...info.filter(([, v]) => v).flatMap(([k, v]) => [h('dt', {}, k), h('dd', { 'data-field': k }, v)]),
      ),
    );
    if (d.traceback)
      el.append(
        h(
          'div',
          { class: 'trace' },
          h('h3', {}, d.status === 'diverged' ? 'Why it diverged' : 'Error'),
          h('pre', { 'data-field': 'traceback' }, d.traceback),
        ),
      );
    if (d.lastFailure && d.status === 'done')
      el.append(
        notice(
          `Its last continuation failed at epoch ${d.lastFailure.epoch} (${d.lastFailure.status}): ${d.lastFailure.message}; the results stand.`,
        ),
      );
    const grid = h('div', { class: 'charts two' });
    const lossBox = h('div', { class: 'chart', id: 'loss-chart' });
    const accBox = h('div', { class: 'chart', id: 'acc-chart' });
    grid.append(lossBox, accBox);
    el.append(grid);
    if (d.results) {
      el.append(
        h('h3', {}, 'Results'),
        h(
          'table',
          { class: 'kv' },
          h(
            'tbody',
            {},
            ...RESULT_ORDER.filter((k) => d.results![k] !== undefined && d.results![k] !== null).map((k) =>
              h(
                'tr',
                {},
                h('th', {}, k === 'duration_s' ? 'duration (s)' : k),
                h(
                  'td',
                  { class: 'num' },
                  k === 'duration_s'
                    ? `${significant(d.results![k])} (${duration(d.results![k]!)})`
                    : significant(d.results![k]),
                ),
              ),
            ),
            ...Object.entries(d.metrics).map(([k, v]) =>
              h('tr', {}, h('th', {}, `${k} (logged)`), h('td', { class: 'num' }, significant(v))),
            ),
          ),
        ),
      );
    }
    const facts = Object.entries(d.facts)
      .filter(([k]) => !HIDDEN_FACTS.has(k))
      .sort(([a], [b]) => a.localeCompare(b));
    el.append(
      h('h3', {}, 'Parameters'),
      h(
        'table',
        { class: 'kv params' },
        h('tbody', {}, ...facts.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v)))),
      ),
    );
    await drawCurves(d, lossBox, accBox);
  }

  async function drawCurves(d: RunDetail, lossBox: HTMLElement, accBox: HTMLElement) {
    const history = d.history;
    if (history.length === 0) {
      // axes over no data would only say "Infinite extent": a line says it instead
      lossBox.append(h('div', { class: 'muted empty', id: 'no-epoch' }, 'No epoch recorded yet.'));
      accBox.remove();
      return;
    }
    const { draw: embed, curveSpec, curvePoints } = await charts();
    if (gone) return;
    const width = chartWidth(lossBox, 560);
    lossBox.dataset.points = String(history.length);
    curves.loss = await embed(
      lossBox,
      curveSpec('loss', width, d.epochsTarget <= 60),
      `run-${id}-loss`,
      curvePoints(history, 'loss'),
    );
    if (history.some((e) => e.test_acc !== null || e.train_acc !== null)) {
      accBox.dataset.points = String(history.length);
      curves.acc = await embed(
        accBox,
        curveSpec('acc', width, d.epochsTarget <= 60),
        `run-${id}-accuracy`,
        curvePoints(history, 'acc'),
      );
    } else {
      accBox.append(h('div', { class: 'muted empty' }, 'No accuracy for this loss.'));
    }
  }

  /** A new epoch: the curves gain it without redrawing the page. */
  async function grow() {
    if (!detail || !curves.loss) return load();
    const history = await getJson<EpochRecord[]>(`/api/runs/${id}/history`);
    if (gone) return;
    const { curvePoints } = await charts();
    await curves.loss.update(curvePoints(history, 'loss'));
    document.getElementById('loss-chart')!.dataset.points = String(history.length);
    if (curves.acc) {
      await curves.acc.update(curvePoints(history, 'acc'));
      document.getElementById('acc-chart')!.dataset.points = String(history.length);
    } else if (history.some((e) => e.test_acc !== null)) return load();
    const field = el.querySelector('[data-field="epochs"]');
    if (field) field.textContent = `${history.length} / ${detail.epochsTarget}`;
  }

  void load();
  return {
    el,
    onSummary: (s: Summary, prev: Summary | undefined) => {
      if (!prev || !detail) return;
      const running = s.running.some((r) => r.runId === id);
      if ((detail.status === 'running') !== running) void load();
      else if (running && s.epochs[id] !== prev.epochs[id]) void grow();
    },
    dispose: () => {
      gone = true;
      for (const c of Object.values(curves)) c?.finalize();
    },
  };
}
