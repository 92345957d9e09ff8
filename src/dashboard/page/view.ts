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

/** A view's settings from the address (`#/compare?criterion=test_acc&at=width`): only the fields the form has. */
export function readForm<T extends Record<string, string>>(form: T, params: URLSearchParams): void {
  for (const key of Object.keys(form)) {
    const value = params.get(key);
    if (value !== null) (form as Record<string, string>)[key] = value;
  }
}

/** Writes a view's settings into the address, so that it can be shared or reloaded; no new history entry, no new route. */
export function writeForm(view: string, form: Record<string, string>): void {
  const query = new URLSearchParams(Object.entries(form).filter(([, v]) => v)).toString();
  history.replaceState(null, '', `#/${view}${query ? `?${query}` : ''}`);
}
