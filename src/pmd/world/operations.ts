/**
 * The primitive operations of the embedded world: each rearranges a short sequence of digits
 * (moves, swaps or sorts them), and each has exactly one sentence in the world's small
 * description language (a verb phrase such as "moves the first 2 symbols to the end"). Memory
 * items, the pretraining corpus and the rule reflector all speak about operations through
 * `describeOperation` and read them back through `operationFromPhrase`, so the text a model
 * learns to follow is the text the reflector writes.
 */

export type OperationKind = 'reverse' | 'rotate_left' | 'rotate_right' | 'swap_pairs' | 'sort_up' | 'sort_down' | 'swap_ends';

export interface Operation {
  /** Stable id, e.g. "rotate_left_2". */
  id: string;
  kind: OperationKind;
  /** Places to rotate; 0 for operations without a number. */
  k: number;
}

function op(kind: OperationKind, k = 0): Operation {
  return { id: k ? `${kind}_${k}` : kind, kind, k };
}

/** Every operation a procedure name can stand for, in a fixed order. */
export const OPERATIONS: readonly Operation[] = [
  op('reverse'),
  op('rotate_left', 1),
  op('rotate_left', 2),
  op('rotate_right', 1),
  op('rotate_right', 2),
  op('swap_pairs'),
  op('sort_up'),
  op('sort_down'),
  op('swap_ends'),
];

export function operationById(id: string): Operation {
  const found = OPERATIONS.find((o) => o.id === id);
  if (!found) throw new Error(`unknown operation ${id}`);
  return found;
}

function rotateLeft(s: readonly number[], k: number): number[] {
  const n = s.length;
  const r = ((k % n) + n) % n;
  return [...s.slice(r), ...s.slice(0, r)];
}

/** Apply one operation to a sequence of digits; the length and the digits never change. */
export function applyOperation(o: Operation, s: readonly number[]): number[] {
  switch (o.kind) {
    case 'reverse':
      return [...s].reverse();
    case 'rotate_left':
      return rotateLeft(s, o.k);
    case 'rotate_right':
      return rotateLeft(s, -o.k);
    case 'swap_pairs': {
      const out = [...s];
      for (let i = 0; i + 1 < out.length; i += 2) [out[i], out[i + 1]] = [out[i + 1], out[i]];
      return out;
    }
    case 'sort_up':
      return [...s].sort((a, b) => a - b);
    case 'sort_down':
      return [...s].sort((a, b) => b - a);
    case 'swap_ends': {
      const out = [...s];
      if (out.length > 1) [out[0], out[out.length - 1]] = [out[out.length - 1], out[0]];
      return out;
    }
  }
}

/** Apply operations in order (a chained procedure). */
export function applyChain(ops: readonly Operation[], s: readonly number[]): number[] {
  return ops.reduce<number[]>((acc, o) => applyOperation(o, acc), [...s]);
}

const count = (k: number, one: string, many: string) => (k === 1 ? one : `${k} ${many}`);

/** The operation as a verb phrase of the description language (no final full stop). */
export function describeOperation(o: Operation): string {
  switch (o.kind) {
    case 'reverse':
      return 'reverses the order of the symbols';
    case 'rotate_left':
      return `moves the first ${count(o.k, 'symbol', 'symbols')} to the end`;
    case 'rotate_right':
      return `moves the last ${count(o.k, 'symbol', 'symbols')} to the front`;
    case 'swap_pairs':
      return 'swaps the symbols of each neighbouring pair';
    case 'sort_up':
      return 'sorts the symbols from smallest to largest';
    case 'sort_down':
      return 'sorts the symbols from largest to smallest';
    case 'swap_ends':
      return 'swaps the first and the last symbol';
  }
}

/** The operation a verb phrase describes (exact phrase, as describeOperation writes it), or null. */
export function operationFromPhrase(phrase: string): Operation | null {
  const p = phrase.trim().replace(/\.$/, '');
  return OPERATIONS.find((o) => describeOperation(o) === p) ?? null;
}
