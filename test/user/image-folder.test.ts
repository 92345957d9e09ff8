import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MosaicError } from '../../src/core/errors.js';
import { readImageFolder } from '../../src/user/image-folder.js';
import { FIXTURES, tmpDir } from '../support/helpers.js';

const DIR = path.join(FIXTURES, 'data-formats');
/** The pixels the PNGs hold (scripts/make-data-files.py), per image in class then file order. */
const expected = JSON.parse(fs.readFileSync(path.join(DIR, 'expected.json'), 'utf8')) as Record<
  string,
  { classes: string[]; pixels: number[][] }
>;
const scaled = (pixels: number[]) => pixels.map((v) => Math.fround(v / 255));

describe('readImageFolder', () => {
  it('reads gray images by class: pixels in [0, 1], class indices, shape', () => {
    const set = readImageFolder(path.join(DIR, 'images-gray'));
    expect(set.classes).toEqual(['dark', 'light']);
    expect(set.y).toEqual([0, 0, 0, 1, 1]);
    expect(set.shape).toEqual([4, 5, 1]);
    expect(set.x.map((r) => Array.from(r))).toEqual(expected['images-gray']!.pixels.map(scaled));
  });

  it('reads RGB images, the channels of a pixel together', () => {
    const set = readImageFolder(path.join(DIR, 'images-rgb'));
    expect(set.classes).toEqual(['blue', 'red']);
    expect(set.y).toEqual([0, 0, 1, 1, 1]);
    expect(set.shape).toEqual([3, 2, 3]);
    expect(set.x.map((r) => Array.from(r))).toEqual(expected['images-rgb']!.pixels.map(scaled));
  });

  it('turns RGB into gray by luminance, and gray into RGB by repeating, on request', () => {
    const gray = readImageFolder(path.join(DIR, 'images-rgb'), { channels: 1 });
    expect(gray.shape).toEqual([3, 2, 1]);
    const rgb = expected['images-rgb']!.pixels[0]!;
    expect(gray.x[0]![1]).toBeCloseTo((0.299 * rgb[3]! + 0.587 * rgb[4]! + 0.114 * rgb[5]!) / 255, 6);
    const tripled = readImageFolder(path.join(DIR, 'images-gray'), { channels: 3 });
    const v = expected['images-gray']!.pixels[0]![0]! / 255;
    expect(Array.from(tripled.x[0]!.subarray(0, 3))).toEqual([v, v, v].map(Math.fround));
  });

  it('refuses images of another size, empty folders and missing folders, naming them', () => {
    const empty = tmpDir();
    fs.mkdirSync(path.join(empty, 'cats'));
    const cases: [string, RegExp][] = [
      [path.join(DIR, 'images-mixed'), /images-mixed\/b\/0\.png: 4×5 pixels, but .*images-mixed\/a\/0\.png has 5×4/],
      [empty, /cats: no \.png files in this class folder$/],
      [path.join(empty, 'cats'), /cats: no class folders/],
      [path.join(DIR, 'nowhere'), /nowhere: no such folder$/],
    ];
    for (const [folder, message] of cases) {
      expect(() => readImageFolder(folder)).toThrow(MosaicError);
      expect(() => readImageFolder(folder)).toThrow(message);
    }
  });

  it('refuses a file that is not a PNG, naming it', () => {
    const dir = tmpDir();
    fs.mkdirSync(path.join(dir, 'a'));
    fs.writeFileSync(path.join(dir, 'a', 'x.png'), 'not a png');
    expect(() => readImageFolder(dir)).toThrow(/a\/x\.png: not a readable PNG image/);
  });
});
