import type { TopLevelSpec } from 'vega-lite';
import type { CompareReport } from './compare.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/**
 * The picture a reader looks at first, drawn from a `compareRuns` report: for each dataset (and
 * `at` value), every group's mean with its 95% CI as a dot and whisker, best at the top, its
 * letters beside it (groups sharing a letter do not differ significantly); with a ROPE, the band
 * of practical equivalence around the best mean. `mosaic compare --plot` and the dashboard draw it.
 */
export function compareFigure(report: CompareReport, options: { rope?: number } = {}): TopLevelSpec {
  const lower = report.direction === 'lower';
  const rope = options.rope;
  const levels = report.rankings.filter((k) => k.entries.length > 0);
  const at = report.at;
  const panelOf = (dataset: string, value: string | null) =>
    value === null ? dataset : `${dataset} · ${at} = ${value}`;
  const values = levels.flatMap((k) =>
    k.entries.map((e, i) => {
      const g = report.groups.find((x) => x.dataset === k.dataset && x.at === k.at && x.group === e.group)!;
      return {
        panel: panelOf(k.dataset, k.at),
        order: i,
        group: e.group,
        label: `${e.group}   [${e.letters || '–'}]`,
        mean: g.mean,
        low: g.ci?.[0] ?? g.mean,
        high: g.ci?.[1] ?? g.mean,
        n: g.n,
        letters: e.letters,
        ...(rope !== undefined ? { bandFrom: k.entries[0]!.mean - rope, bandTo: k.entries[0]!.mean + rope } : {}),
      };
    }),
  );
  const longest = Math.max(10, ...values.map((v) => v.label.length));
  const x = {
    field: 'mean',
    type: 'quantitative' as const,
    title: `${report.criterion} (mean, 95% CI; ${report.direction} is better)`,
    scale: { zero: false },
  };
  const y = {
    field: 'label',
    type: 'nominal' as const,
    title: null,
    sort: { field: 'order', order: 'ascending' as const },
    axis: { labelLimit: 0, labelFontSize: 11, labelPadding: 6 },
  };
  const layers: object[] = [];
  if (rope !== undefined) {
    // One band per panel: drawn from its best row only, over the panel's whole height.
    layers.push({
      transform: [{ filter: 'datum.order === 0' }],
      mark: { type: 'rect', color: '#a3c9a8', opacity: 0.35 },
      encoding: { x: { field: 'bandFrom', type: 'quantitative' }, x2: { field: 'bandTo' } },
    });
  }
  layers.push(
    {
      mark: { type: 'rule', strokeWidth: 2, color: '#4c78a8' },
      encoding: { x: { ...x, field: 'low' }, x2: { field: 'high' }, y },
    },
    {
      mark: { type: 'point', filled: true, size: 70, color: '#1f4e79' },
      encoding: {
        x,
        y,
        tooltip: [
          { field: 'group', title: 'group' },
          { field: 'letters', title: 'letters' },
          { field: 'n', title: 'n' },
          { field: 'mean', title: 'mean', format: '.4g' },
          { field: 'low', title: 'CI low', format: '.4g' },
          { field: 'high', title: 'CI high', format: '.4g' },
        ],
      },
    },
  );
  const legend = `letters: groups that share a letter do not differ significantly (Welch, Holm, α = 0.05)${rope !== undefined ? `; band: ±${rope} around the best mean (region of practical equivalence)` : ''}`;
  return {
    $schema: SCHEMA,
    title: {
      text: `Which is better on ${report.criterion}`,
      subtitle: [`best ${lower ? '(lowest)' : '(highest)'} at the top of each panel; ${legend}`],
      limit: 0,
    },
    data: { values },
    facet: {
      row: {
        field: 'panel',
        type: 'nominal',
        title: null,
        header: {
          labelOrient: 'top',
          labelAngle: 0,
          labelAlign: 'left',
          labelAnchor: 'start',
          labelFontSize: 12,
          labelFontWeight: 'bold',
          labelPadding: 4,
        },
      },
    },
    spec: {
      width: Math.max(360, 640 - longest * 4),
      height: { step: 26 },
      layer: layers,
    },
    resolve: { scale: { y: 'independent', x: 'independent' } },
    config: { axisY: { grid: false } },
  } as unknown as TopLevelSpec;
}
