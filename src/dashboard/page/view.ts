import type { Summary } from './api.js';

/** A view of the page (runs, a run, overlay, compare, figures): drawn into `el`, told of every live change. */
export interface View {
  el: HTMLElement;
  onSummary?(s: Summary, previous: Summary | undefined): void;
  dispose?(): void;
}

/** The charts chunk, loaded once when a chart is first drawn. */
export const charts = () => import('./charts.js');

/** Calls `fn` at most once every `ms`, the last call kept. */
export function throttle(fn: () => void, ms: number): () => void {
  let last = 0;
  let timer: number | undefined;
  return () => {
    const wait = last + ms - Date.now();
    if (wait <= 0) {
      last = Date.now();
      fn();
    } else if (timer === undefined) {
      timer = window.setTimeout(() => {
        timer = undefined;
        last = Date.now();
        fn();
      }, wait);
    }
  };
}

export function debounce<A extends unknown[]>(fn: (...a: A) => void, ms: number): (...a: A) => void {
  let timer: number | undefined;
  return (...a: A) => {
    clearTimeout(timer);
    timer = window.setTimeout(() => fn(...a), ms);
  };
}

/** Width for a chart in a container, leaving room for axes and legend. */
export const chartWidth = (el: HTMLElement, max = 900) => Math.max(320, Math.min(max, (el.clientWidth || 900) - 110));
