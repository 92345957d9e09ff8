import { getJson, type Choices, type CompareAnswer } from './api.js';
import { clear, criterionAndBy, h, notice, reportTable, select, textField } from './dom.js';
import { charts, readForm, writeForm } from './view.js';
import {
  groupCells,
  groupHead,
  LETTERS_LEGEND,
  namedColumns,
  PAIRS_LEGEND,
  pairCells,
  pairHead,
} from '../../analysis/compare-table.js';
import { significant } from '../../core/format.js';
import type { View } from './view.js';

const form = { criterion: 'test_loss', by: '', at: '', pool: '', rope: '' };

/**
 * `mosaic compare` in the page: the same report (groups, pairs, ranking, verdict) for the chosen
 * options, which the address keeps (`params`: those of the address it was opened at).
 */
export function compareView(choices: Choices, params: URLSearchParams): View {
  readForm(form, params);
  const el = h('div', { class: 'compare-view' });
  const out = h('div', { class: 'report-out' });
  let waiting = false;
  const run = async () => {
    writeForm('compare', form);
    waiting = choices.doneDatasetKeys.length === 0;
    if (waiting) {
      clear(out);
      out.append(notice('No finished run yet: the report appears once runs are done.'));
      return;
    }
    const p = new URLSearchParams(Object.entries(form).filter(([, v]) => v));
    out.classList.add('loading');
    try {
      const r = await getJson<CompareAnswer>('/api/compare', p);
      draw(r);
    } catch (e) {
      clear(out);
      out.append(notice((e as Error).message, 'error'));
    } finally {
      out.classList.remove('loading');
    }
  };
  const draw = (r: CompareAnswer) => {
    clear(out);
    const figure = h('div', { class: 'compare-figure', id: 'compare-figure' });
    void charts().then(({ draw: drawChart }) => drawChart(figure, r.figure, `compare-${r.criterion}`));
    const groups = namedColumns(groupHead(r), r.groups.map(groupCells));
    const pairs = namedColumns(pairHead(r), r.pairs.map(pairCells));
    out.append(
      h('div', { class: 'verdicts', id: 'verdicts' }, ...r.verdictLines.map((v) => h('p', { class: 'verdict' }, v))),
      h(
        'p',
        { class: 'report-title' },
        `${r.criterion} (${r.direction} is better), groups by ${r.by}${r.at ? `, compared at each ${r.at}` : ''}`,
      ),
      h('p', { class: 'design', id: 'compare-design' }, `design: ${r.design}`),
      ...r.notes.map((n) => h('p', { class: 'note' }, `note: ${n}`)),
      figure,
      h('h3', {}, 'Groups'),
      reportTable(groups.head, groups.rows, groups.head.indexOf('n')),
      h('p', { class: 'muted' }, `${LETTERS_LEGEND} The ranking is by mean, best first.`),
    );
    if (r.pairs.length) {
      out.append(
        h('h3', {}, 'Pairs'),
        reportTable(pairs.head, pairs.rows, pairs.head.indexOf('mean a−b')),
        h('p', { class: 'muted' }, PAIRS_LEGEND),
      );
    }
    if (r.rankings.length) {
      out.append(
        h('h3', {}, 'Ranking'),
        h(
          'div',
          { class: 'rankings' },
          ...r.rankings.map((k) =>
            h(
              'div',
              { class: 'ranking' },
              h('div', { class: 'muted' }, `${k.dataset}${k.at ? ` · ${r.at} = ${k.at}` : ''}`),
              h(
                'table',
                { class: 'rank' },
                h(
                  'tbody',
                  {},
                  ...k.entries.map((e, i) =>
                    h(
                      'tr',
                      {},
                      h('td', { class: 'rank-no' }, `${i + 1}.`),
                      h('td', { class: 'rank-group' }, e.group),
                      h('td', { class: 'rank-letters' }, e.letters),
                      h('td', { class: 'num muted' }, significant(e.mean)),
                    ),
                  ),
                ),
              ),
            ),
          ),
        ),
      );
    }
    // a race ends the report with its line, as `mosaic compare` does
    if (r.raceLine) out.append(h('p', { class: 'race-line', id: 'compare-race' }, r.raceLine));
  };
  const controls = h(
    'div',
    { class: 'controls' },
    ...criterionAndBy(choices, form, () => void run()),
    h(
      'label',
      {},
      'at ',
      select('at', [{ value: '', label: '—' }, ...choices.at.map((p) => ({ value: p }))], form.at, (v) => {
        form.at = v;
        void run();
      }),
    ),
    textField('pool', form.pool, { placeholder: 'pool: lr,width', size: 14 }, (v) => {
      form.pool = v;
      void run();
    }),
    textField(
      'rope',
      form.rope,
      {
        placeholder: '±D: equivalence',
        size: 12,
        title:
          "a region of practical equivalence in the criterion's units: pairs within it are said to be practically equivalent (TOST)",
      },
      (v) => {
        form.rope = v;
        void run();
      },
    ),
    h('span', { class: 'muted' }, 'the same report as mosaic compare'),
  );
  el.append(controls, out);
  void run();
  return {
    el,
    onSummary: (s) => {
      // the menus' choices were read with no finished run: the view starts again with fresh ones
      if (waiting && (s.counts.done ?? 0) > 0) window.dispatchEvent(new HashChangeEvent('hashchange'));
    },
  };
}
