/** Typed reads of a node's attributes, with the ONNX default when absent. */
import type { GraphNode } from '../onnx/graph';

export function intAttr(n: GraphNode, key: string, dflt: number): number {
  const a = n.attrs[key];
  return a && a.kind === 'int' ? a.value : dflt;
}

export function floatAttr(n: GraphNode, key: string, dflt: number): number {
  const a = n.attrs[key];
  return a && a.kind === 'float' ? a.value : dflt;
}

/** An `ints` attribute, or null when absent. */
export function intsAttr(n: GraphNode, key: string): number[] | null {
  const a = n.attrs[key];
  return a && a.kind === 'ints' ? a.value : null;
}

/** A possibly negative axis as an index into a rank-`r` shape. */
export function normAxis(a: number, r: number): number {
  return a < 0 ? a + r : a;
}
