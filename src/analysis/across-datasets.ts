import { MosaicError } from '../core/errors.js';
import { averageRank, pVerdict } from '../core/format.js';
import { compareRuns } from './compare.js';
import { wilcoxonSignedRank } from './paired-stats.js';
import { friedman, nemenyiCD, nemenyiQ } from './rank-stats.js';
import type { AnalysisRun, Criteria, Criterion } from './runs.js';
import { holm } from './stats.js';
import { plural } from '../core/wording.js';

/**
 * Which model is better across datasets (Demšar 2006, "Statistical comparisons of classifiers over
 * multiple data sets", JMLR 7; Benavoli, Corani & Mangili 2016, "Should we really use post-hoc
 * tests based on mean-ranks?", JMLR 17). One value per model and dataset — the mean of the model's
 * runs of the criterion on that dataset, as Demšar and autorank take one score per model and
 * dataset — is ranked within each dataset (1 = best, ties at their average rank); then:
 *
 * - the Friedman test of the average ranks (χ² with the tie correction, as SciPy) and the
 *   Iman–Davenport F;
 * - the Nemenyi critical difference CD = q_α·sqrt(k(k+1)/(6N)): two models whose average ranks
 *   differ by CD or more differ significantly (α = 0.05); the *cliques* are the maximal runs of
 *   models, in average-rank order, whose average ranks differ by less than CD — the bars of the
 *   critical-difference diagram, as aeon and autorank draw them. When the Friedman test does not
 *   reject, no post-hoc test is made and one clique joins every model (aeon does the same);
 * - the Wilcoxon signed-rank test of every pair over the datasets, Holm-adjusted over the pairs
 *   (what Benavoli et al. recommend instead of the mean-rank post-hoc tests).
 *
 * Models are the groups `compareRuns` forms (model key, or `--by TYPE`, split by swept parameters
 * not in the key unless pooled): the same names as `mosaic compare`.
 */

export interface AcrossDatasetsOptions {
  criterion: Criterion;
  /** The database's criteria (`loadRuns`), as `compareRuns` takes them. */
  criteria?: Criteria;
  by?: string;
  pool?: string[];
  alpha?: number;
  /** How the refusals name what was asked: `--across-datasets` (default) or `cdplot`. */
  asked?: string;
}

export interface AcrossPair {
  /** a has the better (lower) average rank, or the same. */
  a: string;
  b: string;
  /** Average rank of b − average rank of a (≥ 0). */
  rankDiff: number;
  /** The Nemenyi test: the ranks differ by CD or more, and the Friedman test rejected. */
  nemenyiDiffers: boolean;
  /** Wilcoxon signed-rank test of a − b over the datasets (two-sided), as scipy.stats.wilcoxon. */
  statistic: number;
  wilcoxonP: number;
  /** Holm-adjusted over all pairs. */
  wilcoxonPHolm: number;
  method: 'exact' | 'approx';
  /** Datasets with a difference (zeros dropped), and those without. */
  n: number;
  zeros: number;
  /** Datasets where a is better, tied, b is better. */
  aBetter: number;
  ties: number;
  bBetter: number;
  /** The model the signed ranks favour (null when their sums are equal); a claim only when wilcoxonPHolm < alpha. */
  favours: string | null;
}

export interface AcrossDatasetsReport {
  criterion: Criterion;
  direction: 'lower' | 'higher';
  by: string;
  splitBy: string[];
  pooled: string[];
  alpha: number;
  /** Rows of the tables. */
  datasets: string[];
  /** Columns of the tables, best average rank first. */
  models: string[];
  /** Mean of each model's runs of the criterion on each dataset (datasets × models). */
  table: number[][];
  /** Runs behind each mean. */
  runs: number[][];
  /** Rank of each model on each dataset, 1 = best, ties at their average rank. */
  ranks: number[][];
  avgRanks: number[];
  friedman: { chi2: number; df: number; p: number; ff: number; ffDf: [number, number]; ffP: number };
  /** Nemenyi critical difference at alpha, and its q_α. */
  cd: number;
  q: number;
  /** Maximal sets of models whose average ranks differ by less than CD (the diagram's bars), in rank order; sets of two or more only. */
  cliques: string[][];
  pairs: AcrossPair[];
  notes: string[];
  verdict: string;
}

