import os from 'node:os';

/** Whether a worker (host, pid) still lives: checked on this host; another host's workers are judged by their heartbeats only. */
export function isWorkerAlive(host: string, pid: number): boolean {
  if (host !== os.hostname()) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
