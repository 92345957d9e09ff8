import { compareRuns, parseRope, type CompareReport } from '../analysis/compare.js';
import { groupCells, groupHead, LETTERS_LEGEND, PAIRS_LEGEND, pairCells, pairHead } from '../analysis/compare-table.js';
import { loadRuns } from '../analysis/runs.js';
import { MosaicError } from '../core/errors.js';
import { openStore } from '../store/open.js';
import { nameList } from '../core/wording.js';
import { raceView, type RaceView } from '../race/state.js';
import { readRaceRecord } from '../race/record.js';
import { chooseDatabase } from './recent.js';

export type CompareFormat = 'table' | 'json' | 'csv' | 'markdown';

export interface CompareCommandOptions {
  criterion: string;
  by?: string;
  at?: string;
  /** Comma-separated parameters to pool on purpose. */
  pool?: string;
  format: string;
  /** Also draw the comparison (compare-plot.ts) to this .pdf, .png or .svg. */
  plot?: string;
  /** Region of practical equivalence, ±ROPE in the criterion's units (a positive number). */
  rope?: string;
  /** Rank the models over the data keys instead (cli/across-datasets.ts). */
  acrossDatasets?: boolean;
}

/**
 * `mosaic compare DB`: which model is better, by how much, how sure. The notes (what was left
 * out, split or pooled) are part of the table, markdown and JSON; with CSV they go to stderr.
 */
export async function compareCommand(
  dbArg: string | undefined,
  options: CompareCommandOptions,
): Promise<{ stdout: string; stderr: string }> {
  const format = options.format as CompareFormat;
  if (!['table', 'json', 'csv', 'markdown'].includes(format))
    throw new MosaicError(`--format must be table, json, csv or markdown, not "${options.format}"`);
  if (options.acrossDatasets)
    return (await import('./across-datasets.js')).acrossDatasetsCommand(dbArg, options, format);
  const rope = parseRope(options.rope);
  const render = options.plot ? await import('../render/render.js') : undefined;
  if (options.plot) render!.outputFormat(options.plot);
  const store = await openStore(chooseDatabase(dbArg), 'read');
  const notice = store.notice ? `note: ${store.notice}` : '';
  let report: CompareReport;
  let race: RaceView | undefined;
  try {
    const record = await readRaceRecord(store);
    const { runs, criteria } = await loadRuns(store);
    if (record) race = raceView(record.settings, record.rows, runs);
    report = compareRuns(runs, {
      criterion: criteria.parse(options.criterion),
      criteria,
      ...(options.by ? { by: options.by } : {}),
      ...(options.at ? { at: options.at } : {}),
      pool: nameList(options.pool),
      ...(rope !== undefined ? { rope } : {}),
    });
  } finally {
    await store.close();
  }
  if (options.plot) {
    const { compareFigure } = await import('../analysis/compare-plot.js');
    await render!.writeFigure(options.plot, [compareFigure(report, rope !== undefined ? { rope } : {})]);
  }
  // a race (`[MONITOR] multiplicity = auto`) ends the report with its line; JSON has all of it
  const raceText = race ? `race: ${race.line}` : undefined;
  const raceMarkdown = race ? ['', `**race**: ${race.line}`] : [];
  switch (format) {
    case 'json':
      return { stdout: JSON.stringify(race ? { ...report, race } : report, null, 1), stderr: notice };
    case 'csv':
      return {
        stdout: toCsv(report),
        stderr: [notice, ...report.notes.map((n) => `note: ${n}`), raceText].filter(Boolean).join('\n'),
      };
    case 'markdown':
      return { stdout: [toMarkdown(report), ...raceMarkdown].join('\n'), stderr: notice };
    default:
      return { stdout: [toTable(report), ...(raceText ? ['', raceText] : [])].join('\n'), stderr: notice };
  }
}

/** `ranking by test_loss (lower is better): a (a), b (ab), c (b)`, per dataset and `at` value with more than two groups. */
function rankingLines(r: CompareReport): string[] {
  return r.rankings
    .filter((k) => k.entries.length > 2)
    .map(
      (k) =>
        `${k.dataset}${k.at === null ? '' : ` at ${r.at} ${k.at}`}: ranking by ${r.criterion} (${r.direction} is better): ${k.entries.map((e) => `${e.group} (${e.letters})`).join(', ')}`,
    );
}

