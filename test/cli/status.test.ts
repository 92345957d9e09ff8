import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, FIXTURES, faultyModel, fixtureConfig, rows, tmpDir } from '../support/helpers.js';

describe('status', () => {
  it('Done lines show the parameters that tell apart the runs of one dataset | model key, and only those', () => {
    const dir = tmpDir();
    // lr swept in [PROCESS]; [faulty]'s key does not hold its width, [fixed]'s runs differ by lr alone
    const fixed = `\n[fixed]\ntype = model\nclass = faulty\npath_to_class = ${FIXTURES}/faulty-models.ts\nkey = fixed\nwidth = 2\n`;
    const config = fixtureConfig(dir, { models: faultyModel('2, 5') + fixed, epochs: 1 });
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('lr = 1e-2', 'lr = 1e-2, 5e-2'));
    const db = path.join(dir, 's.db');
    const r = cli(['run', config, db], dir);
    expect(r.code, r.stdout + r.stderr).toBe(0);

    const fact = (id: number, name: string) =>
      rows(db, 'SELECT param_value v FROM params WHERE run_id = ? AND param_name = ?', id, name)[0]?.v;
    const runs = rows(db, 'SELECT run_id FROM runs ORDER BY run_id').map((x) => x.run_id as number);
    expect(runs).toHaveLength(6);
    const s = cli(['status', db], dir);
    expect(s.code, s.stderr).toBe(0);
    const done = s.stdout.split('\n').filter((l) => /^\t\[\d+\] /.test(l));
    expect(done).toHaveLength(6);
    for (const id of runs) {
      const line = done.find((l) => l.startsWith(`\t[${id}] `))!;
      const apart =
        fact(id, 'model_key') === 'net'
          ? `lr=${fact(id, 'lr')} width=${fact(id, 'faulty_width')}`
          : `lr=${fact(id, 'lr')}`;
      expect(line).toMatch(
        new RegExp(`^\\t\\[${id}\\] or \\| (net|fixed) {2}${apart.replace(/[.+]/g, '\\$&')}\\ttrain_loss=`),
      );
    }
    // both values of each swept parameter are shown, and no bookkeeping fact (the seeds differ too)
    expect(done.filter((l) => l.includes('lr=5e-2'))).toHaveLength(3);
    expect(done.filter((l) => l.includes('width=5'))).toHaveLength(2);
    expect(s.stdout).not.toMatch(/seed=|epochs=/);
  });
});
