/**
 * Inference entries of the shape and layout ops (Shape, Reshape, (Un)Squeeze, Concat, Split,
 * Slice, Gather, Pad): these also follow the element values of small int tensors, which is how
 * a Reshape target computed from Shape() is understood.
 */
import { clampSlice, intsNum, isNum, monoAdd, monoDiv, monoProd, num, type SDim } from './dims';
import { intAttr, normAxis } from './node-attrs';
import { unknown, type Infer } from './infer-context';

const INT_LIMIT = 2 ** 62;

export const shapeOp: Infer = (c) => {
  const { node: n, x } = c;
  if (!x?.shape) return [{ dtype: 'int64', shape: [null] }];
  const r = x.shape.length;
  let start = normAxis(intAttr(n, 'start', 0), r);
  let end = n.attrs.end ? normAxis(intAttr(n, 'end', r), r) : r;
  start = Math.min(Math.max(start, 0), r);
  end = Math.min(Math.max(end, 0), r);
  const dims = x.shape.slice(start, Math.max(start, end));
  return [{ dtype: 'int64', shape: [num(dims.length)], ints: dims }];
};

export const reshape: Infer = (c) => {
  const { node: n, x, ins } = c;
  const target = ins[1]?.ints ?? null;
  if (!target) {
    const len = ins[1]?.shape?.[0];
    return [{ dtype: x?.dtype ?? null, shape: isNum(len) ? Array.from({ length: len.c }, () => null) : null }];
  }
  const allowZero = intAttr(n, 'allowzero', 0) === 1;
  const dims: SDim[] = target.map((d, i) => {
    if (isNum(d, 0) && !allowZero) return x?.shape && i < x.shape.length ? x.shape[i] : null;
    if (isNum(d, -1)) return null;
    return d;
  });
  const neg = target.findIndex((d) => isNum(d, -1));
  if (neg >= 0) {
    const total = x?.shape ? monoProd(x.shape) : null;
    const rest = monoProd(dims.filter((_, i) => i !== neg));
    dims[neg] = monoDiv(total, rest);
  }
  return [{ dtype: x?.dtype ?? null, shape: dims, ints: x?.ints && dims.length <= 1 ? x.ints : undefined }];
};

export const unsqueeze: Infer = (c) => {
  const { x } = c;
  const axes = intsNum(c.ins[1]);
  if (!x?.shape || !axes) return [unknown(c)];
  const r = x.shape.length + axes.length;
  const set = new Set(axes.map((a) => normAxis(a, r)));
  const shape: SDim[] = [];
  let j = 0;
  for (let i = 0; i < r; i++) shape.push(set.has(i) ? num(1) : x.shape[j++]);
  const ints = x.ints && x.shape.length === 0 && r === 1 ? x.ints : undefined;
  return [{ dtype: x.dtype, shape, ints }];
};

export const squeeze: Infer = (c) => {
  const { node: n, x } = c;
  if (!x?.shape) return [unknown(c)];
  const r = x.shape.length;
  let axes: number[] | null;
  if (n.inputs.length > 1 && n.inputs[1]) axes = intsNum(c.ins[1]);
  else {
    if (x.shape.some((d) => d === null || !isNum(d))) return [unknown(c)];
    axes = x.shape.flatMap((d, i) => (isNum(d, 1) ? [i] : []));
  }
  if (!axes) return [unknown(c)];
  const set = new Set(axes.map((a) => normAxis(a, r)));
  const shape = x.shape.filter((_, i) => !set.has(i));
  const ints = x.ints && shape.length === 0 ? x.ints : undefined;
  return [{ dtype: x.dtype, shape, ints }];
};

export const concat: Infer = (c) => {
  const { node: n, ins } = c;
  if (ins.some((m) => !m?.shape)) return [unknown(c)];
  const shapes = ins.map((m) => m!.shape!);
  const r = shapes[0].length;
  const ax = normAxis(intAttr(n, 'axis', 0), r);
  const shape = shapes[0].map((d, i) => {
    if (i === ax) return shapes.reduce<SDim>((acc, s) => monoAdd(acc, s[i]), num(0));
    const all = shapes.map((s) => s[i]);
    return all.find((v) => v !== null) ?? null;
  });
  let ints: SDim[] | null = null;
  if (r === 1 && ins.every((m) => m!.ints)) ints = ins.flatMap((m) => m!.ints!);
  return [{ dtype: c.x?.dtype ?? null, shape, ints }];
};

