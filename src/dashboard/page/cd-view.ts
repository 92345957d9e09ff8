import { getJson, type AcrossDatasetsAnswer, type Choices } from './api.js';
import { clear, criterionAndBy, h, notice, reportTable, textField } from './dom.js';
import { averageRank, pPhrase, pValue, rank, significant } from '../../core/format.js';
import { charts, type View } from './view.js';

const form = { criterion: 'test_loss', by: '', pool: '' };

/** Across datasets: the models ranked on each data key, the critical-difference diagram, Friedman, Nemenyi and Wilcoxon–Holm over datasets. */
export function cdView(choices: Choices): View {
  const el = h('div', { class: 'compare-view' });
  const out = h('div', { class: 'report-out' });
  const run = async () => {
    clear(out);
    if (choices.doneDatasetKeys.length < 2) {
      out.append(
        notice(
          `Ranking models across datasets needs finished runs on at least two data keys; this database has ${choices.doneDatasetKeys.length === 1 ? `one: ${choices.doneDatasetKeys[0]}` : 'none yet'}.`,
        ),
      );
      return;
    }
    out.classList.add('loading');
    try {
      draw(
        await getJson<AcrossDatasetsAnswer>(
          '/api/across-datasets',
          new URLSearchParams(Object.entries(form).filter(([, v]) => v)),
        ),
      );
    } catch (e) {
      clear(out);
      out.append(notice((e as Error).message, 'error'));
    } finally {
      out.classList.remove('loading');
    }
  };
  const draw = (r: AcrossDatasetsAnswer) => {
    clear(out);
    const figure = h('div', { class: 'compare-figure', id: 'cd-figure' });
    void charts().then(({ draw: drawChart }) => drawChart(figure, r.figure, `cd-${r.criterion}`));
    const f = r.friedman;
    out.append(
      h(
        'div',
        { class: 'verdicts', id: 'cd-verdict' },
        h('p', { class: 'verdict' }, `across ${r.datasets.length} datasets: ${r.verdict}`),
      ),
      h(
        'p',
        { class: 'report-title' },
        `${r.criterion} (${r.direction} is better), models by ${r.by}, ranked on each of ${r.datasets.length} datasets (1 = best)`,
      ),
      ...r.notes.map((n) => h('p', { class: 'note' }, `note: ${n}`)),
      figure,
      h(
        'p',
        {},
        `Friedman χ² = ${significant(f.chi2)} (df ${f.df}), ${pPhrase(f.p)}; Iman–Davenport F = ${significant(f.ff)} (df ${f.ffDf[0]}, ${f.ffDf[1]}), ${pPhrase(f.ffP)}; Nemenyi critical difference CD = ${significant(r.cd)} (α = ${r.alpha})`,
      ),
      h('h3', {}, 'Mean and rank on each dataset'),
      reportTable(
        ['dataset', ...r.models],
        [
          ...r.datasets.map((d, i) => [
            d,
            ...r.models.map((_, j) => `${significant(r.table[i]![j]!)} (${rank(r.ranks[i]![j]!)})`),
          ]),
          ['average rank', ...r.avgRanks.map(averageRank)],
        ],
        1,
      ),
      h('h3', {}, 'Pairs over datasets'),
      reportTable(
        ['pair (a vs b)', 'rank b−a', 'Nemenyi', 'Wilcoxon W', 'p', 'Holm', 'method', 'n', 'a better / tie / b better'],
        r.pairs.map((p) => [
          `${p.a} vs ${p.b}`,
          averageRank(p.rankDiff),
          p.nemenyiDiffers ? 'differ' : '–',
          String(p.statistic),
          pValue(p.wilcoxonP),
          pValue(p.wilcoxonPHolm),
          p.method,
          p.n,
          `${p.aBetter} / ${p.ties} / ${p.bBetter}`,
        ]),
        1,
      ),
      h(
        'p',
        { class: 'muted' },
        'Each model’s value on a dataset is the mean of its runs there. Nemenyi: “differ” when the average ranks differ by CD or more (after a Friedman rejection). Wilcoxon signed-rank over the datasets, Holm-adjusted over all pairs (Benavoli et al. 2016).',
      ),
    );
  };
  el.append(
    h(
      'div',
      { class: 'controls' },
      ...criterionAndBy(choices, form, () => void run()),
      textField('pool', form.pool, { placeholder: 'pool: lr,width', size: 14 }, (v) => {
        form.pool = v;
        void run();
      }),
      h(
        'span',
        { class: 'muted' },
        'the same report as mosaic compare --across-datasets, the diagram of mosaic cdplot',
      ),
    ),
    out,
  );
  void run();
  return { el };
}