export function compareAcrossDatasets(all: AnalysisRun[], options: AcrossDatasetsOptions): AcrossDatasetsReport {
  const alpha = options.alpha ?? 0.05;
  const asked = options.asked ?? '--across-datasets';
  const report = compareRuns(all, {
    criterion: options.criterion,
    ...(options.criteria ? { criteria: options.criteria } : {}),
    ...(options.by !== undefined ? { by: options.by } : {}),
    pool: options.pool ?? [],
    alpha,
  });
  const notes = report.notes.filter((n) => !n.startsWith('95% CIs clipped'));
  const allDatasets = [...new Set(report.groups.map((g) => g.dataset))].sort((a, b) => a.localeCompare(b));
  if (allDatasets.length < 2) {
    const keys = [...new Set(all.map((r) => r.dataKey))].sort();
    const where =
      keys.length > 1
        ? `only one data key has finished runs with a value of ${options.criterion}: ${allDatasets[0]} (keys: ${keys.join(', ')})`
        : `this database has one: ${allDatasets[0]}`;
    throw new MosaicError(`${asked} needs at least two data keys; ${where}`);
  }
  const allModels = [...new Set(report.groups.map((g) => g.group))];
  if (allModels.length < 2)
    throw new MosaicError(
      `${asked} needs at least two models; every run is of ${allModels[0]}${options.by ? ` (--by ${options.by})` : ''}`,
    );
  const cell = new Map(report.groups.map((g) => [JSON.stringify([g.dataset, g.group]), g]));
  const has = (d: string, m: string) => cell.has(JSON.stringify([d, m]));

  // A complete table: the models present on every dataset, or the datasets where every model is, whichever keeps more values.
  const everywhere = allModels.filter((m) => allDatasets.every((d) => has(d, m)));
  const complete = allDatasets.filter((d) => allModels.every((m) => has(d, m)));
  const keepModels = everywhere.length * allDatasets.length;
  const keepDatasets = allModels.length * complete.length;
  const modelsOk = everywhere.length >= 2;
  const datasetsOk = complete.length >= 2;
  if (!modelsOk && !datasetsOk) {
    throw new MosaicError(
      `${asked} needs two models that both have finished runs on two datasets or more; here ${allModels
        .map((m) => `${m} on ${allDatasets.filter((d) => has(d, m)).join(', ')}`)
        .join('; ')}`,
    );
  }
  let datasets = allDatasets;
  let models = allModels;
  if (everywhere.length < allModels.length) {
    if (modelsOk && (!datasetsOk || keepModels >= keepDatasets)) {
      const dropped = allModels.filter((m) => !everywhere.includes(m));
      models = everywhere;
      notes.push(
        `left out ${plural(dropped.length, 'model')} without finished runs on every dataset (the ranks need a value of each model on each dataset): ${dropped
          .map((m) => `${m} (none on ${allDatasets.filter((d) => !has(d, m)).join(', ')})`)
          .join(', ')}`,
      );
    } else {
      const dropped = allDatasets.filter((d) => !complete.includes(d));
      datasets = complete;
      notes.push(
        `left out ${plural(dropped.length, 'dataset')} where not every model has finished runs (the ranks need a value of each model on each dataset): ${dropped
          .map((d) => `${d} (no ${allModels.filter((m) => !has(d, m)).join(', ')})`)
          .join(', ')}`,
      );
    }
  }

  const direction = report.direction;
  const table0 = datasets.map((d) => models.map((m) => cell.get(JSON.stringify([d, m]))!.mean));
  const fr0 = friedman(table0, direction);
  // Columns in the order of average rank, best first (ties by name, as the groups were ordered).
  const order = models.map((_, j) => j).sort((x, y) => fr0.avgRanks[x]! - fr0.avgRanks[y]!);
  models = order.map((j) => models[j]!);
  const table = table0.map((row) => order.map((j) => row[j]!));
  const runs = datasets.map((d) => models.map((m) => cell.get(JSON.stringify([d, m]))!.n));
  const fr = friedman(table, direction);
  const k = models.length;
  const n = datasets.length;
  const cd = nemenyiCD(k, n, alpha);
  const q = nemenyiQ(k, alpha);
  const avg = fr.avgRanks;
  const friedmanRejects = fr.p < alpha;

  const cliques: string[][] = [];
  if (!friedmanRejects) cliques.push([...models]);
  else {
    let reach = 0;
    for (let i = 0; i < k; i++) {
      let j = i;
      while (j + 1 < k && avg[j + 1]! - avg[i]! < cd) j++;
      if (j > i && j + 1 > reach) cliques.push(models.slice(i, j + 1));
      reach = Math.max(reach, j + 1);
    }
  }

  const lowerBetter = direction === 'lower';
  const raw = [];
  for (let i = 0; i < k; i++) {
    for (let j = i + 1; j < k; j++) {
      const a = table.map((row) => row[i]!);
      const b = table.map((row) => row[j]!);
      const w = wilcoxonSignedRank(a, b);
      const aWins = a.filter((x, t) => (lowerBetter ? x < b[t]! : x > b[t]!)).length;
      const bWins = a.filter((x, t) => (lowerBetter ? x > b[t]! : x < b[t]!)).length;
      // d = a − b: a is favoured by the ranks of the differences on its better side
      const forA = lowerBetter ? w.rMinus : w.rPlus;
      const forB = lowerBetter ? w.rPlus : w.rMinus;
      raw.push({
        a: models[i]!,
        b: models[j]!,
        rankDiff: avg[j]! - avg[i]!,
        nemenyiDiffers: friedmanRejects && avg[j]! - avg[i]! >= cd,
        statistic: w.statistic,
        wilcoxonP: w.p,
        method: w.method,
        n: w.n,
        zeros: w.zeros,
        aBetter: aWins,
        ties: n - aWins - bWins,
        bBetter: bWins,
        favours: forA > forB ? models[i]! : forB > forA ? models[j]! : null,
      });
    }
  }
  const adjusted = holm(raw.map((p) => p.wilcoxonP));
  const pairs: AcrossPair[] = raw.map((p, i) => ({ ...p, wilcoxonPHolm: adjusted[i]! }));
  const counts = runs.flat();
  const [fewest, most] = [Math.min(...counts), Math.max(...counts)];
  notes.push(
    `each model's value on a dataset is the mean of its runs' ${options.criterion} there (${fewest === most ? plural(most, 'run') : `${fewest} to ${most} runs`} per model and dataset); the ranks are taken over those means`,
  );

  const base = {
    criterion: options.criterion,
    direction,
    by: report.by,
    splitBy: report.splitBy,
    pooled: report.pooled,
    alpha,
    datasets,
    models,
    table,
    runs,
    ranks: fr.ranks,
    avgRanks: avg,
    friedman: { chi2: fr.chi2, df: fr.df, p: fr.p, ff: fr.ff, ffDf: fr.ffDf, ffP: fr.ffP },
    cd,
    q,
    cliques,
    pairs,
    notes,
  };
  return { ...base, verdict: acrossVerdict(base) };
}

