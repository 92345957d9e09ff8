import { getJson, type Choices, type Summary, type TablePage, type TableRow } from './api.js';
import { clear, h, notice, select, statusChip } from './dom.js';
import { significant } from '../../core/format.js';
import { TABLE_FIELDS } from '../../core/result-fields.js';
import { plural } from './format.js';
import { racePanel } from './race-view.js';
import { debounce, throttle, type View } from './view.js';

/** The table's state, kept while the page lives (coming back to the table finds it as left). */
const state = {
  statuses: new Set<string>(),
  data: '',
  model: '',
  params: [] as string[],
  q: '',
  sort: 'runId',
  dir: 'asc' as 'asc' | 'desc',
  offset: 0,
  limit: 100,
  selected: new Set<number>(),
};

const COLUMNS: { key: keyof TableRow; label: string; numeric?: boolean }[] = [
  { key: 'runId', label: 'id', numeric: true },
  { key: 'status', label: 'status' },
  { key: 'dataKey', label: 'dataset key' },
  { key: 'modelKey', label: 'model key' },
];
const RESULTS: { key: keyof TableRow; label: string }[] = TABLE_FIELDS.map((f) => ({
  key: f.name,
  label: f.tableLabel,
}));

export function query(withPage = true): URLSearchParams {
  const p = new URLSearchParams();
  for (const s of state.statuses) p.append('status', s);
  if (state.data) p.set('data', state.data);
  if (state.model) p.set('model', state.model);
  for (const f of state.params) p.append('param', f);
  if (state.q) p.set('q', state.q);
  if (state.sort !== 'runId' || state.dir !== 'asc') {
    p.set('sort', state.sort);
    p.set('dir', state.dir);
  }
  if (withPage) {
    p.set('offset', String(state.offset));
    p.set('limit', String(state.limit));
  }
  return p;
}

function drawEpochs(td: HTMLElement, running: boolean, done: number, target: number): void {
  clear(td);
  if (running) {
    const fill = h('span', { class: 'mini-fill' });
    fill.style.width = `${target ? (100 * done) / target : 0}%`;
    td.append(h('span', { class: 'mini-bar' }, fill), ' ');
  }
  td.append(`${done}/${target}`);
}

