import fs from 'node:fs';
import path from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import PDFDocument from 'pdfkit';
import SVGtoPDF from 'svg-to-pdfkit';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { MosaicError } from '../core/errors.js';

/**
 * Vega-Lite specs → SVG, PNG or PDF, chosen by the output's extension. Specs are built
 * elsewhere (analysis/); this module only draws. Text uses DejaVu Sans, present on the machine.
 */
export const FONT = 'DejaVu Sans';
const FONT_FILES = ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', '/usr/share/fonts/TTF/DejaVuSans.ttf'];

export type OutputFormat = 'svg' | 'png' | 'pdf';

export function outputFormat(file: string): OutputFormat {
  const ext = path.extname(file).toLowerCase().slice(1);
  if (ext === 'svg' || ext === 'png' || ext === 'pdf') return ext;
  throw new MosaicError(`cannot tell the format of ${file}: name it .pdf, .png or .svg`);
}

/** Defaults every figure shares: fonts, sizes, readable axes. */
export const BASE_CONFIG = {
  font: FONT,
  title: { fontSize: 13, subtitleFontSize: 10, anchor: 'start' as const, subtitleColor: '#444' },
  axis: { labelFontSize: 10, titleFontSize: 11, grid: true, gridColor: '#e6e6e6' },
  legend: { labelFontSize: 10, titleFontSize: 11, orient: 'bottom' as const },
  view: { stroke: '#bbb' },
  background: 'white',
};

export async function toSvg(spec: vl.TopLevelSpec): Promise<string> {
  // Errors only: Vega-Lite's warnings (e.g. on faceted independent scales) are not the user's to read.
  const logger = vega.logger(vega.Error);
  const compiled = vl.compile(
    { ...spec, config: { ...BASE_CONFIG, ...(spec as { config?: object }).config } } as vl.TopLevelSpec,
    { logger },
  ).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

function fontFile(): string | undefined {
  return FONT_FILES.find((f) => fs.existsSync(f));
}

export function svgToPng(svg: string): Buffer {
  const font = fontFile();
  const resvg = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: 2 },
    font: { loadSystemFonts: true, defaultFontFamily: FONT, ...(font ? { fontFiles: [font] } : {}) },
  });
  return resvg.render().asPng();
}

/** One PDF page per SVG, each page the size of its SVG. */
export function svgsToPdf(svgs: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ autoFirstPage: false, info: { Title: 'Mosaic', Creator: 'Mosaic' } });
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    const font = fontFile();
    if (font) doc.registerFont(FONT, font);
    for (const svg of svgs) {
      const [w, h] = svgSize(svg);
      doc.addPage({ size: [w, h], margin: 0 });
      SVGtoPDF(doc, pdfSafe(svg), 0, 0, {
        width: w,
        height: h,
        assumePt: true,
        fontCallback: () => (font ? FONT : 'Helvetica'),
      });
    }
    doc.end();
  });
}

/** svg-to-pdfkit rejects dash patterns with a zero length, which vega writes for solid lines ("1,0"). */
function pdfSafe(svg: string): string {
  return svg.replace(/\sstroke-dasharray="([^"]*)"/g, (attr, value: string) =>
    value.split(/[\s,]+/).some((v) => Number(v) <= 0) ? '' : attr,
  );
}

function svgSize(svg: string): [number, number] {
  const w = /<svg[^>]*\swidth="([\d.]+)"/.exec(svg)?.[1];
  const h = /<svg[^>]*\sheight="([\d.]+)"/.exec(svg)?.[1];
  return [Number(w ?? 800), Number(h ?? 600)];
}

/**
 * Writes the pages to `file`: a PDF gets one page per spec; a PNG or SVG gets the first page
 * (and `name-2.png`, … for the others).
 */
export async function writeFigure(file: string, pages: vl.TopLevelSpec[]): Promise<string[]> {
  const format = outputFormat(file);
  const svgs: string[] = [];
  // One page at a time: a view per page at once would hold every page's dataflow in memory.
  for (const page of pages) svgs.push(await toSvg(page));
  try {
    if (format === 'pdf') {
      fs.writeFileSync(file, await svgsToPdf(svgs));
      return [file];
    }
    return svgs.map((svg, i) => {
      const out = i === 0 ? file : file.replace(/(\.\w+)$/, `-${i + 1}$1`);
      fs.writeFileSync(out, format === 'svg' ? svg : svgToPng(svg));
      return out;
    });
  } catch (e) {
    throw new MosaicError(`cannot write ${file}: ${(e as Error).message}`);
  }
}
