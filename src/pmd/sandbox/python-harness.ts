/**
 * The Python side of the sandbox: source code run once in a fresh Pyodide before any program
 * under test. `HARNESS` defines `run(request_json) -> result_json`, which runs one test of one
 * program in a fresh namespace with captured, capped standard output. `LOCKDOWN` then closes the
 * Python-level doors (imports of the JS bridge and ctypes, process functions) and records the
 * state that every test restores afterwards (builtins, sys streams, import machinery).
 *
 * The Python layer is the first wall only: Python cannot be sandboxed from inside itself, so the
 * worker also takes away what the JavaScript realm could reach (see lockdown.ts).
 */

/**
 * Deepest Python recursion allowed; deeper sys.setrecursionlimit requests are clamped, so runaway
 * recursion ends in RecursionError instead of overflowing the JavaScript stack (which kills the
 * interpreter). Measured: a Node worker with an 8 MB stack unwinds a RecursionError from 10,000
 * frames; a Chromium worker crashes at 4,000 and not at 2,000.
 */
export const RECURSION_CAP = { node: 10_000, browser: 2_000 } as const;

export const HARNESS = String.raw`
import ast, builtins, io, json, linecache, math, sys, traceback, secrets

_loads, _dumps, _isclose = json.loads, json.dumps, math.isclose
_repr_limit = 1000

class OutputLimit(BaseException):
    """Raised inside the program once it has written more than the output limit."""

class Sink:
    """A capped text stream; .buffer accepts bytes too, so sys.stdout.buffer.write works."""
    def __init__(self, cap):
        self.parts, self.size, self.cap, self.exceeded = [], 0, cap, False
    def write(self, s):
        if isinstance(s, (bytes, bytearray)):
            s = bytes(s).decode('utf-8', 'replace')
        elif not isinstance(s, str):
            raise TypeError('write() argument must be str, not ' + type(s).__name__)
        self.size += len(s)
        if self.size > self.cap:
            self.exceeded = True
            raise OutputLimit()
        self.parts.append(s)
        return len(s)
    def writelines(self, lines):
        for line in lines:
            self.write(line)
    def flush(self):
        pass
    def isatty(self):
        return False
    def writable(self):
        return True
    @property
    def buffer(self):
        return self
    def value(self):
        return ''.join(self.parts)

def short_repr(v):
    try:
        r = repr(v)
    except BaseException as e:
        r = '<unprintable ' + type(v).__name__ + '>'
    return r if len(r) <= _repr_limit else r[:_repr_limit] + '...'

_PLAIN = (type(None), bool, int, float, complex, str, bytes)
_CONTAINERS = (list, tuple, set, frozenset, dict)

def is_plain(v, depth=0):
    t = type(v)
    if t in _PLAIN:
        return True
    if depth > 100 or t not in _CONTAINERS:
        return False
    if t is dict:
        return all(is_plain(k, depth + 1) and is_plain(x, depth + 1) for k, x in v.items())
    return all(is_plain(x, depth + 1) for x in v)

def safe_equal(a, b):
    """== on plain data only, so a returned object cannot claim to equal anything."""
    if is_plain(a) and is_plain(b):
        return a == b
    if type(a) in _CONTAINERS or type(b) in _CONTAINERS:
        return False
    return type(a) is type(b) and a == b

def to_json_like(v, depth=0):
    """A returned value as JSON-like data (tuples become lists), or TypeError."""
    t = type(v)
    if v is None or t in (bool, int, float, str):
        return v
    if depth <= 100 and t in (list, tuple):
        return [to_json_like(x, depth + 1) for x in v]
    if depth <= 100 and t is dict and all(type(k) in (str, int, float, bool) for k in v):
        return {str(k) if type(k) is not str else k: to_json_like(x, depth + 1) for k, x in v.items()}
    raise TypeError('the function returned a ' + t.__name__ + ', which cannot be compared with the expected value')

def same(a, b):
    ta, tb = type(a), type(b)
    if ta is float or tb is float:
        return ta in (int, float) and tb in (int, float) and _isclose(a, b, rel_tol=1e-6, abs_tol=1e-6)
    if ta in (bool, int) and tb in (bool, int):
        return a == b
    if ta is list and tb is list:
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if ta is dict and tb is dict:
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return ta is tb and ta in (str, type(None)) and a == b

EQ = '_pmd_eq_' + secrets.token_hex(6)
mismatch = []

def checked_eq(a, b):
    ok = safe_equal(a, b)
    if not ok and not mismatch:
        mismatch.append((short_repr(a), short_repr(b)))
    return ok

class RewriteEq(ast.NodeTransformer):
    """assert A == B  ->  assert <checked_eq>(A, B), which records both sides when they differ."""
    def visit_Assert(self, node):
        t = node.test
        if isinstance(t, ast.Compare) and len(t.ops) == 1 and isinstance(t.ops[0], ast.Eq):
            node.test = ast.Call(func=ast.Name(id=EQ, ctx=ast.Load()), args=[t.left, t.comparators[0]], keywords=[])
        return node

def compile_test(code):
    tree = RewriteEq().visit(ast.parse(code, '<test>'))
    ast.fix_missing_locations(tree)
    return compile(tree, '<test>', 'exec')

def where(exc):
    if isinstance(exc, SyntaxError) and exc.filename == '<solution>':
        return exc.lineno, (exc.text or '').rstrip('\n')
    for fr in reversed(traceback.extract_tb(exc.__traceback__)):
        if fr.filename == '<solution>':
            return fr.lineno, fr.line
    return None, None

def describe(exc):
    text = str(exc)
    name = type(exc).__name__
    return name + ': ' + text if text else name

class EarlyExit(Exception):
    pass

saved = {}

def restore():
    sys.stdout, sys.stderr, sys.stdin = saved['streams']
    sys.meta_path[:] = saved['meta_path']
    sys.path_hooks[:] = saved['path_hooks']
    sys.path[:] = saved['path']
    for name, value in saved['sys'].items():
        setattr(sys, name, value)
    sys.setrecursionlimit(saved['recursion'])
    b = builtins.__dict__
    if b != saved['builtins']:
        b.clear()
        b.update(saved['builtins'])
    sys.modules.update(saved['modules'])

def run(request):
    req = _loads(request)
    kind, code, setup = req['kind'], req['code'], req.get('setup') or ''
    out, err = Sink(req['outputLimit']), Sink(req['outputLimit'])
    res = {}
    linecache.cache['<solution>'] = (len(code), None, code.splitlines(True), '<solution>')
    g = {'__name__': '__main__', '__builtins__': builtins}
    sys.stdout, sys.stderr = out, err
    sys.stdin = io.TextIOWrapper(io.BytesIO(req.get('input', '').encode('utf-8')), encoding='utf-8')
    del mismatch[:]
    try:
        if setup:
            exec(compile(setup, '<setup>', 'exec'), g)
        try:
            exec(compile(code, '<solution>', 'exec'), g)
        except SystemExit:
            if kind != 'io':
                raise EarlyExit()
        if kind == 'call':
            owner = g.get(req['className']) if req.get('className') else None
            if req.get('className') and owner is None:
                raise NameError('the code does not define class ' + req['className'])
            fn = getattr(owner(), req['entry'], None) if owner is not None else g.get(req['entry'])
            if not callable(fn):
                raise NameError('the code does not define ' + ('method ' if owner is not None else 'function ') + req['entry'])
            result = fn(*_loads(req['args']))
            res['actual'] = short_repr(result)
            res['status'] = 'passed' if same(to_json_like(result), _loads(req['expected'])) else 'failed'
        elif kind == 'assert':
            g[EQ] = checked_eq
            exec(compile_test(req['test']), g)
            res['status'] = 'passed'
        else:
            res['status'] = 'ran'
    except OutputLimit:
        res['status'] = 'output-limit'
    except KeyboardInterrupt:
        res['status'] = 'timeout'
    except MemoryError:
        res['status'] = 'memory-limit'
    except EarlyExit:
        res['status'], res['error'] = 'error', 'SystemExit: the program exited before the test ran'
    except AssertionError as e:
        res['status'], res['error'] = 'failed', describe(e)
        if mismatch:
            res['actual'], res['expected'] = mismatch[0]
    except BaseException as e:
        res['status'], res['error'] = 'error', describe(e)
        line, text = where(e)
        if line is not None:
            res['line'], res['lineText'] = line, text or ''
    finally:
        restore()
    if out.exceeded or err.exceeded:
        res['status'] = 'output-limit'
    if kind == 'io':
        res['actual'] = out.value()
    return _dumps(res)
`;

