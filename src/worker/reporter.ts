import cliProgress from 'cli-progress';
import { sci } from '../core/format.js';

/** What the scheduler shows while an experiment runs. */
export interface Reporter {
  launched(
    worker: number,
    runId: number,
    index: number,
    total: number,
    pipeline: string,
    epochsDone: number,
    epochs: number,
  ): void;
  epoch(worker: number, runId: number, epoch: number, epochs: number, trainLoss: number, testLoss: number): void;
  finished(worker: number, runId: number, status: 'done' | 'error' | 'failed' | 'diverged', message?: string): void;
  log(line: string): void;
  /** A race's round was decided (its line), and `queued` more runs are to train. */
  raced(line: string, queued: number): void;
  close(): void;
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0
    ? `${h}h${String(m).padStart(2, '0')}m`
    : m > 0
      ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`
      : `${Math.round(s)}s`;
}

/**
 * Plain lines for logs and pipes, with the original's ` ---> launch ID i/N` and
 * `[run finished] ID`; epoch progress at most every `epochEverySeconds` per worker.
 */
export class LineReporter implements Reporter {
  private lastEpochLine = new Map<number, number>();
  constructor(
    private readonly out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
    private readonly epochEverySeconds = 10,
  ) {}

  launched(_worker: number, runId: number, index: number, total: number, pipeline: string, epochsDone: number): void {
    const resume = epochsDone > 0 ? ` (continuing after epoch ${epochsDone})` : '';
    // i/N where N is known to count this run (workers of other hosts or runs given back make it grow).
    this.out(` ---> launch ${runId} ${total >= index ? `${index}/${total}` : `${index}`} ${pipeline}${resume}`);
  }

  epoch(worker: number, runId: number, epoch: number, epochs: number, trainLoss: number, testLoss: number): void {
    const now = Date.now();
    if (
      epoch < epochs &&
      now - (this.lastEpochLine.get(worker) ?? now - this.epochEverySeconds * 1000) < this.epochEverySeconds * 1000
    )
      return;
    this.lastEpochLine.set(worker, now);
    this.out(`     run ${runId} epoch ${epoch}/${epochs} train_loss=${sci(trainLoss)} test_loss=${sci(testLoss)}`);
  }

  finished(_worker: number, runId: number, status: 'done' | 'error' | 'failed' | 'diverged', message?: string): void {
    this.out(
      status === 'done'
        ? ` [run finished] ${runId}${message ? `: ${message}` : ''}`
        : ` [run ${status}] ${runId}: ${message ?? ''}`,
    );
  }

  log(line: string): void {
    this.out(line);
  }

  raced(line: string): void {
    this.out(` [race] ${line}`);
  }

  close(): void {}
}

/** On a terminal: an overall bar (runs done/total, ETA) and a line per worker. */
export class BarReporter implements Reporter {
  private readonly multibar: cliProgress.MultiBar;
  private readonly overall: cliProgress.SingleBar;
  private readonly workers = new Map<number, cliProgress.SingleBar>();
  private readonly pipelines = new Map<number, string>();
  private done = 0;
  private errors = 0;

  private readonly started = Date.now();
  private total: number;

  private etaSeconds(): number {
    const finished = this.done + this.errors;
    return ((Date.now() - this.started) / 1000 / finished) * (this.total - finished);
  }

  constructor(total: number, workerCount: number) {
    this.total = total;
    this.multibar = new cliProgress.MultiBar(
      {
        clearOnComplete: false,
        hideCursor: true,
        autopadding: true,
        etaBuffer: 20,
        format: '{label} |{bar}| {value}/{total} {info}',
      },
      cliProgress.Presets.shades_classic,
    );
    this.overall = this.multibar.create(
      total,
      0,
      { info: '', etaText: 'ETA after the first run' },
      { format: 'runs     |{bar}| {value}/{total} {info} {etaText}' },
    );
    for (let w = 1; w <= workerCount; w++)
      this.workers.set(w, this.multibar.create(1, 0, { label: `worker ${w}`, info: 'starting' }));
  }

  private bar(worker: number): cliProgress.SingleBar {
    let b = this.workers.get(worker);
    if (!b) {
      b = this.multibar.create(1, 0, { label: `worker ${worker}`, info: '' });
      this.workers.set(worker, b);
    }
    return b;
  }

  launched(
    worker: number,
    runId: number,
    _index: number,
    _total: number,
    pipeline: string,
    epochsDone: number,
    epochs: number,
  ): void {
    const b = this.bar(worker);
    this.pipelines.set(worker, pipeline.length > 48 ? `${pipeline.slice(0, 47)}…` : pipeline);
    b.setTotal(epochs);
    b.update(epochsDone, { info: `epochs  run ${runId} ${this.pipelines.get(worker)}` });
  }

  epoch(worker: number, runId: number, epoch: number, epochs: number, trainLoss: number, testLoss: number): void {
    this.bar(worker).update(epoch, {
      info: `epochs  run ${runId} ${this.pipelines.get(worker) ?? ''}  loss ${sci(trainLoss)}/${sci(testLoss)}`,
    });
    void epochs;
  }

  finished(worker: number, runId: number, status: 'done' | 'error' | 'failed' | 'diverged', message?: string): void {
    if (status === 'done') {
      this.done++;
      if (message) this.multibar.log(`run ${runId}: ${message}\n`);
    } else {
      this.errors++;
      this.multibar.log(`run ${runId} ${status}: ${message ?? ''}\n`);
    }
    this.overall.increment(1, { info: `(${this.done} done, ${this.errors} failed)` });
    this.overall.update({ etaText: `ETA ${formatSeconds(this.etaSeconds())}` } as never);
    this.bar(worker).update({ info: `idle (last: run ${runId} ${status})` } as never);
  }

  log(line: string): void {
    this.multibar.log(`${line}\n`);
  }

  raced(line: string, queued: number): void {
    this.multibar.log(`[race] ${line}\n`);
    this.total += queued;
    this.overall.setTotal(this.total);
  }

  close(): void {
    this.multibar.stop();
  }
}
