import { compareAcrossDatasets, type AcrossDatasetsReport } from '../analysis/across-datasets.js';
import { loadRuns } from '../analysis/runs.js';
import { nameList, plural } from '../core/wording.js';
import { MosaicError } from '../core/errors.js';
import { averageRank, pPhrase, pValue, rank, significant } from '../core/format.js';
import { openStore } from '../store/open.js';
import { chooseDatabase } from './recent.js';

/**
 * `mosaic compare DB --across-datasets` (its output in four formats) and `mosaic cdplot DB OUT`:
 * the models ranked on each dataset key, Friedman, Nemenyi's critical difference, Wilcoxon over
 * datasets with Holm (analysis/across-datasets.ts), and the critical-difference diagram
 * (analysis/cd-plot.ts).
 */

export interface AcrossDatasetsCommandOptions {
  criterion: string;
  by?: string;
  /** Comma-separated parameters to pool on purpose. */
  pool?: string;
  /** Also draw the critical-difference diagram to this .pdf, .png or .svg. */
  plot?: string;
}

async function report(
  dbArg: string | undefined,
  options: AcrossDatasetsCommandOptions,
  asked: string,
): Promise<AcrossDatasetsReport> {
  const store = await openStore(chooseDatabase(dbArg), 'read');
  try {
    const { runs, criteria } = await loadRuns(store);
    const r = compareAcrossDatasets(runs, {
      criterion: criteria.parse(options.criterion),
      criteria,
      ...(options.by ? { by: options.by } : {}),
      pool: nameList(options.pool),
      asked,
    });
    if (store.notice) r.notes.unshift(store.notice);
    return r;
  } finally {
    await store.close();
  }
}

/** The report of `compare --across-datasets` (and its diagram with `--plot`), in `format` (checked by the caller). */
export async function acrossDatasetsCommand(
  dbArg: string | undefined,
  options: AcrossDatasetsCommandOptions & { at?: string; rope?: string },
  format: string,
): Promise<{ stdout: string; stderr: string }> {
  if (options.at)
    throw new MosaicError(
      '--across-datasets ranks the models over the data keys: it does not take --at (compare them at each value without --across-datasets, or --pool the parameter)',
    );
  if (options.rope !== undefined)
    throw new MosaicError(
      '--across-datasets ranks the models over the data keys: it does not take --rope (a region of practical equivalence is for the comparison on each data key)',
    );
  const render = options.plot ? await import('../render/render.js') : undefined;
  if (options.plot) render!.outputFormat(options.plot);
  const r = await report(dbArg, options, '--across-datasets');
  if (options.plot) {
    const { cdFigure } = await import('../analysis/cd-plot.js');
    await render!.writeFigure(options.plot, [cdFigure(r)]);
  }
  return acrossDatasetsOutput(r, format);
}

/** `mosaic cdplot DB OUT.pdf|svg|png [--criterion C] [--by TYPE] [--pool NAMES]`. */
export async function cdplotCommand(db: string, out: string, options: AcrossDatasetsCommandOptions): Promise<string> {
  const { outputFormat, writeFigure } = await import('../render/render.js');
  outputFormat(out);
  const r = await report(db, options, 'cdplot');
  const { cdFigure } = await import('../analysis/cd-plot.js');
  const files = await writeFigure(out, [cdFigure(r)]);
  return [
    ...r.notes.map((n) => `note: ${n}`),
    `critical difference diagram of ${plural(r.models.length, 'model')} over ${plural(r.datasets.length, 'dataset')} (${r.criterion}) written to ${files[0]}`,
  ].join('\n');
}

function title(r: AcrossDatasetsReport): string {
  return `${r.criterion} (${r.direction} is better), models by ${r.by}, ranked on each of ${r.datasets.length} datasets (1 = best)`;
}

/** Datasets × models: the mean and, in parentheses, its rank; then the average ranks. */
function rankTable(r: AcrossDatasetsReport): { head: string[]; rows: string[][] } {
  const rows = r.datasets.map((d, i) => [
    d,
    ...r.models.map((_, j) => `${significant(r.table[i]![j]!)} (${rank(r.ranks[i]![j]!)})`),
  ]);
  rows.push(['average rank', ...r.avgRanks.map(averageRank)]);
  return { head: ['dataset', ...r.models], rows };
}

function statsLines(r: AcrossDatasetsReport): string[] {
  const f = r.friedman;
  return [
    `Friedman χ² = ${significant(f.chi2)} (df ${f.df}), ${pPhrase(f.p)}; Iman–Davenport F = ${significant(f.ff)} (df ${f.ffDf[0]}, ${f.ffDf[1]}), ${pPhrase(f.ffP)}`,
    `Nemenyi critical difference CD = ${significant(r.cd)} (q = ${significant(r.q)}, α = ${r.alpha}): average ranks that differ by CD or more differ significantly`,
    `within the CD (the bars of the diagram): ${r.cliques.length ? r.cliques.map((c) => `[${c.join(', ')}]`).join(' ') : 'none: every pair differs'}`,
  ];
}

