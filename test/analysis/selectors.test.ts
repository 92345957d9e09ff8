import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectRuns } from '../../dist/analysis/select.js';
import { openSqliteStore } from '../../dist/store/sqlite.js';
import { analysisDb, iniText } from '../support/analysis-db.js';
import { cli, tmpDir } from '../support/helpers.js';

type Store = ReturnType<typeof openSqliteStore>;

// lr 1e-2 and 1e-3 (as written in the config) × mlp1 width 2, 3, two repeats: runs 1-4 have lr 1e-2, 5-8 lr 1e-3; 1-2 and 5-6 width 2.
const MODELS = '[m]\ntype = mlp\nclass = mlp1\npath_to_class = m.ts\nkey = mlp\nwidth = 2, 3\n';

describe('selectors (-param_name_value and thresholds)', () => {
  let dir: string;
  let db: string;
  let store: Store;
  beforeAll(async () => {
    dir = tmpDir();
    db = await analysisDb(dir, iniText({ process: 'lr = 1e-2, 1e-3', multiplicity: 2, models: MODELS }), () => ({
      status: 'done',
      value: 1,
    }));
    store = openSqliteStore(db, { create: false, readonly: true });
  });
  afterAll(async () => store.close());

  it('compare values as numbers when both are numbers: 0.001 is 1e-3', async () => {
    expect(await selectRuns(store, { param_name_value: ['lr', '0.001'] })).toEqual([5, 6, 7, 8]);
    expect(await selectRuns(store, { param_name_value: ['lr', '1e-3'] })).toEqual([5, 6, 7, 8]);
    expect(await selectRuns(store, { param_name_value_high_threshold: ['lr', '0.005'] })).toEqual([1, 2, 3, 4]);
    expect(await selectRuns(store, { param_name_value_low_threshold: ['lr', '1E-3'] })).toEqual([5, 6, 7, 8]);
  });

  it('find a class parameter by its own name, as --at does', async () => {
    expect(await selectRuns(store, { param_name_value: ['width', '2'] })).toEqual([1, 2, 5, 6]);
    expect(await selectRuns(store, { param_name_value: ['mlp1_width', '2.0'] })).toEqual([1, 2, 5, 6]);
    expect(await selectRuns(store, { param_name_value_high_threshold: ['width', '3'] })).toEqual([3, 4, 7, 8]);
  });

  it('say what exists when nothing matches', async () => {
    await expect(selectRuns(store, { param_name_value: ['width', '7'] })).rejects.toThrow(
      /no run has width \(mlp1_width\) = 7; its values: 2, 3$/,
    );
    await expect(selectRuns(store, { param_name_value_low_threshold: ['lr', '1e-4'] })).rejects.toThrow(
      /no run has lr <= 1e-4; its values: 1e-3, 1e-2$/,
    );
    await expect(selectRuns(store, { param_name_value: ['depth', '2'] })).rejects.toThrow(
      /no run has a parameter depth \(nor one ending in _depth\); parameters: .*lr.*mlp1_width/,
    );
    // `mlp_key` is a key, not a parameter named `key`
    await expect(selectRuns(store, { param_name_value: ['key', 'mlp'] })).rejects.toThrow(/no run has a parameter key/);
  });

  it('the CLI selects the same way (plotloss -param_name_value lr 0.001)', async () => {
    const r = cli(['plotloss', db, `${dir}/loss.pdf`, '-param_name_value', 'lr', '0.001', '-plot_size', '2'], dir);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('1 page written');
    const none = cli(['plotloss', db, `${dir}/loss.pdf`, '-param_name_value', 'lr', '0.5'], dir);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no run has lr = 0\.5; its values: 1e-3, 1e-2/);
  });

  it('ask for the full name when two modules have a parameter of that name', async () => {
    const two = await analysisDb(
      tmpDir(),
      iniText({
        scheme: 'mlp, head',
        multiplicity: 1,
        models: `${MODELS}[h]\ntype = head\nclass = head1\npath_to_class = m.ts\nkey = head\nwidth = 1\n`,
      }),
      () => ({ status: 'done', value: 1 }),
    );
    const s = openSqliteStore(two, { create: false, readonly: true });
    try {
      await expect(selectRuns(s, { param_name_value: ['width', '2'] })).rejects.toThrow(
        /"width" could be any of head1_width, mlp1_width \(run 1\): give the full name/,
      );
      expect(await selectRuns(s, { param_name_value: ['mlp1_width', '2'] })).toEqual([1]);
    } finally {
      s.close();
    }
  });
});
