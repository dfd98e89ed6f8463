/**
 * A run kept in a folder (Node; `pmd-lab run --out <dir>`). The layout is a contract other tools
 * read:
 *   config.json            the resolved configuration (kept current with live switches)
 *   state.json             the machine's state after the last committed transition
 *   metrics.jsonl          one line per completed step
 *   rollouts.jsonl         one line per rollout (response, reward, feedback, teacher context, tokens)
 *   reflections.jsonl      every reflection call (prompt outcome, reflector, status)
 *   evals.jsonl            every evaluation with its samples
 *   controls.jsonl         live switches (freeze policy / memory)
 *   memory/experience.json, insights.json, behaviors.json, questions.json   current memory
 *   memory/events.jsonl    one line per memory change
 *   checkpoints/trainer-<version>.safetensors   the trainer (student, EMA teacher, AdamW)
 *   adapter/               the student adapter in PEFT format (written by the CLI)
 *
 * Every appended line carries the `seq` of the transition that wrote it, and state.json is
 * replaced last (atomically). Opening a folder drops lines newer than its state (a transition
 * that was cut off), so records and state always agree.
 */
import { appendFile, mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { RunStore } from '../pmd/run/driver';
import type { RunRecord, RunState } from '../pmd/run/state';
import { memoryFiles } from '../pmd/run/export';
import { recordLine, RUN_FILES, type LogName } from '../pmd/run/files';
import { writeFileAtomic } from './atomic-files';

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

export class FolderRunStore implements RunStore {
  constructor(readonly dir: string) {}

  private file(name: string): string {
    return path.join(this.dir, name);
  }

  /** True when the folder holds a run (state.json). */
  hasRun(): Promise<boolean> {
    return exists(this.file(RUN_FILES.state));
  }

  async load(): Promise<RunState | null> {
    const p = this.file(RUN_FILES.state);
    if (!(await exists(p))) return null;
    let state: RunState;
    try {
      state = JSON.parse(await readFile(p, 'utf8')) as RunState;
    } catch (e) {
      throw new Error(`${p}: not a readable run state (${(e as Error).message})`);
    }
    if (typeof state.seq !== 'number' || !state.config) throw new Error(`${p}: not a PMD Lab run state`);
    // Lines from a transition whose state was never committed are dropped.
    for (const name of Object.values(RUN_FILES)) {
      if (!name.endsWith('.jsonl')) continue;
      const f = this.file(name);
      if (!(await exists(f))) continue;
      const lines = (await readFile(f, 'utf8')).split('\n').filter((l) => l.trim() !== '');
      const kept = lines.filter((l) => {
        try {
          return (JSON.parse(l) as { seq: number }).seq <= state.seq;
        } catch {
          return false; // a torn last line
        }
      });
      if (kept.length !== lines.length) await writeFileAtomic(f, kept.length ? kept.join('\n') + '\n' : '');
    }
    await this.writeDerived(state);
    return state;
  }

  private async writeDerived(state: RunState): Promise<void> {
    await mkdir(this.file('memory'), { recursive: true });
    for (const [name, value] of Object.entries(memoryFiles(state.memory))) await writeFileAtomic(this.file(`memory/${name}`), JSON.stringify(value) + '\n');
    await writeFileAtomic(this.file(RUN_FILES.config), JSON.stringify(state.config, null, 2) + '\n');
  }

  async commit(state: RunState, records: RunRecord[]): Promise<void> {
    await mkdir(this.file('memory'), { recursive: true });
    const byFile = new Map<LogName, string[]>();
    for (const r of records) {
      const { file, line } = recordLine(r, state.seq);
      const list = byFile.get(file) ?? [];
      list.push(JSON.stringify(line));
      byFile.set(file, list);
    }
    for (const [file, lines] of byFile) await appendFile(this.file(RUN_FILES[file]), lines.join('\n') + '\n');
    if (records.some((r) => r.kind === 'memory-event') || state.seq === 0 || records.some((r) => r.kind === 'control')) await this.writeDerived(state);
    await writeFileAtomic(this.file(RUN_FILES.state), JSON.stringify(state));
  }

  async loadTrainer(version: number): Promise<Uint8Array | null> {
    const f = this.file(`checkpoints/trainer-${version}.safetensors`);
    return (await exists(f)) ? new Uint8Array(await readFile(f)) : null;
  }

  async saveTrainer(version: number, bytes: Uint8Array): Promise<void> {
    await mkdir(this.file('checkpoints'), { recursive: true });
    await writeFileAtomic(this.file(`checkpoints/trainer-${version}.safetensors`), bytes);
    // Keep the two newest checkpoints: the one the committed state refers to, and this one.
    const names = (await readdir(this.file('checkpoints'))).filter((n) => /^trainer-\d+\.safetensors$/.test(n));
    const versions = names.map((n) => Number(/\d+/.exec(n)![0])).sort((a, b) => b - a);
    for (const v of versions.slice(2)) await rm(this.file(`checkpoints/trainer-${v}.safetensors`), { force: true });
  }
}