const PAIR_HEAD = [
  'pair (a vs b)',
  'rank b−a',
  'Nemenyi',
  'Wilcoxon W',
  'p',
  'Holm',
  'method',
  'n',
  'a better / tie / b better',
];
function pairRows(r: AcrossDatasetsReport): string[][] {
  return r.pairs.map((p) => [
    `${p.a} vs ${p.b}`,
    averageRank(p.rankDiff),
    p.nemenyiDiffers ? 'differ' : '–',
    String(p.statistic),
    pValue(p.wilcoxonP),
    pValue(p.wilcoxonPHolm),
    p.method,
    String(p.n),
    `${p.aBetter} / ${p.ties} / ${p.bBetter}`,
  ]);
}
const PAIR_LEGEND =
  'Nemenyi: "differ" when the average ranks differ by CD or more (after a Friedman rejection). Wilcoxon signed-rank over the datasets of the two models\' means, two-sided; Holm: adjusted over all pairs; n: datasets where the two differ.';

function aligned(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function markdownTable(head: string[], rows: string[][]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  return [
    `| ${head.map(cell).join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((x) => `| ${x.map(cell).join(' | ')} |`),
  ].join('\n');
}

function toCsv(r: AcrossDatasetsReport): string {
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const head = [
    'kind',
    'dataset',
    'model',
    'mean',
    'rank',
    'runs',
    'pair',
    'rank_diff',
    'nemenyi_differs',
    'statistic',
    'df',
    'p',
    'p_holm',
    'method',
    'n',
    'a_better',
    'ties',
    'b_better',
  ];
  const row = (values: Partial<Record<(typeof head)[number], string | number | boolean>>) =>
    head.map((h) => (values[h] === undefined ? '' : String(values[h])));
  const f = r.friedman;
  const rows = [
    head,
    ...r.datasets.flatMap((d, i) =>
      r.models.map((m, j) =>
        row({ kind: 'cell', dataset: d, model: m, mean: r.table[i]![j]!, rank: r.ranks[i]![j]!, runs: r.runs[i]![j]! }),
      ),
    ),
    ...r.models.map((m, j) => row({ kind: 'average_rank', model: m, rank: r.avgRanks[j]! })),
    row({ kind: 'friedman', statistic: f.chi2, df: f.df, p: f.p }),
    row({ kind: 'iman_davenport', statistic: f.ff, df: `${f.ffDf[0]} ${f.ffDf[1]}`, p: f.ffP }),
    row({ kind: 'nemenyi_cd', statistic: r.cd }),
    ...r.pairs.map((p) =>
      row({
        kind: 'pair',
        pair: `${p.a} vs ${p.b}`,
        rank_diff: p.rankDiff,
        nemenyi_differs: p.nemenyiDiffers,
        statistic: p.statistic,
        p: p.wilcoxonP,
        p_holm: p.wilcoxonPHolm,
        method: p.method,
        n: p.n,
        a_better: p.aBetter,
        ties: p.ties,
        b_better: p.bBetter,
      }),
    ),
  ];
  return rows.map((x) => x.map(q).join(',')).join('\n');
}

/**
 * The report in the formats of `mosaic compare`: table (the default), json (the report itself),
 * csv (one row per cell, average rank, test and pair; the notes on stderr) or markdown.
 */
export function acrossDatasetsOutput(r: AcrossDatasetsReport, format: string): { stdout: string; stderr: string } {
  switch (format) {
    case 'json':
      return { stdout: JSON.stringify(r, null, 1), stderr: '' };
    case 'csv':
      return { stdout: toCsv(r), stderr: r.notes.map((n) => `note: ${n}`).join('\n') };
    case 'markdown': {
      const t = rankTable(r);
      const out = [
        `**${title(r)}**`,
        ...(r.notes.length ? ['', ...r.notes.map((n) => `> note: ${n}  `)] : []),
        '',
        markdownTable(t.head, t.rows),
        '',
        ...statsLines(r).map((l) => `- ${l}`),
      ];
      out.push(
        '',
        markdownTable(PAIR_HEAD, pairRows(r)),
        '',
        `*${PAIR_LEGEND}*`,
        '',
        `- **across ${r.datasets.length} datasets**: ${r.verdict}`,
      );
      return { stdout: out.join('\n'), stderr: '' };
    }
    default: {
      const t = rankTable(r);
      const out = [
        title(r),
        ...r.notes.map((n) => `note: ${n}`),
        '',
        aligned(t.head, t.rows),
        '',
        ...statsLines(r),
        '',
        aligned(PAIR_HEAD, pairRows(r)),
        '',
        PAIR_LEGEND,
        '',
      ];
      out.push(`across ${r.datasets.length} datasets: ${r.verdict}`);
      return { stdout: out.join('\n'), stderr: '' };
    }
  }
}
