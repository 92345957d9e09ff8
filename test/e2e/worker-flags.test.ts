// The Node flags of worker processes (worker/pool.ts `workerExecArgv`), seen from inside a real
// worker by a model class that refuses to build otherwise.
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, FIXTURES, fixtureConfig, openDb, tmpDir } from '../support/helpers.js';

describe('worker processes', () => {
  const cores = os.availableParallelism();
  it.each([
    [`as many workers as cores (${cores})`, cores, true],
    ...(cores > 1 ? [['one worker with a core to spare', 1, false] as [string, number, boolean]] : []),
  ])(
    '%s: garbage collected on the worker thread (--single-threaded-gc) exactly when no core is spare',
    (_, workers, single) => {
      const dir = tmpDir();
      const config = fixtureConfig(dir, {
        epochs: 1,
        monitor: `nb_processus = ${workers}\nmultiplicity = ${workers}\npack_size = 1`,
        models: `
[gc_flag]
type = model
class = gc_flag
path_to_class = ${FIXTURES}/gc-flag.js
key = gc
single_gc = ${single ? 'True' : 'False'}
`,
      });
      const db = path.join(dir, 'g.db');
      const r = cli(['run', config, db], dir);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const d = openDb(db);
      expect(d.prepare(`SELECT COUNT(*) n FROM runs WHERE status = 'done'`).get()).toEqual({ n: workers });
      d.close();
    },
  );
});
