/**
 * A trainer checkpoint as one safetensors file: the student's and the EMA teacher's trainable
 * tensors and AdamW's moments (F32, exact), with the optimizer step in the metadata. The PMD
 * loop writes one after every update so a killed run resumes with the very same trainer.
 */
import { readSafetensors, writeSafetensors } from '../models/safetensors';
import type { HostTensor } from '../models/types';
import type { TrainerSnapshot } from './trainer';

const PREFIX = { student: 'student/', teacher: 'teacher/', m: 'adam_m/', v: 'adam_v/' } as const;

export function encodeTrainerSnapshot(s: TrainerSnapshot): Uint8Array {
  const all = new Map<string, HostTensor>();
  for (const [k, t] of s.student) all.set(PREFIX.student + k, t);
  if (s.teacher) for (const [k, t] of s.teacher) all.set(PREFIX.teacher + k, t);
  for (const [k, a] of s.optimizer.m) all.set(PREFIX.m + k, { dims: [a.length], data: a });
  for (const [k, a] of s.optimizer.v) all.set(PREFIX.v + k, { dims: [a.length], data: a });
  return writeSafetensors(all, 'F32', { format: 'pmd-lab-trainer', step: String(s.optimizer.step), teacher: s.teacher ? 'ema' : 'none' });
}

export function decodeTrainerSnapshot(bytes: Uint8Array, file = 'trainer checkpoint'): TrainerSnapshot {
  const { tensors, metadata } = readSafetensors(bytes, file);
  if (metadata?.format !== 'pmd-lab-trainer') throw new Error(`${file}: not a PMD Lab trainer checkpoint`);
  const step = Number(metadata.step);
  if (!Number.isInteger(step) || step < 0) throw new Error(`${file}: bad optimizer step ${JSON.stringify(metadata.step)}`);
  const part = (prefix: string) => new Map([...tensors].filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]));
  const flat = (prefix: string) => new Map([...part(prefix)].map(([k, t]) => [k, t.data]));
  return {
    student: part(PREFIX.student),
    teacher: metadata.teacher === 'ema' ? part(PREFIX.teacher) : null,
    optimizer: { step, m: flat(PREFIX.m), v: flat(PREFIX.v) },
  };
}
