import os from 'node:os';

/**
 * The name workers of this machine record with their claims: `$MOSAIC_HOST` when set (a cluster
 * whose nodes share a hostname, or tests simulating hosts), otherwise the hostname.
 */
export function hostName(): string {
  return process.env.MOSAIC_HOST || os.hostname();
}

/** Whether a worker (host, pid) still lives: checked on this host; another host's workers are judged by their heartbeats only. */
export function isWorkerAlive(host: string, pid: number): boolean {
  if (host !== hostName()) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
