/**
 * One place for each default: the CLI's flags, the worker's trainer and the UI's training form
 * all take theirs from TrainConfig (src/engine/train/config.ts).
 */
import { describe, expect, it } from 'vitest';
import { Args } from '../../src/cli/args';
import { usage as sftUsage } from '../../src/cli/commands/sft';
import { ADAMW_DEFAULTS, resolveAdamWConfig } from '../../src/engine/train/adamw';
import { TRAIN_DEFAULTS, TRAIN_FIELDS } from '../../src/engine/train/config';
import { EMA_DEFAULT_TAU } from '../../src/engine/train/ema';
import { trainerSettings } from '../../src/engine/train/sft';
import { describeDefault, getPath } from '../../src/util/config-fields';
import * as protocol from '../../src/worker/protocol';

describe('training defaults live in TrainConfig only', () => {
  it('the CLI: no flags gives exactly TRAIN_DEFAULTS, and the help shows each default from the config', () => {
    expect(new Args([]).config(TRAIN_FIELDS, TRAIN_DEFAULTS)).toBe(TRAIN_DEFAULTS);
    const withLr = new Args(['--lr', '0.5']).config(TRAIN_FIELDS, TRAIN_DEFAULTS);
    expect(withLr.optimizer).toEqual({ ...TRAIN_DEFAULTS.optimizer, lr: 0.5 });
    for (const f of TRAIN_FIELDS.filter((x) => x.flag)) {
      expect(sftUsage).toContain(`--${f.flag}`);
      expect(sftUsage).toContain(`(default: ${describeDefault(f, TRAIN_DEFAULTS)})`);
    }
  });

  it('the engine: AdamW, EMA and the trainer settings read the same object', () => {
    expect(ADAMW_DEFAULTS).toBe(TRAIN_DEFAULTS.optimizer);
    expect(resolveAdamWConfig({})).toEqual(TRAIN_DEFAULTS.optimizer);
    expect(EMA_DEFAULT_TAU).toBe(TRAIN_DEFAULTS.emaTau);
    const t = trainerSettings(TRAIN_DEFAULTS);
    expect(t.optimizer).toEqual(TRAIN_DEFAULTS.optimizer);
    expect(t.emaTau).toBe(TRAIN_DEFAULTS.emaTau);
    expect(t.teacher).toBe(TRAIN_DEFAULTS.teacher);
  });

  it('the worker protocol and the UI: the protocol hands on the config object, the UI form starts from it', async () => {
    expect(protocol.TRAIN_DEFAULTS).toBe(TRAIN_DEFAULTS);
    expect(protocol.TRAIN_FIELDS).toBe(TRAIN_FIELDS);
    const { DEFAULT_TRAIN_UI, sanitizeTrainSettings } = await import('../../src/ui/train/store');
    expect(DEFAULT_TRAIN_UI.config).toBe(TRAIN_DEFAULTS);
    // A stored form that no longer validates falls back to the config's defaults, not to copies.
    expect(sanitizeTrainSettings({ config: { lora: { rank: -1 } }, jsonl: 'x' }).config).toBe(TRAIN_DEFAULTS);
    for (const f of TRAIN_FIELDS) expect(getPath(DEFAULT_TRAIN_UI.config, f.path)).toEqual(getPath(TRAIN_DEFAULTS, f.path));
  });
});
