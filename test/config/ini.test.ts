import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseIni } from '../../src/config/ini.js';
import { ConfigError } from '../../src/core/errors.js';

/** What Python's configparser (default settings) reads from `text`: section → key → value. */
function pythonConfigparser(text: string): Record<string, Record<string, string>> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ini-')), 'c.ini');
  fs.writeFileSync(file, text);
  const script = `
import configparser, json, sys
c = configparser.ConfigParser()
c.read(sys.argv[1])
print(json.dumps({s: {k: c.get(s, k) for k in c[s]} for s in c.sections()}))
`;
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' }));
}

function ours(text: string): Record<string, Record<string, string>> {
  const doc = parseIni(text, 'c.ini');
  return Object.fromEntries(
    doc.sections.map((s) => [s.name, Object.fromEntries([...s.entries].map(([k, e]) => [k, e.value]))]),
  );
}

const CORPUS: Record<string, string> = {
  basic: '[PROCESS]\nlr = 1e-2\nepochs=400\n[MONITOR]\nnb_processus: 8\n',
  caseOfKeys: '[Sec]\nMyKey = Value With Case\nOTHER: x\n',
  comments: '# top\n; also\n[a]\n# inside\nk = v\n  ; indented comment\nj = w\n',
  continuation: '[a]\nk = first\n  second\n  third\nj = x\n',
  emptyThenContinuation: '[a]\nk =\n  one\n  two\n',
  blankInsideValue: '[a]\nk = one\n\n  two\nj = 3\n',
  delimiters: '[a]\nurl = http://x:80/y\ncolon: a=b\nspaces   =   padded value   \n',
  defaults: '[DEFAULT]\nlr = 0.1\n[a]\nk = 1\n[b]\nlr = 0.2\n',
  interpolation: '[a]\nbase = /data\npath = %(base)s/x\npercent = 50%%\n',
  sweeps: '[m]\nwidth = {2-5}\nlist = 1, 2, {4-10}\nkey = mlp_{class}_{width}\n',
};

describe('INI parser matches Python configparser', () => {
  for (const [name, text] of Object.entries(CORPUS)) {
    it(name, () => {
      expect(ours(text)).toEqual(pythonConfigparser(text));
    });
  }
});

describe('INI parser', () => {
  it('keeps line numbers of keys and sections', () => {
    const doc = parseIni('\n[a]\n\nk = 1\n  more\nj = 2\n', 'f.ini');
    expect(doc.sections[0]!.line).toBe(2);
    expect(doc.sections[0]!.entries.get('k')!.line).toBe(4);
    expect(doc.sections[0]!.entries.get('j')!.line).toBe(6);
  });

  it('removes inline comments after whitespace (a deliberate difference)', () => {
    expect(ours('[a]\nepochs = 400 # a comment\nx = a#b\n')).toEqual({ a: { epochs: '400', x: 'a#b' } });
  });

  it.each([
    ['[a]\nk = 1\n[a]\n', 'f.ini:3 [a]: section [a] already defined at line 1'],
    ['[a]\nk = 1\nK = 2\n', 'f.ini:3 [a] k: key "k" already set at line 2'],
    ['k = 1\n', 'f.ini:1: "k = 1" comes before any [section] header'],
    ['[a]\njust words\n', 'f.ini:2 [a]: expected "key = value" or "[section]", found "just words"'],
    ['[a]\np = %(nope)s\n', 'f.ini:2 [a] p: "%(nope)s" refers to a key that [a] does not have'],
  ])('rejects %j with a located message', (text, message) => {
    expect(() => parseIni(text, 'f.ini')).toThrow(ConfigError);
    expect(() => parseIni(text, 'f.ini')).toThrow(message);
  });
});
