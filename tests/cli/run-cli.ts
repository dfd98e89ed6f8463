/** Run bin/pmd-lab.mjs in a child process and collect its exit code and output. */
import { execFile } from 'node:child_process';
import path from 'node:path';

const BIN = path.resolve('bin/pmd-lab.mjs');

export function runCli(args: string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { maxBuffer: 1 << 26, cwd }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}
