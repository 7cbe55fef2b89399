"""``NMSparse`` products against dense NumPy and scipy CSR, on 2:4 weights.

For square weights ``W`` of size ``s x s`` pruned to 2:4 (50% density) this times

* ``W @ x``, a matrix-vector product (``x`` of shape ``(s,)``);
* ``X @ W.T`` with ``X`` of shape ``(256, s)``, the product of a linear layer,

for ``NMSparse`` (``nm @ x``, ``X @ nm.T``), the dense pruned matrix in NumPy
(``Wd @ x``, ``X @ Wd.T``: BLAS) and scipy CSR with int32 indices (``Wcsr @ x``,
``Wcsr @ X.T``). Each time is the median of repeated calls after a warm-up call
(``time.perf_counter``); each method is timed in its own block, so that the spinning
threads of one runtime (NumPy's BLAS, numba's OpenMP pool) do not slow the other's
calls. It also prints the bytes of each storage and, unless ``--no-compile``, the
first-call (cold numba cache) compile times of ``NMSparse``, measured in a
subprocess with an empty ``NUMBA_CACHE_DIR``.

Usage::

    python benchmarks/bench_nm.py [--quick] [--out /tmp/nm_bench_output.md]

The full run (s = 1024 .. 8192, float32 and float64) takes about 1.5 minutes on 2
cores (``--quick``: 15 s) and needs ~3 GB of memory (the 8192 x 8192 float64 weights,
dense and CSR, and the pruning's temporaries).
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np
import scipy
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from sparse_estimators.sparsity import NMSparse  # noqa: E402


def machine_info():
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    blas = "?"
    try:
        cfg = np.show_config(mode="dicts")
        b = cfg["Build Dependencies"]["blas"]
        blas = f"{b.get('name')} {b.get('version', '')}".strip()
    except Exception:  # older numpy, unusual builds
        pass
    return {
        "cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
        "numpy": np.__version__, "scipy": scipy.__version__, "numba": numba.__version__,
        "blas": blas, "threads": numba.config.NUMBA_NUM_THREADS,
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }


def median_time(fn, budget=1.5, min_reps=3, max_reps=25):
    """Median seconds of ``fn()`` over repeats after one warm-up call; the number of
    repeats fits ``budget`` seconds (at least ``min_reps``, 2 for calls over 3 s)."""
    t = time.perf_counter()
    fn()
    warm = time.perf_counter() - t
    reps = int(np.clip(budget / max(warm, 1e-9), min_reps, max_reps))
    if warm > 3.0:
        reps = 2
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts)), reps


def bench_case(s, dtype, k, seed=0):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((s, s)).astype(dtype)
    t = time.perf_counter()
    nm = NMSparse.from_dense(W)
    t_build = time.perf_counter() - t
    del W
    Wd = nm.to_dense()
    Wcsr = sp.csr_matrix(Wd)
    assert Wcsr.indices.dtype == np.int32
    x = rng.standard_normal(s).astype(dtype)
    X = rng.standard_normal((k, s)).astype(dtype)
    # correctness against BLAS, relative to the scale of the result
    ref_v, ref_m = Wd @ x, X @ Wd.T
    err_v = float(np.abs(nm @ x - ref_v).max() / np.abs(ref_v).max())
    err_m = float(np.abs(X @ nm.T - ref_m).max() / np.abs(ref_m).max())
    del ref_v, ref_m
    ops = {
        "W @ x": {"NMSparse": lambda: nm @ x, "dense": lambda: Wd @ x,
                  "CSR": lambda: Wcsr @ x},
        f"X @ W.T (k={k})": {"NMSparse": lambda: X @ nm.T, "dense": lambda: X @ Wd.T,
                             "CSR": lambda: (Wcsr @ X.T).T},
    }
    rows = []
    for op, fns in ops.items():
        times = {}
        reps = {}
        for name, fn in fns.items():
            times[name], reps[name] = median_time(fn)
            print(f"  s={s} {np.dtype(dtype).name} {op:<16} {name:<9} "
                  f"{times[name] * 1e3:9.3f} ms ({reps[name]} reps)", file=sys.stderr)
        rows.append({"s": s, "dtype": np.dtype(dtype).name, "op": op,
                     **{f"{name}_ms": times[name] * 1e3 for name in fns},
                     "reps": reps})
    mem = {"s": s, "dtype": np.dtype(dtype).name, "dense": Wd.nbytes,
           "csr_int32": Wcsr.data.nbytes + Wcsr.indices.nbytes + Wcsr.indptr.nbytes,
           "nm_format": nm.nbytes, "nm_in_memory": nm.values.nbytes + nm.indices.nbytes,
           "build_s": t_build, "err_matvec": err_v, "err_matmat": err_m}
    return rows, mem


_COMPILE_SCRIPT = r"""
import json, time
t0 = time.perf_counter()
import numpy as np, scipy.sparse as sp
from sparse_estimators.sparsity import NMSparse
out = {"import_s": time.perf_counter() - t0}
rng = np.random.default_rng(0)
for dt in (np.float64, np.float32):
    W = rng.standard_normal((64, 96)).astype(dt)
    x = rng.standard_normal(96).astype(dt)
    X = rng.standard_normal((8, 96)).astype(dt)
    Xs = sp.random(8, 96, density=0.1, format="csr", random_state=0, dtype=dt)
    nm = []
    steps = [("from_dense", lambda: nm.append(NMSparse.from_dense(W))),
             ("to_dense", lambda: nm[0].to_dense()),
             ("packed_indices", lambda: nm[0].packed_indices),
             ("W @ x", lambda: nm[0] @ x), ("X @ W.T dense", lambda: X @ nm[0].T),
             ("X @ W.T sparse", lambda: Xs @ nm[0].T)]
    for name, fn in steps:
        t = time.perf_counter(); fn(); first = time.perf_counter() - t
        t = time.perf_counter(); fn(); second = time.perf_counter() - t
        out[f"{np.dtype(dt).name} {name}"] = [first, second]
