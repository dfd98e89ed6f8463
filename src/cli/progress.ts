/** A one-line progress bar on stderr (redrawn on a TTY, every ~5% otherwise). */
export function progressBar(total: number, enabled: boolean) {
  const tty = Boolean(process.stderr.isTTY);
  const every = Math.max(1, Math.ceil(total / 20));
  const started = Date.now();
  return {
    update(done: number, text: string): void {
      if (!enabled) return;
      const width = 24;
      const fill = Math.round((width * done) / total);
      const secs = (Date.now() - started) / 1000;
      const eta = done > 0 && done < total ? ` eta ${((secs / done) * (total - done)).toFixed(0)}s` : '';
      const line = `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${done}/${total} ${text} ${secs.toFixed(1)}s${eta}`;
      if (tty) process.stderr.write(`\r${line}\u001b[K`);
      else if (done % every === 0 || done === total) process.stderr.write(`${line}\n`);
    },
    end(): void {
      if (enabled && tty) process.stderr.write('\n');
    },
  };
}
