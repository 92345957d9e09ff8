/** Tables of the SQLite store. The first four are the original Mosaic's, column for column. */
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
  slope_std_minus REAL
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
  attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS queue_by_worker ON mosaic_queue (worker);
`;

export const SCHEMA_VERSION = '1';