export function runsView(choicesLoaded: Promise<Choices>): View {
  let choices: Choices | undefined;
  const el = h('div', { class: 'runs-view' });
  const table = h('div', { class: 'table-wrap' });
  const pager = h('div', { class: 'pager' });
  const filters = h('div', { class: 'filters' });
  const actions = h('div', { class: 'actions' });
  const race = racePanel();
  el.append(race.el, filters, actions, table, pager);
  let page: TablePage | undefined;
  let loading = 0;

  const reload = async () => {
    const mine = ++loading;
    try {
      const p = await getJson<TablePage>('/api/runs', query());
      if (mine !== loading) return;
      page = p;
      drawTable();
    } catch (e) {
      clear(table);
      table.append(notice((e as Error).message, 'error'));
    }
  };
  const refresh = throttle(() => void reload(), 1500);
  const restart = () => {
    state.offset = 0;
    void reload();
  };

  function drawFilters() {
    if (!choices) return;
    clear(filters);
    const statusChips = h(
      'div',
      { class: 'status-filter', role: 'group', 'aria-label': 'status filter' },
      ...choices.statuses.map((s) =>
        h(
          'button',
          {
            type: 'button',
            class: `chip s-${s} toggle${state.statuses.has(s) ? ' on' : ''}`,
            'data-status': s,
            onclick: () => {
              if (state.statuses.has(s)) state.statuses.delete(s);
              else state.statuses.add(s);
              drawFilters();
              restart();
            },
          },
          s,
        ),
      ),
    );
    const search = h('input', {
      type: 'search',
      placeholder: 'search runs, keys, parameters…',
      value: state.q,
      name: 'q',
      'aria-label': 'search',
    });
    search.addEventListener(
      'input',
      debounce(() => {
        state.q = search.value.trim();
        restart();
      }, 200),
    );
    const keySelect = (name: string, all: string[], value: string, set: (v: string) => void) =>
      select(name, [{ value: '', label: `any ${name}` }, ...all.map((k) => ({ value: k }))], value, (v) => {
        set(v);
        restart();
      });
    const paramName = select(
      'parameter',
      choices.params.map((p) => ({ value: p })),
      choices.varying[0] ?? choices.params[0] ?? '',
      () => undefined,
    );
    const op = select(
      'operator',
      ['=', '<=', '>='].map((o) => ({ value: o })),
      '=',
      () => undefined,
    );
    const value = h('input', {
      type: 'text',
      placeholder: 'value',
      name: 'param-value',
      size: 8,
      'aria-label': 'parameter value',
    });
    const add = () => {
      if (!value.value.trim() || !paramName.value) return;
      state.params.push(`${paramName.value}${op.value}${value.value.trim()}`);
      drawFilters();
      restart();
    };
    value.addEventListener('keydown', (e) => e.key === 'Enter' && add());
    filters.append(
      h('div', { class: 'filter-row' }, statusChips, search),
      h(
        'div',
        { class: 'filter-row' },
        keySelect('dataset key', choices.datasetKeys, state.data, (v) => (state.data = v)),
        keySelect('model key', choices.modelKeys, state.model, (v) => (state.model = v)),
        h(
          'span',
          { class: 'param-filter' },
          paramName,
          op,
          value,
          h('button', { class: 'btn small', type: 'button', onclick: add, 'data-action': 'add-param' }, 'Add filter'),
        ),
        ...state.params.map((f, i) =>
          h(
            'span',
            { class: 'filter-chip' },
            f,
            h(
              'button',
              {
                type: 'button',
                class: 'x',
                'aria-label': `remove ${f}`,
                onclick: () => {
                  state.params.splice(i, 1);
                  drawFilters();
                  restart();
                },
              },
              '×',
            ),
          ),
        ),
      ),
    );
  }

  function drawActions() {
    clear(actions);
    const n = state.selected.size;
    actions.append(
      h(
        'a',
        { class: 'btn', href: `/api/runs.csv?${query(false)}`, download: 'mosaic-runs.csv', 'data-action': 'csv' },
        'Download CSV',
      ),
      h(
        'a',
        {
          class: `btn${n ? ' primary' : ' disabled'}`,
          href: n ? `#/overlay?ids=${[...state.selected].sort((a, b) => a - b).join(',')}` : undefined,
          'data-action': 'overlay',
          'aria-disabled': n ? undefined : 'true',
        },
        `Overlay curves of selected (${n})`,
      ),
    );
    if (n)
      actions.append(
        h(
          'button',
          {
            class: 'btn',
            type: 'button',
            onclick: () => {
              state.selected.clear();
              drawTable();
            },
          },
          'Clear selection',
        ),
      );
  }

  function sortHeader(key: string, label: string, numeric = false) {
    const active = state.sort === key;
    return h(
      'th',
      {
        class: `sortable${numeric ? ' num' : ''}${active ? ' active' : ''}`,
        'data-sort': key,
        title: `sort by ${label}`,
        onclick: () => {
          state.dir = active && state.dir === 'asc' ? 'desc' : 'asc';
          state.sort = key;
          restart();
        },
      },
      label,
      active ? h('span', { class: 'arrow' }, state.dir === 'asc' ? ' ▲' : ' ▼') : null,
    );
  }

  function drawTable() {
    if (!page) return;
    drawActions();
    clear(table);
    const params = page.columns.slice(0, 6);
    const head = h(
      'tr',
      {},
      h('th', { class: 'check' }),
      ...COLUMNS.map((c) => sortHeader(c.key, c.label, c.numeric)),
      ...params.map((p) => sortHeader(`param:${p}`, page!.labels[p] ?? p, true)),
      sortHeader('epochsDone', 'epochs', true),
      ...RESULTS.map((c) => sortHeader(c.key, c.label, true)),
    );
    const body = h(
      'tbody',
      {},
      ...page.rows.map((r) => {
        const check = h('input', {
          type: 'checkbox',
          'aria-label': `select run ${r.runId}`,
          'data-run': r.runId,
          checked: state.selected.has(r.runId),
          onchange: () => {
            if (check.checked) state.selected.add(r.runId);
            else state.selected.delete(r.runId);
            drawActions();
          },
        });
        const epochs = h('td', { class: 'num', 'data-col': 'epochs' });
        drawEpochs(epochs, r.status === 'running', r.epochsDone, r.epochsTarget);
        return h(
          'tr',
          { 'data-run': r.runId, class: state.selected.has(r.runId) ? 'selected' : '' },
          h('td', { class: 'check' }, check),
          h('td', { class: 'num' }, h('a', { href: `#/run/${r.runId}` }, r.runId)),
          h('td', {}, statusChip(r.status)),
          h('td', { class: 'key' }, r.dataKey),
          h('td', { class: 'key', title: r.pipeline }, h('a', { href: `#/run/${r.runId}` }, r.modelKey)),
          ...params.map((p) => h('td', { class: 'num' }, r.params[p] ?? '')),
          epochs,
          ...RESULTS.map((c) => h('td', { class: 'num', 'data-col': c.key }, significant(r[c.key] as number | null))),
        );
      }),
    );
    table.append(h('table', { class: 'runs' }, h('thead', {}, head), body));
    if (!performance.getEntriesByName('mosaic:runs-painted').length) performance.mark('mosaic:runs-painted');
    if (page.rows.length === 0)
      table.append(notice(page.total === 0 ? 'No run in this database yet.' : 'No run matches these filters.'));
    clear(pager);
    const from = page.matched ? page.offset + 1 : 0;
    const to = page.offset + page.rows.length;
    pager.append(
      h(
        'button',
        {
          class: 'btn small',
          type: 'button',
          disabled: page.offset === 0,
          'data-action': 'prev',
          onclick: () => {
            state.offset = Math.max(0, state.offset - state.limit);
            void reload();
          },
        },
        '‹ Previous',
      ),
      h(
        'span',
        { class: 'range', 'data-matched': page.matched },
        `${from.toLocaleString('en')}–${to.toLocaleString('en')} of ${plural(page.matched, 'run')}${page.matched !== page.total ? ` (filtered from ${page.total.toLocaleString('en')})` : ''}`,
      ),
      h(
        'button',
        {
          class: 'btn small',
          type: 'button',
          disabled: to >= page.matched,
          'data-action': 'next',
          onclick: () => {
            state.offset += state.limit;
            void reload();
          },
        },
        'Next ›',
      ),
      select(
        'rows per page',
        [50, 100, 200, 500].map((n) => ({ value: String(n), label: `${n} a page` })),
        String(state.limit),
        (v) => {
          state.limit = Number(v);
          restart();
        },
      ),
    );
  }

  void reload();
  void choicesLoaded.then((c) => {
    choices = c;
    drawFilters();
  });
  return {
    el,
    onSummary: (s: Summary, prev: Summary | undefined) => {
      race.onSummary(s, prev);
      if (!prev || s.mark === prev.mark) return;
      // statuses changed: read the page again; otherwise the running rows' epochs move in place
      if (JSON.stringify(s.counts) !== JSON.stringify(prev.counts) || s.paused !== prev.paused) refresh();
      for (const r of s.running) {
        const td = table.querySelector<HTMLElement>(`tr[data-run="${r.runId}"] td[data-col=epochs]`);
        if (td) drawEpochs(td, true, r.epochsDone, r.epochsTarget);
      }
    },
  };
}