export const split: Infer = (c) => {
  const { node: n, x } = c;
  const outCount = n.outputs.length;
  if (!x?.shape) return n.outputs.map(() => unknown(c));
  const r = x.shape.length;
  const ax = normAxis(intAttr(n, 'axis', 0), r);
  const sizes = n.inputs[1] ? intsNum(c.ins[1]) : null;
  return n.outputs.map((_, k) => {
    const shape = [...x.shape!];
    if (sizes) shape[ax] = num(sizes[k]);
    else {
      const d = x.shape![ax];
      shape[ax] = isNum(d) && d.c % outCount === 0 ? num(d.c / outCount) : null;
    }
    return { dtype: x.dtype, shape };
  });
};

export const slice: Infer = (c) => {
  const { node: n, x, ins } = c;
  if (!x?.shape) return [unknown(c)];
  const r = x.shape.length;
  const starts = intsNum(ins[1]);
  const ends = intsNum(ins[2]);
  const axes = n.inputs[3] ? intsNum(ins[3]) : starts ? starts.map((_, i) => i) : null;
  const steps = n.inputs[4] ? intsNum(ins[4]) : axes ? axes.map(() => 1) : null;
  if (!axes || !steps) return [{ dtype: x.dtype, shape: x.shape.map(() => null) }];
  if (!starts || !ends) {
    // Bounds known only at run time: the sliced axes are unknown, every other axis is unchanged.
    const sliced = new Set(axes.map((a) => normAxis(a, r)));
    return [{ dtype: x.dtype, shape: x.shape.map((d, i) => (sliced.has(i) ? null : d)) }];
  }
  const shape = [...x.shape];
  const srcInts = x.ints && r === 1 ? x.ints : null;
  let ints: SDim[] | null = null;
  for (let k = 0; k < axes.length; k++) {
    const ax = normAxis(axes[k], r);
    const d = x.shape[ax];
    const st = steps[k];
    if (isNum(d)) {
      const [s, e] = clampSlice(starts[k], ends[k], st, d.c);
      const len = st > 0 ? Math.max(0, Math.ceil((e - s) / st)) : Math.max(0, Math.ceil((s - e) / -st));
      shape[ax] = num(len);
      if (srcInts && st === 1) ints = srcInts.slice(s, Math.max(s, e));
    } else if (st === 1 && starts[k] === 0 && ends[k] >= INT_LIMIT) {
      shape[ax] = d;
    } else shape[ax] = null; // depends on the runtime size of a symbolic dim
  }
  return [{ dtype: x.dtype, shape, ints }];
};

export const gather: Infer = (c) => {
  const { node: n, x, ins } = c;
  const data = x?.shape;
  const idx = ins[1]?.shape;
  if (!data || !idx) return [unknown(c)];
  const ax = normAxis(intAttr(n, 'axis', 0), data.length);
  let ints: SDim[] | null = null;
  const iv = intsNum(ins[1]);
  if (x?.ints && data.length === 1 && iv) ints = iv.map((i) => x.ints![i < 0 ? i + x.ints!.length : i] ?? null);
  return [{ dtype: x?.dtype ?? null, shape: [...data.slice(0, ax), ...idx, ...data.slice(ax + 1)], ints }];
};

export const pad: Infer = (c) => {
  const { x } = c;
  const pads = intsNum(c.ins[1]);
  if (!x?.shape) return [unknown(c)];
  if (!pads) return [{ dtype: x.dtype, shape: x.shape.map(() => null) }];
  const r = x.shape.length;
  return [{ dtype: x.dtype, shape: x.shape.map((d, i) => monoAdd(d, num(pads[i] + pads[i + r]))) }];
};
