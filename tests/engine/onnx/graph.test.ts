import { describe, expect, it } from 'vitest';
import { Graph } from '../../../src/engine/onnx/graph';

describe('Graph', () => {
  it('node() takes ops of the IR only; other domains go through customNode()', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2]);
    // @ts-expect-error 'Softsign' is not an op of the IR (src/engine/onnx/ops.ts)
    const notAnOp = () => g.op('Softsign', [x]);
    const r = g.op('Relu', [x]);
    const [y] = g.customNode('com.microsoft', 'FastGelu', [r]);
    expect(g.nodes).toMatchObject([
      { opType: 'Relu', domain: '', inputs: [x], outputs: [r] },
      { opType: 'FastGelu', domain: 'com.microsoft', inputs: [r], outputs: [y] },
    ]);
    expect(typeof notAnOp).toBe('function');
    expect(() => g.customNode('', 'Relu', [x])).toThrow(/default domain; use node\(\)/);
    expect(() => g.customNode('ai.onnx', 'Relu', [x])).toThrow(/default domain/);
  });
});