function aligned(head: string[], rows: string[][]): string {
  const keep = head.map((h, i) => h !== '' || rows.some((r) => r[i] !== ''));
  const cols = head.map((_, i) => i).filter((i) => keep[i]);
  const widths = cols.map((i) => Math.max(head[i]!.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    cols
      .map((i, k) => r[i]!.padEnd(widths[k]!))
      .join('  ')
      .trimEnd();
  const rule = cols.map((_, k) => '-'.repeat(widths[k]!)).join('  ');
  return [line(head), rule, ...rows.map(line)].join('\n');
}

function title(r: CompareReport): string {
  return `${r.criterion} (${r.direction} is better), groups by ${r.by}${r.at ? `, compared at each ${r.at}` : ''}`;
}

function toTable(r: CompareReport): string {
  const out = [
    title(r),
    `design: ${r.design}`,
    ...r.notes.map((n) => `note: ${n}`),
    '',
    aligned(groupHead(r), r.groups.map(groupCells)),
  ];
  if (r.pairs.length) out.push('', aligned(pairHead(r), r.pairs.map(pairCells)));
  out.push('', LETTERS_LEGEND, PAIRS_LEGEND, '');
  out.push(...rankingLines(r));
  for (const v of r.verdicts) out.push(`${v.dataset}: ${v.text}`);
  return out.join('\n');
}

function toMarkdown(r: CompareReport): string {
  const table = (head: string[], rows: string[][]) => {
    const keep = head.map((h, i) => h !== '' || rows.some((x) => x[i] !== ''));
    const pick = (x: string[]) => x.filter((_, i) => keep[i]);
    return [
      `| ${pick(head).join(' | ')} |`,
      `|${pick(head)
        .map(() => '---')
        .join('|')}|`,
      ...rows.map((x) => `| ${pick(x).join(' | ')} |`),
    ].join('\n');
  };
  const out = [
    `**${title(r)}**`,
    '',
    `design: ${r.design}`,
    ...(r.notes.length ? ['', ...r.notes.map((n) => `> note: ${n}  `)] : []),
    '',
    table(groupHead(r), r.groups.map(groupCells)),
  ];
  if (r.pairs.length) out.push('', table(pairHead(r), r.pairs.map(pairCells)));
  out.push(
    '',
    `*${LETTERS_LEGEND}*`,
    '',
    ...rankingLines(r).map((l) => `- ${l}`),
    ...r.verdicts.map((v) => `- **${v.dataset}**: ${v.text}`),
  );
  return out.join('\n');
}

function toCsv(r: CompareReport): string {
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const rows = [
    [
      'kind',
      'dataset',
      'at',
      'group_or_pair',
      'letters',
      'n',
      'mean',
      'std',
      'ci_low',
      'ci_high',
      'median',
      'diff',
      'design',
      'test',
      'p',
      'p_holm',
      'rank_test',
      'rank_p',
      'rank_p_holm',
      'cohens_d',
      'cliffs_delta',
      'p_a_better',
      'tost_p',
      'tost_p_holm',
      'decision',
      'repeats_needed',
    ],
    ...r.groups.map((g) =>
      [
        'group',
        g.dataset,
        g.at ?? '',
        g.group,
        g.letters,
        g.n,
        g.mean,
        g.std,
        g.ci?.[0] ?? '',
        g.ci?.[1] ?? '',
        g.median,
        ...Array(15).fill(''),
      ].map(String),
    ),
    ...r.pairs.map((p) =>
      [
        'pair',
        p.dataset,
        p.at ?? '',
        `${p.a} vs ${p.b}`,
        '',
        Array.isArray(p.n) ? p.n.join(' ') : p.n,
        '',
        '',
        p.ci[0],
        p.ci[1],
        '',
        p.diff,
        p.design,
        p.test,
        p.p,
        p.pHolm,
        p.rankTest,
        p.rankP,
        p.rankPHolm,
        p.cohensD,
        p.cliffsDelta,
        p.pABetter,
        p.equivalence?.p ?? '',
        p.equivalence?.pHolm ?? '',
        p.decision,
        p.repeatsNeeded ?? '',
      ].map(String),
    ),
  ];
  return rows.map((row) => row.map((c) => q(String(c))).join(',')).join('\n');
}
