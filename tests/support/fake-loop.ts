/**
 * A scripted stand-in for the model and the outside world, for testing the PMD state machine
 * fast: every answer is a deterministic function of its input (prompt text, seed, key), so runs
 * are reproducible and a resumed run must match an uninterrupted one exactly.
 */
import type { Policy, PolicyGenerateOptions } from '../../src/engine/policy';
import type { TrainSample } from '../../src/engine/train/batching';
import type { LossSpec } from '../../src/engine/train/losses';
import { hashSeed } from '../../src/util/prng';
import type { RunContext } from '../../src/pmd/run/context';
import type { LoopServices } from '../../src/pmd/run/services';
import type { Effect } from '../../src/pmd/run/state';

export function fakeContext(train = 6, test = 3): RunContext {
  const trainIds = Array.from({ length: train }, (_, i) => `t${i}`);
  const testIds = Array.from({ length: test }, (_, i) => `h${i}`);
  return { prompt: (id) => `Question ${id}: family ${id.charCodeAt(1) % 2 ? 'odd' : 'even'}`, trainIds, testIds };
}

const enc = (s: string) => Array.from(s).map((ch) => ch.charCodeAt(0) % 50);

export interface FakeLog {
  trains: { samples: TrainSample[]; loss: LossSpec }[];
  reflections: Extract<Effect, { kind: 'reflect' }>[];
}

export class FakePolicy implements Policy {
  readonly info = { label: 'fake', family: 'qwen3', vocabSize: 64, maxPositions: 4096, hiddenSize: 8, hasChatTemplate: false };
  private weights = 0;
  steps = 0;
  constructor(readonly log: FakeLog) {}
  async promptIds(text: string) {
    return enc(text).slice(0, 40);
  }
  decode(ids: readonly number[]) {
    return `answer ${ids.join(' ')}`;
  }
  async generate(prompts: number[][], o: PolicyGenerateOptions) {
    const tokens = prompts.map((p, i) => {
      const h = hashSeed(o.seed + this.weights * 7, `${p.join(',')}|${i}`);
      return [h % 3, (h >> 3) % 5];
    });
    return { tokens, logprobs: tokens.map((t) => t.map(() => -0.5)), finish: tokens.map(() => 'eos' as const) };
  }
  async trainStep(samples: TrainSample[], loss: LossSpec) {
    this.log.trains.push({ samples, loss });
    this.weights++;
    this.steps++;
    const diagnostics: Record<string, number[][]> = {
      student_logp: samples.map((s) => s.ids.slice(s.response_start).map(() => -1)),
      teacher_logp: samples.map((s) => s.ids.slice(s.response_start).map(() => -0.5)),
      token_divergence: samples.map((s) => s.ids.slice(s.response_start).map(() => 0.25)),
    };
    return { loss: 1 / this.steps, tokenCount: samples.length, gradNorm: 0.5, diagnostics, step: this.steps, lr: 1e-3, clipScale: 1 };
  }
  async embed(texts: readonly string[]) {
    return texts.map((t) => {
      const v = new Float32Array(8);
      // Texts about the same family share a direction; the rest is noise from the text.
      v[t.includes('odd') ? 0 : 1] = 3;
      for (let i = 0; i < 8; i++) v[i] += ((hashSeed(i, t) % 1000) / 1000) * 0.5;
      const n = Math.hypot(...v);
      return v.map((x) => x / n);
    });
  }
  async exportAdapter() {
    return { 'adapter_config.json': JSON.stringify({ w: this.weights }), 'adapter_model.safetensors': new Uint8Array([this.weights]) };
  }
  async snapshot() {
    return new Uint8Array([this.weights, this.steps]);
  }
  async restore(bytes: Uint8Array) {
    this.weights = bytes[0];
    this.steps = bytes[1];
  }
  async release() {}
}

export type ReflectScript = (e: Extract<Effect, { kind: 'reflect' }>, attempt: number) => string;

/** Well-formed replies: insights and behaviors named after the evidence. */
export const goodReflector: ReflectScript = (e) => {
  const ev = e.evidence;
  if (ev.purpose === 'insight') {
    return JSON.stringify({
      strategies: ev.successes.length ? [{ title: `Method for ${ev.problem}`, content: `Work the ${ev.question.includes('odd') ? 'odd' : 'even'} family step by step.` }] : [],
      lessons: ev.failures.length ? [{ title: `Pitfall near ${ev.problem}`, content: 'Check the last symbol before answering.' }] : [],
    });
  }
  if (ev.purpose === 'behavior-cold') return JSON.stringify({ behaviors: [{ name: `Family rule ${ev.problems[0].id}`, instruction: 'Look at the family first.' }] });
  return JSON.stringify({ actions: ev.existing.length ? [{ action: 'update', name: ev.existing[0].name, instruction: `Refined with ${ev.problems.length} problems.` }] : [] });
};

export function fakeServices(script: ReflectScript = goodReflector): { services: LoopServices; policy: FakePolicy; log: FakeLog } {
  const log: FakeLog = { trains: [], reflections: [] };
  const policy = new FakePolicy(log);
  const attempts = new Map<string, number>();
  const services: LoopServices = {
    policy,
    async verify(items) {
      return Object.fromEntries(items.map((it) => [it.key, { reward: it.response.endsWith('0') ? 1 : 0, feedback: it.response.endsWith('0') ? '' : `ended with ${it.response.at(-1)}`, answer: it.response.at(-1) ?? null }]));
    },
    async embed(texts) {
      return (await policy.embed(texts)).map((v) => Array.from(v));
    },
    async reflect(e) {
      log.reflections.push(e);
      const key = e.id.split(':').slice(0, 2).join(':') + JSON.stringify(e.evidence).length;
      const n = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, n);
      return { text: script(e, n), reflector: 'rule:fake' };
    },
  };
  return { services, policy, log };
}
