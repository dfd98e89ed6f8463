/**
 * A whole run as one zip file, in the same layout as a `pmd-lab run` folder (files.ts and
 * store/folder-store.ts): run.json, config.json, state.json, tasks.jsonl, the logs, the memory
 * files, the newest trainer checkpoint and the student adapter. The playground exports and
 * imports these; a CLI run folder zipped imports too.
 *
 * Import checks everything before anything is stored: a corrupt or foreign file is a
 * RunFileError naming the file inside the archive and what is wrong.
 */
import { PHASES, resolvePmdConfig } from '../config';
import { ConfigError } from '../../util/config-fields';
import { isRecord } from '../../util/records';
import { makeZip, readZip, ZipError } from '../../util/zip';
import { parseTaskSuite } from '../tasks/validate';
import { memoryFiles } from './export';
import { logOfFile, recordFromLine, recordLine, RUN_FILES, RunFileError } from './files';
import { RUN_STATE_VERSION, type RunRecord, type RunState } from './state';

export interface RunBundle {
  /** What run.json holds: the model's label, the suite's name, when it was made, a display name. */
  meta: { name: string; model: string; suite: string; created: string };
  state: RunState;
  records: { seq: number; record: RunRecord }[];
  suiteText: string;
  trainer: { version: number; bytes: Uint8Array } | null;
  adapter: Record<string, Uint8Array> | null;
}


export function exportBundle(b: RunBundle): Uint8Array {
  const files: { name: string; data: Uint8Array | string }[] = [
    { name: 'run.json', data: JSON.stringify({ format: 'pmd-lab-run', ...b.meta, tasks: 'tasks.jsonl' }, null, 2) },
    { name: RUN_FILES.config, data: JSON.stringify(b.state.config, null, 2) },
    { name: RUN_FILES.state, data: JSON.stringify(b.state) },
    { name: 'tasks.jsonl', data: b.suiteText },
  ];
  const logs = new Map<string, string[]>();
  for (const { seq, record } of b.records) {
    const { file, line } = recordLine(record, seq);
    const list = logs.get(RUN_FILES[file]) ?? [];
    list.push(JSON.stringify(line));
    logs.set(RUN_FILES[file], list);
  }
  for (const [name, list] of logs) files.push({ name, data: list.join('\n') + '\n' });
  for (const [name, value] of Object.entries(memoryFiles(b.state.memory))) files.push({ name: `memory/${name}`, data: JSON.stringify(value) });
  if (b.trainer) files.push({ name: `checkpoints/trainer-${b.trainer.version}.safetensors`, data: b.trainer.bytes });
  if (b.adapter) for (const [name, data] of Object.entries(b.adapter)) files.push({ name: `adapter/${name}`, data });
  return makeZip(files, { compress: true });
}

function fail(file: string, msg: string): never {
  throw new RunFileError(`${file}: ${msg}`);
}

function json(files: Map<string, Uint8Array>, name: string): unknown {
  const bytes = files.get(name);
  if (!bytes) fail(name, 'missing from the archive (is this a PMD Lab run?)');
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    return fail(name, `not valid JSON (${(e as Error).message.slice(0, 120)})`);
  }
}

/** Checks of a state read from a file: shape, version and a config that validates. */
export function checkRunState(v: unknown, file = RUN_FILES.state): RunState {
  if (!isRecord(v)) fail(file, 'must be a JSON object');
  if (v.version !== RUN_STATE_VERSION) fail(file, `has state version ${JSON.stringify(v.version)}; this PMD Lab reads version ${RUN_STATE_VERSION}`);
  for (const k of ['seq', 'step', 'cursor', 'trainerVersion', 'totalSteps']) if (typeof v[k] !== 'number' || !Number.isInteger(v[k]) || (v[k] as number) < 0) fail(file, `"${k}" must be a whole number >= 0`);
  if (v.phase !== 'done' && !(PHASES as readonly unknown[]).includes(v.phase)) fail(file, `"phase" ${JSON.stringify(v.phase)} is not a phase`);
  try {
    resolvePmdConfig(v.config);
  } catch (e) {
    if (e instanceof ConfigError) fail(file, `its config does not validate: ${e.message}`);
    throw e;
  }
  const m = v.memory;
  if (!isRecord(m) || !isRecord(m.problems) || !Array.isArray(m.behaviors)) fail(file, '"memory" must hold "problems" and "behaviors"');
  if (v.pending !== null && !isRecord(v.pending)) fail(file, '"pending" must be an effect or null');
  if (v.work !== null && !isRecord(v.work)) fail(file, '"work" must be an object or null');
  return v as unknown as RunState;
}

export function importBundle(bytes: Uint8Array): RunBundle {
  let files: Map<string, Uint8Array>;
  try {
    files = readZip(bytes);
  } catch (e) {
    if (e instanceof ZipError) throw new RunFileError(`the file is not a run archive: ${e.message}`);
    throw e;
  }
  const run = json(files, 'run.json');
  if (!isRecord(run)) fail('run.json', 'must be a JSON object');
  const state = checkRunState(json(files, RUN_FILES.state));
  const suiteBytes = files.get('tasks.jsonl') ?? fail('tasks.jsonl', 'missing from the archive');
  const suiteText = new TextDecoder().decode(suiteBytes);
  const suite = parseTaskSuite(suiteText);
  if (suite.problems.length) fail('tasks.jsonl', `the task suite has problems: ${suite.problems.slice(0, 3).map((p) => `line ${p.line} ${p.field}: ${p.message}`).join('; ')}`);
  const records: { seq: number; record: RunRecord }[] = [];
  for (const [name, data] of files) {
    const log = logOfFile(name);
    if (!log) continue;
    new TextDecoder()
      .decode(data)
      .split('\n')
      .forEach((line, i) => {
        if (!line.trim()) return;
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          fail(`${name} line ${i + 1}`, 'not valid JSON');
        }
        const r = recordFromLine(log, parsed, `${name} line ${i + 1}`);
        if (r.seq <= state.seq) records.push(r);
      });
  }
  records.sort((a, b) => a.seq - b.seq);
  let trainer: RunBundle['trainer'] = null;
  if (state.trainerVersion > 0) {
    const name = `checkpoints/trainer-${state.trainerVersion}.safetensors`;
    trainer = { version: state.trainerVersion, bytes: files.get(name) ?? fail(name, 'missing: the state refers to this trainer checkpoint') };
  }
  const adapter: Record<string, Uint8Array> = {};
  for (const [name, data] of files) if (name.startsWith('adapter/')) adapter[name.slice('adapter/'.length)] = data;
  const str = (v: unknown, d: string) => (typeof v === 'string' ? v : d);
  return {
    meta: { name: str(run.name, 'imported run'), model: str(run.model, ''), suite: str(run.suite, str(run.tasks, 'tasks.jsonl')), created: str(run.created, '') },
    state,
    records,
    suiteText,
    trainer,
    adapter: Object.keys(adapter).length ? adapter : null,
  };
}

