/**
 * Tables of the SQLite store. The first four are the original Mosaic's, column for column
 * (`run_results` gains two columns at its end); the others are Mosaic's own.
 */

/** Tables that schema version 2 added; the migration from version 1 creates them as they are. */
const TABLES_SINCE_V2 = `
CREATE TABLE IF NOT EXISTS history_metrics (
  run_id INTEGER NOT NULL,
  epoch INTEGER NOT NULL,
  name TEXT NOT NULL,
  value REAL,
  PRIMARY KEY (run_id, epoch, name)
);
CREATE TABLE IF NOT EXISTS metric_info (
  name TEXT PRIMARY KEY,
  better TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS mosaic_failures (
  run_id INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  epoch INTEGER NOT NULL,
  status TEXT NOT NULL,
  message TEXT,
  traceback TEXT,
  at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS failures_by_run ON mosaic_failures (run_id);
CREATE TABLE IF NOT EXISTS mosaic_experiments (
  experiment_id INTEGER PRIMARY KEY,
  created_at REAL NOT NULL,
  config_file TEXT,
  config_text TEXT,
  config_hash TEXT,
  user_files TEXT,
  mosaic_version TEXT,
  git_commit TEXT,
  first_run_id INTEGER,
  last_run_id INTEGER
);
`;

export const SQLITE_SCHEMA = `
CREATE TABLE IF NOT EXISTS system (
  param_name TEXT PRIMARY KEY,
  param_value TEXT
);
CREATE TABLE IF NOT EXISTS params (
  run_id INTEGER NOT NULL,
  param_name TEXT NOT NULL,
  param_value TEXT,
  PRIMARY KEY (run_id, param_name)
);
CREATE INDEX IF NOT EXISTS params_by_name ON params (param_name, param_value);
CREATE TABLE IF NOT EXISTS runs (
  run_id INTEGER PRIMARY KEY,
  status TEXT NOT NULL,
  pipeline TEXT NOT NULL,
  return_status TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status, run_id);
CREATE TABLE IF NOT EXISTS run_results (
  run_id INTEGER PRIMARY KEY,
  train_loss REAL,
  test_loss REAL,
  train_acc REAL,
  test_acc REAL,
  nb_params INTEGER,
  "duration(s)" REAL,
  epochs INTEGER,
  overfit REAL,
  trainability REAL,
  slope REAL,
  slope_std_plus REAL,
  slope_std_minus REAL,
  best_test_loss REAL,
  best_epoch INTEGER
);
CREATE TABLE IF NOT EXISTS history (
  run_id INTEGER NOT NULL,
  epoch INTEGER NOT NULL,
  train_loss REAL,
  test_loss REAL,
  train_acc REAL,
  test_acc REAL,
  "duration(s)" REAL,
  PRIMARY KEY (run_id, epoch)
);
CREATE TABLE IF NOT EXISTS mosaic_queue (
  run_id INTEGER PRIMARY KEY,
  spec TEXT NOT NULL,
  seed INTEGER NOT NULL,
  epochs_target INTEGER NOT NULL,
  worker TEXT,
  host TEXT,
  pid INTEGER,
  device TEXT,
  claimed_at REAL,
  heartbeat_at REAL,
  finished_at REAL,
  attempts INTEGER NOT NULL DEFAULT 0,
  run_dir TEXT,
  pack_key TEXT
);
CREATE INDEX IF NOT EXISTS queue_by_worker ON mosaic_queue (worker);
${TABLES_SINCE_V2}`;

export const SCHEMA_VERSION = 2;

/**
 * Steps from each older version to the next, run in one transaction when a writer opens an
 * older database. Version 1 kept checkpoints in `run_files_path/run_<id>`: its runs keep them there.
 */
export const MIGRATIONS: Record<number, string> = {
  1: `
ALTER TABLE run_results ADD COLUMN best_test_loss REAL;
ALTER TABLE run_results ADD COLUMN best_epoch INTEGER;
ALTER TABLE mosaic_queue ADD COLUMN run_dir TEXT;
ALTER TABLE mosaic_queue ADD COLUMN pack_key TEXT;
UPDATE mosaic_queue SET run_dir = json_extract(spec, '$.process.run_files_path') || '/run_' || run_id, pack_key = spec;
${TABLES_SINCE_V2}`,
};
