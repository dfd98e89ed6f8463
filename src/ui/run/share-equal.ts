/**
 * Structural sharing between two successive views of a run: every part of `next` that equals
 * the same part of `prev` is replaced by `prev`'s object. A transition changes a small part of
 * the state (a phase, a few memory items), and the worker sends a whole new view each time; with
 * shared parts, panels whose data did not change keep the same objects and skip re-rendering.
 */
export function replaceEqualDeep<T>(prev: unknown, next: T): T {
  if (prev === next) return next;
  if (Array.isArray(prev) && Array.isArray(next)) {
    let same = prev.length === next.length;
    const out = next.map((v, i) => {
      const r = replaceEqualDeep(prev[i], v);
      if (r !== prev[i]) same = false;
      return r;
    });
    return (same ? prev : out) as T;
  }
  if (isPlain(prev) && isPlain(next)) {
    const pk = Object.keys(prev);
    const nk = Object.keys(next);
    let same = pk.length === nk.length;
    const out: Record<string, unknown> = {};
    for (const k of nk) {
      const r = replaceEqualDeep(prev[k], next[k]);
      out[k] = r;
      if (r !== prev[k] || !(k in prev)) same = false;
    }
    return (same ? prev : out) as T;
  }
  return next;
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}