export const LOCKDOWN = String.raw`
import builtins, os, posix, sys

BLOCKED = {
    'js', 'pyodide_js', 'pyodide', '_pyodide', '_pyodide_core', 'micropip', 'pyodide_http',
    'ctypes', '_ctypes', '_testcapi', '_testinternalcapi', '_testlimitedcapi', '_testbuffer',
    '_testclinic', '_testclinic_limited', '_xxtestfuzz', '_remote_debugging',
}

class Blocker:
    """Refuses the modules that reach the JavaScript host or raw memory."""
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in BLOCKED:
            raise ImportError('the sandbox does not allow importing ' + name)
        return None

def no_processes(*args, **kwargs):
    raise PermissionError('the sandbox cannot start or signal processes')

PROCESS_FUNCTIONS = (
    'system', 'popen', 'fork', 'forkpty', 'execv', 'execve', 'execl', 'execle', 'execlp', 'execlpe',
    'execvp', 'execvpe', 'spawnl', 'spawnle', 'spawnlp', 'spawnlpe', 'spawnv', 'spawnve', 'spawnvp',
    'spawnvpe', 'posix_spawn', 'posix_spawnp', 'kill', 'killpg', '_exit',
)
for module in (os, posix):
    for fname in PROCESS_FUNCTIONS:
        if hasattr(module, fname):
            setattr(module, fname, no_processes)

sys.meta_path.insert(0, Blocker())
for name in list(sys.modules):
    if name.split('.')[0] in BLOCKED:
        del sys.modules[name]

real_setrecursionlimit = sys.setrecursionlimit
def clamped_setrecursionlimit(n):
    real_setrecursionlimit(min(int(n), MAX_RECURSION))
sys.setrecursionlimit = clamped_setrecursionlimit

# Warm the modules programs and the LiveCodeBench setup use, so their first test is not slower.
import collections, heapq, bisect, itertools, functools, math, string, re, typing, random, decimal, fractions, statistics, datetime

saved['streams'] = (sys.stdout, sys.stderr, sys.stdin)
saved['meta_path'] = list(sys.meta_path)
saved['path_hooks'] = list(sys.path_hooks)
saved['path'] = list(sys.path)
saved['sys'] = {n: getattr(sys, n) for n in ('setrecursionlimit', 'exit', 'excepthook', 'displayhook', 'settrace', 'setprofile')}
saved['recursion'] = sys.getrecursionlimit()
saved['builtins'] = dict(builtins.__dict__)
saved['modules'] = {n: m for n, m in sys.modules.items() if n in ('os', 'posix', 'sys', 'builtins', 'json', 'math', 'io')}
`;
