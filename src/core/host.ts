import fs from 'node:fs';
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
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/**
 * A process killed with its parent (kill -9 of a whole scheduler) stays a zombie until someone
 * reaps it — in a container whose first process reaps nothing, for ever —, and signal 0 still
 * reaches it: on Linux its state in /proc says it is dead.
 */
function isZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X';
  } catch {
    return false;
  }
}
