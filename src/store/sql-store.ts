/**
 * The store over SQL, on SQLite and PostgreSQL alike: every role of `Store`, each answered by its
 * own object (sql-queue, sql-recorder, sql-reader, sql-admin) over one shared connection
 * (sql-context). Methods that two roles share (counts, identity, …) give the same answer from either.
 */
import type { SqlConnection } from './connection.js';
import { SqlAdmin } from './sql-admin.js';
import { SqlContext } from './sql-context.js';
import { SqlQueue } from './sql-queue.js';
import { SqlReader } from './sql-reader.js';
import { SqlRecorder } from './sql-recorder.js';
import type { RunQueue, RunRecorder, Store, StoreAdmin, StoreReader } from './types.js';

export class SqlStore implements Store {
  private readonly queue: SqlQueue;
  private readonly recorder: SqlRecorder;
  private readonly reader: SqlReader;
  private readonly admin: SqlAdmin;

  constructor(
    conn: SqlConnection,
    /** The database as a user names it, without any password. */
    readonly location: string,
  ) {
    const sql = new SqlContext(conn, location);
    this.queue = new SqlQueue(sql);
    this.recorder = new SqlRecorder(sql);
    this.reader = new SqlReader(sql);
    this.admin = new SqlAdmin(sql);
  }

  // RunQueue
  readonly claimPack: RunQueue['claimPack'] = (...a) => this.queue.claimPack(...a);
  readonly releaseRuns: RunQueue['releaseRuns'] = (...a) => this.queue.releaseRuns(...a);
  readonly heartbeat: RunQueue['heartbeat'] = (...a) => this.queue.heartbeat(...a);
  readonly releaseRunsOfDeadWorker: RunQueue['releaseRunsOfDeadWorker'] = (...a) =>
    this.queue.releaseRunsOfDeadWorker(...a);
  readonly requeueRunsOfWorker: RunQueue['requeueRunsOfWorker'] = (...a) => this.queue.requeueRunsOfWorker(...a);
  readonly reclaimStale: RunQueue['reclaimStale'] = (...a) => this.queue.reclaimStale(...a);
  readonly isPaused: RunQueue['isPaused'] = () => this.queue.isPaused();
  readonly counts: RunQueue['counts'] = () => this.queue.counts();
  readonly busyWorkers: RunQueue['busyWorkers'] = () => this.queue.busyWorkers();
  readonly markWorkerAlive: RunQueue['markWorkerAlive'] = (...a) => this.queue.markWorkerAlive(...a);
  readonly forgetWorker: RunQueue['forgetWorker'] = (...a) => this.queue.forgetWorker(...a);
  readonly idleWorkers: RunQueue['idleWorkers'] = (...a) => this.queue.idleWorkers(...a);

  // RunRecorder
  readonly identity: RunRecorder['identity'] = () => this.recorder.identity();
  readonly history: RunRecorder['history'] = (...a) => this.recorder.history(...a);
  readonly recordEpoch: RunRecorder['recordEpoch'] = (...a) => this.recorder.recordEpoch(...a);
  readonly finishRun: RunRecorder['finishRun'] = (...a) => this.recorder.finishRun(...a);
  readonly failRun: RunRecorder['failRun'] = (...a) => this.recorder.failRun(...a);
  readonly recordFacts: RunRecorder['recordFacts'] = (...a) => this.recorder.recordFacts(...a);

  // StoreReader
  readonly runningClaims: StoreReader['runningClaims'] = () => this.reader.runningClaims();
  readonly getSetting: StoreReader['getSetting'] = (name) => this.reader.getSetting(name);
  readonly queryRunIds: StoreReader['queryRunIds'] = (...a) => this.reader.queryRunIds(...a);
  readonly allRunIds: StoreReader['allRunIds'] = () => this.reader.allRunIds();
  readonly metricDirections: StoreReader['metricDirections'] = () => this.reader.metricDirections();
  readonly facts: StoreReader['facts'] = (...a) => this.reader.facts(...a);
  readonly allFacts: StoreReader['allFacts'] = () => this.reader.allFacts();
  readonly histories: StoreReader['histories'] = (...a) => this.reader.histories(...a);
  readonly overview: StoreReader['overview'] = (...a) => this.reader.overview(...a);
  readonly openRuns: StoreReader['openRuns'] = () => this.reader.openRuns();
  readonly runDir: StoreReader['runDir'] = (...a) => this.reader.runDir(...a);
  readonly copyTo: StoreReader['copyTo'] = (...a) => this.reader.copyTo(...a);
  readonly integrityCheck: StoreReader['integrityCheck'] = () => this.reader.integrityCheck();
  readonly raceRounds: StoreReader['raceRounds'] = () => this.reader.raceRounds();
  readonly close: StoreReader['close'] = () => this.reader.close();

  // StoreAdmin
  readonly enqueue: StoreAdmin['enqueue'] = (...a) => this.admin.enqueue(...a);
  readonly usedSeeds: StoreAdmin['usedSeeds'] = () => this.admin.usedSeeds();
  readonly setPaused: StoreAdmin['setPaused'] = (...a) => this.admin.setPaused(...a);
  readonly setSetting: StoreAdmin['setSetting'] = (...a) => this.admin.setSetting(...a);
  readonly extendRuns: StoreAdmin['extendRuns'] = (...a) => this.admin.extendRuns(...a);
  readonly retryFailedRuns: StoreAdmin['retryFailedRuns'] = () => this.admin.retryFailedRuns();
  readonly deleteRuns: StoreAdmin['deleteRuns'] = (...a) => this.admin.deleteRuns(...a);
  readonly becomeCopyOf: StoreAdmin['becomeCopyOf'] = (...a) => this.admin.becomeCopyOf(...a);
  readonly updateFacts: StoreAdmin['updateFacts'] = (...a) => this.admin.updateFacts(...a);
  readonly importRuns: StoreAdmin['importRuns'] = (...a) => this.admin.importRuns(...a);
  readonly recordRaceRound: StoreAdmin['recordRaceRound'] = (...a) => this.admin.recordRaceRound(...a);
}
