import type { SizeLetters } from './size-letters.js';
import type { SizeSummary } from './size-series.js';

/**
 * Where the letters of metaplot and perfanalysis go, in pixels from their point: beside it, on a
 * side its own line leaves free, inside the chart, and apart from the other letters of its size.
 * Pixels are estimated from the chart's size and the ranges its axes show (Vega's own scales
 * round their domains a little further out, so the estimate errs on the safe side).
 */

/** A letter's text: `dx`, `dy` in pixels from its point (SVG: y grows downwards), aligned on that side. */
export interface PlacedLetters extends SizeLetters {
  mean: number;
  dx: number;
  dy: number;
  align: 'left' | 'right';
}

export interface ChartSize {
  width: number;
  height: number;
  logX: boolean;
  /** The x axis's range when fixed (dodged charts), and the y range of all panels when they share it. */
  xDomain?: [number, number];
  yRange?: [number, number];
}

/** A point of the chart: its series' mean at a size, drawn at `x` (the size, or beside it when dodged). */
export type PlacedSummary = SizeSummary & { x?: number };

/** Pixels from a point to its letters' near edge (a point's radius is about 4), between the centres of two letters on one side, and above or below. */
const GAP = 6;
const STEP = 12;
const RISE = 9;
/** Half the height of a letter of 10 px, and the width of one (bold DejaVu Sans). */
const HALF_HEIGHT = 5;
const CHAR_WIDTH = 7;

interface Spot {
  side: 'left' | 'right';
  /** Height of the letters' centre above the point. */
  rise: number;
  /** Preference when nothing is in the way: right before left, level before above before below. */
  cost: number;
}

const SPOTS: Spot[] = [
  { side: 'right', rise: 0, cost: 0 },
  { side: 'right', rise: RISE, cost: 1 },
  { side: 'right', rise: -RISE, cost: 1.5 },
  { side: 'left', rise: 0, cost: 3 },
  { side: 'left', rise: RISE, cost: 4 },
  { side: 'left', rise: -RISE, cost: 4.5 },
];

