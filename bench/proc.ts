/**
 * Process facts every benchmark records: resident memory from /proc (Linux), the load average,
 * and one line describing the machine.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** VmHWM (peak resident) or VmRSS (current) of a process in MiB; 0 when it cannot be read. */
export function procStatusMiB(field: 'VmHWM' | 'VmRSS', pid: number | 'self' = 'self'): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    /* not Linux, or the process is gone */
  }
  return pid === 'self' ? process.memoryUsage().rss / 2 ** 20 : 0;
}

/** The 1, 5 and 15 minute load averages, rounded. */
export const loadAvg = (): number[] => os.loadavg().map((x) => Number(x.toFixed(2)));

export function machineLine(): string {
  return `${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`;
}
