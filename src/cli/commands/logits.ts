/** pmd-lab logits --model <dir> --ids <ids> [--adapter <peft-dir>] --out <file.json> */
import { leftPadBatch } from '../../engine/runtime/batch';
import { Args, parseIdLists } from '../args';
import { withNodeModel } from '../node-model';
import { checkOutputPath, writeFileAtomic } from '../outputs';

export const usage = 'logits    --model <dir> --ids <ids> [--adapter <peft-dir>] --out <file.json>';

export async function run(args: Args): Promise<void> {
  const idsText = args.required('ids');
  const out = args.required('out');
  const model = args.required('model');
  const adapter = args.string('adapter');
  args.rejectUnknown();
  await checkOutputPath('out', out, 'file');
  await withNodeModel(model, adapter, async (m) => {
    const seqs = parseIdLists(idsText, m.config.vocabSize);
    const V = m.config.vocabSize;
    const b = leftPadBatch(seqs, m.padId);
    const res = await m.runner.forward({ ...b, logits: 'all', wantKv: false });
    const logits = seqs.map((s, i) => {
      const rows: number[][] = [];
      for (let p = b.pad[i]; p < b.seq; p++) {
        const off = (i * b.seq + p) * V;
        rows.push(Array.from(res.logits.subarray(off, off + V)));
      }
      return rows;
    });
    await writeFileAtomic(out, JSON.stringify({ logits }));
  });
}