export function placeLetters(letters: SizeLetters[], summaries: PlacedSummary[], chart: ChartSize): PlacedLetters[] {
  const finite = (xs: number[]) => xs.filter(Number.isFinite);
  const [lo, hi] = chart.yRange ?? [
    Math.min(...finite(summaries.flatMap((s) => [s.mean, s.lower]))),
    Math.max(...finite(summaries.flatMap((s) => [s.mean, s.upper]))),
  ];
  const yPerPixel = (hi > lo ? hi - lo : Math.abs(hi) || 1) / chart.height;
  const tx = (n: number) => (chart.logX ? Math.log10(Math.max(n, Number.MIN_VALUE)) : n);
  const xs = chart.xDomain ? chart.xDomain.map(tx) : summaries.map((s) => tx(s.x ?? s.nb_params));
  const [xLo, xHi] = [Math.min(...xs), Math.max(...xs)];
  const xPerPixel = (xHi > xLo ? xHi - xLo : 1) / chart.width;
  /** A point in pixels, y upwards. */
  const pixel = (s: PlacedSummary) => ({ x: tx(s.x ?? s.nb_params) / xPerPixel, y: s.mean / yPerPixel });
  const [bottom, top] = [lo / yPerPixel, hi / yPerPixel];
  /** Pixels from a point to the outermost point of its size on each side: dodged points stand side by side, and letters go beyond them all. */
  const beyond = (s: PlacedSummary) => {
    const at = summaries.filter((o) => o.nb_params === s.nb_params).map((o) => pixel(o).x - pixel(s).x);
    return { right: Math.max(0, ...at), left: Math.max(0, ...at.map((d) => -d)) };
  };

  const candidates = letters.flatMap((l) => {
    const own = summaries.filter((s) => s.series === l.series).sort((a, b) => a.nb_params - b.nb_params);
    const i = own.findIndex((s) => s.nb_params === l.nb_params);
    if (i < 0) return [];
    const here = pixel(own[i]!);
    const clear = beyond(own[i]!);
    // Its line's segments, from the point to each neighbour, relative to the point.
    const segments = [own[i - 1], own[i + 1]]
      .filter((s) => s !== undefined)
      .map((s) => ({ x: pixel(s).x - here.x, y: pixel(s).y - here.y }));
    const width = CHAR_WIDTH * l.letters.length;
    const cost = (spot: Spot) => {
      const [x0, x1] =
        spot.side === 'right'
          ? [clear.right + GAP, clear.right + GAP + width]
          : [-clear.left - GAP - width, -clear.left - GAP];
      const [y0, y1] = [spot.rise - HALF_HEIGHT - 1, spot.rise + HALF_HEIGHT + 1];
      const crossed = segments.filter((seg) => crosses(seg, x0, x1, y0, y1)).length;
      const outside = here.y + spot.rise - HALF_HEIGHT < bottom || here.y + spot.rise + HALF_HEIGHT > top ? 1 : 0;
      return spot.cost + 10 * crossed + 20 * outside;
    };
    const best = (side: Spot['side']) =>
      SPOTS.filter((s) => s.side === side).reduce((a, b) => (cost(b) < cost(a) ? b : a));
    const [right, left] = [best('right'), best('left')];
    return [
      {
        letters: l,
        mean: own[i]!.mean,
        point: here.y,
        clear,
        right: { at: here.y + right.rise, cost: cost(right) },
        left: { at: here.y + left.rise, cost: cost(left) },
      },
    ];
  });
  type Candidate = (typeof candidates)[number];

  // Each on its cheaper side; then a letter pushed away from its point by its neighbours on that
  // side moves to the other side if nothing is in its way there.
  let side = new Map(candidates.map((c) => [c, c.right.cost <= c.left.cost ? ('right' as const) : ('left' as const)]));
  let heights = stack(candidates, side);
  side = new Map(
    candidates.map((c) => {
      const mine = side.get(c)!;
      const other = mine === 'right' ? 'left' : 'right';
      const pushed = Math.abs(heights.get(c)! - c[mine].at) > STEP * 0.75;
      return [c, pushed && c[other].cost < 10 ? other : mine];
    }),
  );
  heights = stack(candidates, side);
  return candidates.map((c) => {
    const s = side.get(c)!;
    return {
      ...c.letters,
      mean: c.mean,
      dx: Math.round((s === 'right' ? c.clear.right + GAP : -c.clear.left - GAP) * 10) / 10,
      dy: Math.round((c.point - heights.get(c)!) * 10) / 10,
      align: s === 'right' ? ('left' as const) : ('right' as const),
    };
  });

  /**
   * The heights of the letters: those of one size and side, sorted by height, pushed apart in
   * clusters STEP apart, each centred on where its letters wanted to be, then kept inside the chart.
   */
  function stack(all: Candidate[], sideOf: Map<Candidate, 'left' | 'right'>): Map<Candidate, number> {
    const out = new Map<Candidate, number>();
    const groups = new Map<string, Candidate[]>();
    for (const c of all) {
      const key = JSON.stringify([c.letters.nb_params, sideOf.get(c)]);
      groups.set(key, [...(groups.get(key) ?? []), c]);
    }
    for (const group of groups.values()) {
      const want = (c: Candidate) => c[sideOf.get(c)!].at;
      group.sort((a, b) => want(a) - want(b));
      const clusters: { items: Candidate[]; base: number }[] = [];
      for (const c of group) {
        clusters.push({ items: [c], base: want(c) });
        while (clusters.length > 1) {
          const [prev, last] = [clusters[clusters.length - 2]!, clusters[clusters.length - 1]!];
          if (prev.base + prev.items.length * STEP <= last.base) break;
          const items = [...prev.items, ...last.items];
          clusters.splice(-2, 2, {
            items,
            base: items.reduce((sum, x, k) => sum + want(x) - k * STEP, 0) / items.length,
          });
        }
      }
      const first = clusters[0]!;
      const last = clusters[clusters.length - 1]!;
      const up = Math.max(0, bottom + HALF_HEIGHT - first.base);
      const down = Math.max(0, last.base + (last.items.length - 1) * STEP - (top - HALF_HEIGHT));
      const shift = up > 0 ? up : -down;
      for (const c of clusters)
        c.items.forEach((x, k) => {
          out.set(x, c.base + shift + k * STEP);
        });
    }
    return out;
  }
}

/** Whether the segment from (0, 0) to `to` passes through the box [x0, x1] × [y0, y1]. */
function crosses(to: { x: number; y: number }, x0: number, x1: number, y0: number, y1: number): boolean {
  // Liang–Barsky clipping of the segment to the box.
  let [t0, t1] = [0, 1];
  const edges: [number, number][] = [
    [-to.x, -x0],
    [to.x, x1],
    [-to.y, -y0],
    [to.y, y1],
  ];
  for (const [p, q] of edges) {
    if (p === 0) {
      if (q < 0) return false;
      continue;
    }
    const t = q / p;
    if (p < 0) t0 = Math.max(t0, t);
    else t1 = Math.min(t1, t);
    if (t0 > t1) return false;
  }
  return true;
}