/** What the Friedman, Nemenyi and Wilcoxon–Holm tests support, and only that. */
function acrossVerdict(r: Omit<AcrossDatasetsReport, 'verdict'>): string {
  const { models, avgRanks: avg, alpha, cd } = r;
  const k = models.length;
  const n = r.datasets.length;
  const tiedBest = models.filter((_, i) => Math.abs(avg[i]! - avg[0]!) < 1e-9);
  const best =
    tiedBest.length > 1
      ? `${tiedBest.join(', ')} share the best average rank (${averageRank(avg[0]!)})`
      : `${models[0]} has the best average rank (${averageRank(avg[0]!)})`;
  const parts: string[] = [];
  const f = r.friedman;
  const idDisagrees = f.p < alpha !== f.ffP < alpha && Number.isFinite(f.ffP);
  const id = idDisagrees ? `; the Iman–Davenport F, less conservative, gives ${pVerdict(f.ffP)}` : '';
  if (f.p >= alpha) {
    parts.push(
      `no significant difference among the ${k} models' ranks over ${n} datasets (Friedman ${pVerdict(f.p)}${id}); best average rank: ${tiedBest.join(', ')} (${averageRank(avg[0]!)}${tiedBest.length > 1 ? ', tied' : ''})`,
    );
  } else {
    parts.push(
      `Friedman ${pVerdict(f.p)}: the ${k} models' ranks differ over ${n} datasets${id ? ` (${id.slice(2)})` : ''}; ${best}`,
    );
    const cdText = `CD = ${averageRank(cd)}`;
    const far = r.pairs.filter((p) => p.nemenyiDiffers);
    if (far.length === 0) {
      const widest = r.pairs.reduce((x, y) => (y.rankDiff > x.rankDiff ? y : x));
      parts.push(
        `the Nemenyi test separates no pair: every difference of average ranks is below the critical difference (largest ${averageRank(widest.rankDiff)}, ${widest.a} vs ${widest.b}; ${cdText})`,
      );
    } else {
      const withBest = r.pairs.filter((p) => p.a === models[0]);
      const within = withBest.filter((p) => !p.nemenyiDiffers).map((p) => p.b);
      const beyond = withBest.filter((p) => p.nemenyiDiffers).map((p) => p.b);
      const others = far.filter((p) => p.a !== models[0]).map((p) => `${p.a} vs ${p.b}`);
      const said = [
        within.length
          ? `within the critical difference of ${models[0]} (${cdText}, Nemenyi): ${within.join(', ')}${beyond.length ? `; beyond it, significantly worse: ${beyond.join(', ')}` : ''}`
          : `every other model is beyond the critical difference of ${models[0]}, significantly worse (${cdText}, Nemenyi)`,
        ...(others.length ? [`other pairs beyond the CD: ${others.join(', ')}`] : []),
      ];
      parts.push(said.join('; '));
    }
  }
  const wins = r.pairs.filter((p) => p.wilcoxonPHolm < alpha && p.favours !== null);
  const m = r.pairs.length;
  const smallestExact = 2 ** (1 - n);
  if (wins.length) {
    const winners = [...new Set(wins.map((p) => p.favours!))];
    const beaten = (w: string) =>
      wins.filter((p) => p.favours === w).map((p) => `${p.favours === p.a ? p.b : p.a} (${pVerdict(p.wilcoxonPHolm)})`);
    parts.push(
      `by Wilcoxon over datasets after Holm, ${winners.map((w) => `${w} beats ${beaten(w).join(', ')}`).join('; ')}`,
    );
  } else if (smallestExact >= alpha) {
    parts.push(
      `with ${n} datasets the Wilcoxon signed-rank test cannot reach p < ${alpha} (its smallest exact p is 2/2^${n} = ${smallestExact.toFixed(3)}): compare over 6 datasets or more to test pairs`,
    );
  } else if (m * smallestExact >= alpha) {
    parts.push(
      `by Wilcoxon over datasets after Holm, no pair differs — nor could one with ${n} datasets and ${m} pairs (the smallest Holm-adjusted p possible is ${m}·2/2^${n} = ${(m * smallestExact).toFixed(3)})`,
    );
  } else {
    const smallest = Math.min(...r.pairs.map((p) => p.wilcoxonPHolm));
    parts.push(`by Wilcoxon over datasets after Holm, no pair differs (smallest ${pVerdict(smallest)})`);
  }
  return parts.join('; ');
}