print(json.dumps(out))
"""


def compile_times():
    """First and second call times with an empty numba cache (a subprocess)."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        res = subprocess.run([sys.executable, "-c", _COMPILE_SCRIPT], env=env, cwd=root,
                             capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def _mb(b):
    return f"{b / 2**20:.1f}"


def to_markdown(info, rows, mems, comp, args):
    lines = ["## NMSparse (2:4) products vs dense NumPy and scipy CSR", "",
             f"Command: `python benchmarks/bench_nm.py{' --quick' if args.quick else ''}`  ",
             f"Date: {info['date']}  ",
             f"Machine: {info['cpu']}, {info['cores']} cores; Python {info['python']}, "
             f"NumPy {info['numpy']} (BLAS: {info['blas']}), SciPy {info['scipy']}, "
             f"numba {info['numba']}; NMSparse products on {info['threads']} threads "
             f"(NUMBA_NUM_THREADS)", "",
             "Median ms after a warm-up call. Ratios are time(NMSparse) / time(other): "
             "< 1 means NMSparse is faster.", "",
             "| s | dtype | product | NMSparse ms | dense ms | CSR ms | NM / dense | NM / CSR |",
             "|---:|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r['s']} | {r['dtype']} | `{r['op']}` | {r['NMSparse_ms']:.3f} | "
            f"{r['dense_ms']:.3f} | {r['CSR_ms']:.3f} | "
            f"{r['NMSparse_ms'] / r['dense_ms']:.2f} | {r['NMSparse_ms'] / r['CSR_ms']:.2f} |")
    lines += ["", "Storage (MiB). `NM format` = `nbytes` (values + 2-bit packed positions); "
              "`NM in RAM` = values + the uint8 positions the CPU kernels read. CSR: data + "
              "int32 indices + indptr.", "",
              "| s | dtype | dense | CSR (int32) | NM format | NM in RAM | NM / dense | "
              "NM / CSR | from_dense s | max rel err W@x, X@W.T |",
              "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for m in mems:
        lines.append(
            f"| {m['s']} | {m['dtype']} | {_mb(m['dense'])} | {_mb(m['csr_int32'])} | "
            f"{_mb(m['nm_format'])} | {_mb(m['nm_in_memory'])} | "
            f"{m['nm_format'] / m['dense']:.3f} | {m['nm_format'] / m['csr_int32']:.3f} | "
            f"{m['build_s']:.2f} | {m['err_matvec']:.1e}, {m['err_matmat']:.1e} |")
    if comp:
        lines += ["", "First call with an empty numba cache (compile + run) and second "
                  f"call, seconds; `import sparse_estimators.sparsity`: "
                  f"{comp['import_s']:.2f} s.", "",
                  "| call | first | second |", "|---|---:|---:|"]
        total = 0.0
        for key, val in comp.items():
            if key == "import_s":
                continue
            total += val[0]
            lines.append(f"| {key} | {val[0]:.2f} | {val[1]:.5f} |")
        lines.append(f"| **total first calls** | {total:.2f} | |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes, float64 only")
    p.add_argument("--sizes", default=None, help="comma-separated s (default by mode)")
    p.add_argument("--dtypes", default=None, help="comma-separated, e.g. float32,float64")
    p.add_argument("--k", type=int, default=256, help="rows of X in X @ W.T")
    p.add_argument("--no-compile", action="store_true", help="skip compile timing")
    p.add_argument("--out", default="/tmp/nm_bench_output.md", help="markdown output")
    args = p.parse_args(argv)
    sizes = ([int(v) for v in args.sizes.split(",")] if args.sizes
             else [512, 1024] if args.quick else [1024, 2048, 4096, 8192])
    dtypes = (args.dtypes.split(",") if args.dtypes
              else ["float64"] if args.quick else ["float64", "float32"])
    comp = None if args.no_compile else compile_times()
    rows, mems = [], []
    for dt in dtypes:
        for s in sizes:
            r, m = bench_case(s, np.dtype(dt), args.k)
            rows += r
            mems.append(m)
    md = to_markdown(machine_info(), rows, mems, comp, args)
    print(md)
    Path(args.out).write_text(md)
    print(f"written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
