import embed, { type VisualizationSpec } from 'vega-embed';
import { expressionInterpreter } from 'vega-interpreter';
import type { EpochRecord } from './api.js';
import { h } from './dom.js';

/**
 * Charts, loaded on first use (a chunk of its own: the runs table paints without vega). Vega
 * evaluates expressions with its interpreter (`ast: true`), so the page's Content-Security-Policy
 * forbids eval; vega-embed's and the tooltip's injected styles are off (style.css has them).
 */
const OPTIONS = {
  actions: false,
  renderer: 'svg' as const,
  ast: true,
  expr: expressionInterpreter,
  defaultStyle: false,
  tooltip: { disableDefaultStyle: true },
};

export interface Chart {
  /** Replaces the values of the named dataset `points` and redraws. */
  update(values: object[]): Promise<void>;
  finalize(): void;
}

/** Draws `spec` into `el`, with SVG and PNG download buttons named `name`; `values`: the first values of the dataset `points`. */
export async function draw(el: HTMLElement, spec: object, name: string, values?: object[]): Promise<Chart> {
  const target = h('div', { class: 'vega' });
  el.append(target, downloadBar());
  const full = values ? { ...spec, data: { name: 'points', values } } : spec;
  const result = await embed(target, full as VisualizationSpec, OPTIONS);
  const view = result.view;
  const bar = el.lastElementChild as HTMLElement;
  bar.append(
    h(
      'button',
      {
        class: 'btn small',
        type: 'button',
        'data-download': 'svg',
        onclick: async () =>
          save(URL.createObjectURL(new Blob([await view.toSVG()], { type: 'image/svg+xml' })), `${name}.svg`),
      },
      'SVG',
    ),
    h(
      'button',
      {
        class: 'btn small',
        type: 'button',
        'data-download': 'png',
        onclick: async () => save(await view.toImageURL('png', 2), `${name}.png`),
      },
      'PNG',
    ),
  );
  el.dataset.ready = '1';
  return {
    async update(values: object[]) {
      view.data('points', values);
      // autosize: axes and legend take the room the new values need
      await view.resize().runAsync();
    },
    finalize: () => result.finalize(),
  };
}

function downloadBar(): HTMLElement {
  return h('div', { class: 'downloads' }, h('span', { class: 'muted' }, 'Download'));
}

function save(href: string, file: string): void {
  const a = h('a', { href, download: file });
  document.body.append(a);
  a.click();
  a.remove();
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const CONFIG = {
  font: 'DejaVu Sans, system-ui, sans-serif',
  axis: {
    labelFontSize: 11,
    titleFontSize: 12,
    grid: true,
    gridColor: '#eceef2',
    domainColor: '#9aa1ad',
    tickColor: '#9aa1ad',
  },
  legend: { labelFontSize: 11, titleFontSize: 11, orient: 'bottom' },
  title: { fontSize: 13, anchor: 'start', subtitleColor: '#5b6472' },
  view: { stroke: '#d9dde3' },
  background: 'white',
};
const ZOOM = [{ name: 'zoom', select: { type: 'interval' }, bind: 'scales' }];

/** Loss (or accuracy) against epoch of one run: train solid, test dashed, as plotloss draws them. */
export function curveSpec(kind: 'loss' | 'acc', width: number, points = true): object {
  return {
    $schema: SCHEMA,
    width,
    height: 260,
    title: kind === 'loss' ? 'Loss' : 'Accuracy',
    data: { name: 'points' },
    mark: { type: 'line', strokeWidth: 2, point: points ? { size: 22, filled: true } : false, tooltip: true },
    params: ZOOM,
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1 } },
      y: { field: 'value', type: 'quantitative', title: kind === 'loss' ? 'loss' : 'accuracy', scale: { zero: false } },
      color: {
        field: 'curve',
        type: 'nominal',
        title: null,
        scale: { domain: ['train', 'test'], range: ['#1f77b4', '#d62728'] },
      },
      strokeDash: {
        field: 'curve',
        type: 'nominal',
        title: null,
        scale: {
          domain: ['train', 'test'],
          range: [
            [1, 0],
            [5, 3],
          ],
        },
      },
    },
    config: CONFIG,
  };
}

export function curvePoints(history: EpochRecord[], kind: 'loss' | 'acc'): object[] {
  return history
    .flatMap((e) =>
      kind === 'loss'
        ? [
            { epoch: e.epoch, value: e.train_loss, curve: 'train' },
            { epoch: e.epoch, value: e.test_loss, curve: 'test' },
          ]
        : [
            { epoch: e.epoch, value: e.train_acc, curve: 'train' },
            { epoch: e.epoch, value: e.test_acc, curve: 'test' },
          ],
    )
    .filter((p) => typeof p.value === 'number' && Number.isFinite(p.value));
}

/** Several runs' curves of one metric, a colour per run. */
export function overlaySpec(metric: string, width: number, logScale: boolean): object {
  return {
    $schema: SCHEMA,
    width,
    height: 380,
    data: { name: 'points' },
    mark: { type: 'line', strokeWidth: 2, tooltip: true },
    params: ZOOM,
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1 } },
      y: { field: 'value', type: 'quantitative', title: metric, scale: logScale ? { type: 'log' } : { zero: false } },
      color: { field: 'run', type: 'nominal', title: 'run', legend: { labelLimit: 420, columns: 2 } },
      tooltip: [{ field: 'run' }, { field: 'epoch' }, { field: 'value', title: metric, format: '.4~g' }],
    },
    config: CONFIG,
  };
}
