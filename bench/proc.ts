/**
 * Process facts every benchmark records: resident memory from /proc (Linux) or of the browsers
 * a benchmark started, the load average, and one line describing the machine.
 */
import { execSync } from 'node:child_process';
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

/** Resident memory of the browser process trees started by this process, MiB. */
export function browserTreeRssMiB(): number {
  try {
    const rows = execSync('ps -eo pid=,ppid=,rss=,args=', { encoding: 'utf8', maxBuffer: 16 << 20 })
      .trim()
      .split('\n')
      .map((l) => {
        const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/.exec(l)!;
        return { pid: Number(m[1]), ppid: Number(m[2]), rss: Number(m[3]), args: m[4] };
      });
    const children = new Map<number, number[]>();
    for (const r of rows) children.set(r.ppid, [...(children.get(r.ppid) ?? []), r.pid]);
    const byPid = new Map(rows.map((r) => [r.pid, r]));
    // Roots: our children that are the browser (not Vite's esbuild service).
    const stack = (children.get(process.pid) ?? []).filter((p) => /chrom/i.test(byPid.get(p)?.args ?? ''));
    let total = 0;
    while (stack.length) {
      const p = stack.pop()!;
      total += byPid.get(p)?.rss ?? 0;
      stack.push(...(children.get(p) ?? []));
    }
    return total / 1024;
  } catch {
    return 0;
  }
}
