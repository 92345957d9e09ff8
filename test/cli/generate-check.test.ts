import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, faultyModel, fixtureConfig, tmpDir } from '../support/helpers.js';

describe('generate checks the classes', () => {
  it('a typo in a class name is caught before the file is written; --no-check skips it', () => {
    const dir = tmpDir();
    const config = fixtureConfig(dir, { models: faultyModel('2'), epochs: 1 });
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('class = faulty', 'class = faulyt'));
    const out = path.join(dir, 'p.json');
    const r = cli(['generate', config, out], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\[faulty\] class.*faulyt/);
    expect(fs.existsSync(out)).toBe(false);
    expect(cli(['generate', config, out, '--no-check'], dir).code).toBe(0);
    expect(fs.existsSync(out)).toBe(true);
  });
});
