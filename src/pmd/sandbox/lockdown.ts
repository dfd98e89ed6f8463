/**
 * The JavaScript side of the sandbox walls, applied inside the sandbox worker once its
 * interpreters are loaded and before any program runs. Python reaches JavaScript only through
 * doors that python-runner.ts closes; this is the second wall, for a program that finds another
 * way (ctypes into emscripten_run_script, a stray proxy object): whatever JavaScript it reaches
 * can no longer fetch, open sockets, read storage, spawn workers, see `process`, or compile code.
 */

const GLOBALS_REMOVED = [
  // network
  'fetch', 'XMLHttpRequest', 'WebSocket', 'WebSocketStream', 'EventSource', 'WebTransport', 'RTCPeerConnection',
  'webkitRTCPeerConnection', 'RTCDataChannel', 'Request', 'Response', 'Headers', 'navigator',
  // storage and files
  'indexedDB', 'caches', 'localStorage', 'sessionStorage', 'showOpenFilePicker', 'showSaveFilePicker', 'FileSystemHandle',
  // code and threads
  'importScripts', 'Worker', 'SharedWorker', 'BroadcastChannel', 'MessageChannel', 'postMessage', 'close',
  // Node and other runtimes
  'process', 'require', 'module', 'global', 'Deno', 'Bun',
] as const;

/** Throws for every call and construction: what eval and the function constructors become. */
function codeGenerationBlocked<T extends object>(target: T): T {
  const refuse = () => {
    throw new EvalError('the sandbox does not allow generating code from strings');
  };
  return new Proxy(target, { apply: refuse, construct: refuse });
}

let memoryCapped = false;

/**
 * Cap every WebAssembly memory in this worker at `maxBytes`. Pyodide and QuickJS grow their
 * heaps through Memory.prototype.grow; a refused growth is an allocation failure inside the
 * interpreter (Python's MemoryError), not a crash. Call before loading the interpreters.
 */
export function capWasmMemory(maxBytes: number): void {
  if (memoryCapped) return;
  memoryCapped = true;
  const grow = WebAssembly.Memory.prototype.grow;
  Object.defineProperty(WebAssembly.Memory.prototype, 'grow', {
    value: function (this: WebAssembly.Memory, pages: number) {
      if (this.buffer.byteLength + pages * 65536 > maxBytes) throw new RangeError(`sandbox memory limit (${maxBytes} bytes)`);
      return grow.call(this, pages);
    },
    writable: false,
    configurable: false,
  });
}

let locked = false;

/** Remove the worker's dangerous globals and code generation. Irreversible; call once. */
export function lockDownRealm(): void {
  if (locked) return;
  locked = true;
  const g = globalThis as Record<string, unknown>;
  for (const name of GLOBALS_REMOVED) {
    try {
      delete g[name];
    } catch {
      // non-configurable: shadowed below
    }
    if (g[name] !== undefined) {
      try {
        Object.defineProperty(globalThis, name, { value: undefined, writable: false, configurable: false });
      } catch {
        // cannot be shadowed either; the remaining walls still hold
      }
    }
  }
  // eval and every function constructor (plain, async, generator, async generator).
  const blockedEval = codeGenerationBlocked(eval);
  Object.defineProperty(globalThis, 'eval', { value: blockedEval, writable: false, configurable: false });
  const ctors = [Function, (async () => {}).constructor, function* () {}.constructor, async function* () {}.constructor];
  for (const ctor of ctors) {
    const blocked = codeGenerationBlocked(ctor as object);
    Object.defineProperty((ctor as { prototype: object }).prototype, 'constructor', { value: blocked, writable: false, configurable: false });
    if (ctor === Function) Object.defineProperty(globalThis, 'Function', { value: blocked, writable: false, configurable: false });
  }
  // Timers run functions only (a string argument would be compiled as code in browsers).
  for (const name of ['setTimeout', 'setInterval'] as const) {
    const timer = g[name] as ((fn: unknown, ...rest: unknown[]) => unknown) | undefined;
    if (typeof timer !== 'function') continue;
    Object.defineProperty(globalThis, name, {
      value: (fn: unknown, ...rest: unknown[]) => {
        if (typeof fn !== 'function') throw new TypeError(`${name} takes a function in the sandbox`);
        return timer.call(globalThis, fn, ...rest);
      },
      writable: false,
      configurable: false,
    });
  }
}
