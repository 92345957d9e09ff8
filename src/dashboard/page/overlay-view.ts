import { getJson, type EpochRecord, type Summary } from './api.js';
import type { Chart } from './charts.js';
import { clear, h, notice, select } from './dom.js';
import { chartWidth, charts, throttle, type View } from './view.js';

type Metric = 'test_loss' | 'train_loss' | 'test_acc' | 'train_acc';
const settings = { metric: 'test_loss' as Metric, log: false };

/** The curves of runs selected in the table, one colour per run, growing live. */
export function overlayView(ids: number[]): View {
  const el = h('div', { class: 'overlay-view' });
  const box = h('div', { class: 'chart', id: 'overlay-chart' });
  let chart: Chart | undefined;
  let data: { runId: number; pipeline: string; history: EpochRecord[] }[] = [];
  let gone = false;
  if (ids.length === 0) {
    el.append(notice('Select runs in the Runs table (the check boxes), then "Overlay curves of selected".'));
    return { el };
  }
  const points = () =>
    data
      .flatMap((r) =>
        r.history.map((e) => ({ run: `#${r.runId} ${r.pipeline}`, epoch: e.epoch, value: e[settings.metric] })),
      )
      .filter((p) => typeof p.value === 'number' && Number.isFinite(p.value) && (!settings.log || p.value > 0));

  const redraw = async () => {
    chart?.finalize();
    chart = undefined;
    clear(box);
    const { draw, overlaySpec } = await charts();
    if (gone) return;
    chart = await draw(
      box,
      overlaySpec(settings.metric, chartWidth(el, 1000), settings.log),
      `overlay-${settings.metric}`,
      points(),
    );
    box.dataset.points = String(points().length);
  };
  const load = async (first: boolean) => {
    try {
      data = await getJson('/api/histories', new URLSearchParams({ ids: ids.join(',') }));
    } catch (e) {
      clear(el);
      el.append(notice((e as Error).message, 'error'));
      return;
    }
    if (first || !chart) await redraw();
    else {
      await chart.update(points());
      box.dataset.points = String(points().length);
    }
  };
  const controls = h(
    'div',
    { class: 'controls' },
    h(
      'label',
      {},
      'curve ',
      select(
        'metric',
        ['test_loss', 'train_loss', 'test_acc', 'train_acc'].map((m) => ({ value: m, label: m.replace('_', ' ') })),
        settings.metric,
        (v) => {
          settings.metric = v as Metric;
          void redraw();
        },
      ),
    ),
    h(
      'label',
      { class: 'check-label' },
      (() => {
        const c = h('input', {
          type: 'checkbox',
          checked: settings.log,
          onchange: () => {
            settings.log = c.checked;
            void redraw();
          },
        });
        return c;
      })(),
      ' log scale',
    ),
    h(
      'span',
      { class: 'muted' },
      `${ids.length} run${ids.length === 1 ? '' : 's'}: ${ids.join(', ')} · drag to pan, wheel to zoom`,
    ),
  );
  el.append(controls, box);
  void load(true);
  const refresh = throttle(() => void load(false), 1000);
  return {
    el,
    onSummary: (s: Summary, prev: Summary | undefined) => {
      if (prev && ids.some((id) => s.epochs[id] !== prev.epochs[id])) refresh();
    },
    dispose: () => {
      gone = true;
      chart?.finalize();
    },
  };
}
