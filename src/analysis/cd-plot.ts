import type { TopLevelSpec } from 'vega-lite';
import type { AcrossDatasetsReport } from './across-datasets.js';
import { averageRank, pVerdict } from '../core/format.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

const LABEL_SIZE = 12;
const RANK_SIZE = 10;
/** DejaVu Sans is about 0.6 em wide per character on average; a little more keeps labels clear. */
const textWidth = (s: string, size: number) => Math.ceil(s.length * size * 0.64);

/**
 * The critical-difference diagram of Demšar (2006), as Orange, autorank and aeon draw it: an axis
 * of average rank (rank 1, the best, on the left), each model a tick on it with its name at the
 * end of a leader line (the better half on the left, best at the top; the worse half on the right,
 * worst at the top), a thick bar joining each clique of models whose average ranks differ by less
 * than the Nemenyi critical difference, and the CD drawn as a bracket above the axis. Laid out in
 * pixels (`scale: null`), so that labels never overlap whatever the ranks.
 */
export function cdFigure(report: AcrossDatasetsReport): TopLevelSpec {
  const { models, avgRanks: avg, cd } = report;
  const k = models.length;
  const n = report.datasets.length;
  const leftCount = Math.ceil(k / 2);
  const leftWidth = Math.max(40, ...models.slice(0, leftCount).map((m) => textWidth(m, LABEL_SIZE)));
  const rightWidth = Math.max(40, ...models.slice(leftCount).map((m) => textWidth(m, LABEL_SIZE)));
  const gap = 44; // between a label and the axis's end: room for the rank printed above the leader line
  const axisWidth = Math.max(360, 64 * (k - 1));
  const x0 = 8 + leftWidth + gap;
  const x1 = x0 + axisWidth;
  const width = x1 + gap + rightWidth + 8;
  const px = (rank: number) => x0 + ((rank - 1) / Math.max(1, k - 1)) * axisWidth;

  const cdY = 16;
  const axisY = 56;
  const barGap = 8;
  const barsTop = axisY + 12;
  const bars = report.cliques.map((c, i) => {
    const ranks = c.map((m) => avg[models.indexOf(m)]!);
    return {
      x: px(Math.min(...ranks)) - 4,
      x2: px(Math.max(...ranks)) + 4,
      y: barsTop + i * barGap,
      members: c.join(', '),
    };
  });
  const labelsTop = Math.max(axisY + 26, barsTop + report.cliques.length * barGap + 12);
  const rowStep = 22;
  const rows = Math.max(leftCount, k - leftCount);
  const height = labelsTop + (rows - 1) * rowStep + 12;

  const ticks = [];
  for (let r = 1; r <= k; r += 0.5)
    ticks.push({
      x: px(r),
      y: axisY - (Number.isInteger(r) ? 8 : 4),
      y2: axisY,
      label: Number.isInteger(r) ? String(r) : '',
    });

  const modelRows = models.map((m, i) => {
    const left = i < leftCount;
    const row = left ? i : k - 1 - i;
    const y = labelsTop + row * rowStep;
    const x = px(avg[i]!);
    const end = left ? x0 - gap + 4 : x1 + gap - 4;
    return {
      model: m,
      rank: avg[i]!,
      rankText: averageRank(avg[i]!),
      x,
      y,
      end,
      labelX: left ? end - 4 : end + 4,
      align: left ? 'right' : 'left',
      rankX: left ? end + 3 : end - 3,
    };
  });
  const leaders = modelRows.flatMap((r) => [
    { x: r.x, x2: r.x, y: axisY, y2: r.y },
    { x: r.end, x2: r.x, y: r.y, y2: r.y },
  ]);

  const cdEnd = Math.min(1 + cd, k);
  const cdLabel = `CD = ${averageRank(cd)}${1 + cd > k ? ' (wider than the axis)' : ''}`;
  const cdParts = [
    { x: px(1), x2: px(cdEnd), y: cdY + 6, y2: cdY + 6 },
    { x: px(1), x2: px(1), y: cdY + 2, y2: cdY + 10 },
    { x: px(cdEnd), x2: px(cdEnd), y: cdY + 2, y2: cdY + 10 },
  ];

  const none = { scale: null };
  const X = { field: 'x', type: 'quantitative' as const, ...none };
  const Y = { field: 'y', type: 'quantitative' as const, ...none };
  const segment = (values: object[], strokeWidth: number, color = '#222') => ({
    data: { values },
    mark: { type: 'rule', strokeWidth, color, strokeCap: 'butt' },
    encoding: { x: X, x2: { field: 'x2' }, y: Y, y2: { field: 'y2' } },
  });
  const text = (values: object[], encoding: object, mark: object) => ({
    data: { values },
    mark: { type: 'text', ...mark },
    encoding: { x: X, y: Y, ...encoding },
  });

  const f = report.friedman;
  const fp = pVerdict(f.p);
  const subtitle = [
    `Friedman ${fp}, N = ${n} datasets, k = ${k} models`,
    `average rank of each model's mean ${report.criterion} (${report.direction} is better); best on the left`,
    f.p < report.alpha
      ? `bars: average ranks within the critical difference (Nemenyi, α = ${report.alpha})`
      : `Friedman ${fp} ≥ ${report.alpha}: no post-hoc test; one bar joins all`,
  ];
  return {
    $schema: SCHEMA,
    title: {
      text: `Critical difference diagram: ${report.criterion} over ${n} datasets`,
      subtitle,
      limit: 0,
      anchor: 'start',
    },
    width,
    height,
    layer: [
      segment([{ x: px(1), x2: px(k), y: axisY, y2: axisY }], 1.5),
      segment(ticks, 1.5),
      text(
        ticks.filter((t) => t.label),
        { text: { field: 'label' } },
        { fontSize: 11, baseline: 'bottom', align: 'center', dy: -2 },
      ),
      segment(cdParts, 1.5),
      text(
        [{ x: (px(1) + px(cdEnd)) / 2, y: cdY, label: cdLabel }],
        { text: { field: 'label' } },
        { fontSize: 11, baseline: 'bottom', align: 'center', dy: 0 },
      ),
      segment(leaders, 1, '#555'),
      {
        data: { values: bars },
        mark: { type: 'rule', strokeWidth: 4, color: '#1f1f1f', strokeCap: 'round' },
        encoding: { x: X, x2: { field: 'x2' }, y: Y, tooltip: [{ field: 'members', title: 'within the CD' }] },
      },
      {
        data: { values: modelRows },
        mark: { type: 'point', filled: true, size: 36, color: '#1f4e79' },
        encoding: {
          x: X,
          y: { datum: axisY, type: 'quantitative', ...none },
          tooltip: [
            { field: 'model', title: 'model' },
            { field: 'rankText', title: 'average rank' },
          ],
        },
      },
      ...(['right', 'left'] as const).flatMap((side) => {
        const mine = modelRows.filter((r) => r.align === side);
        return [
          text(
            mine.map((r) => ({ ...r, x: r.labelX })),
            { text: { field: 'model' }, tooltip: [{ field: 'model' }, { field: 'rankText', title: 'average rank' }] },
            { fontSize: LABEL_SIZE, align: side, baseline: 'middle' },
          ),
          text(
            mine.map((r) => ({ ...r, x: r.rankX })),
            { text: { field: 'rankText' } },
            {
              fontSize: RANK_SIZE,
              align: side === 'right' ? 'left' : 'right',
              baseline: 'bottom',
              dy: -2,
              color: '#555',
            },
          ),
        ];
      }),
    ],
    config: { view: { stroke: null } },
  } as unknown as TopLevelSpec;
}
