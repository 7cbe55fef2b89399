"""Row-range parallelism for GIL-free numba kernels.

A kernel that computes the output rows ``r0 .. r1`` and releases the GIL runs on a
small shared thread pool: cheaper to start than joblib workers and free of numba's
``parallel=True`` compile cost (about a second per kernel and dtype).
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

#: Below this many multiply-adds per thread, handing work to another thread (tens
#: of microseconds) is not worth it.
MIN_WORK_PER_THREAD = 1 << 19
_POOL = None
_POOL_PID = None
_POOL_LOCK = threading.Lock()


def _executor():
    global _POOL, _POOL_PID
    with _POOL_LOCK:
        # a forked child inherits the pool object but not its threads: make a new one
        if _POOL is None or _POOL_PID != os.getpid():
            _POOL = ThreadPoolExecutor(max_workers=max(1, numba.config.NUMBA_NUM_THREADS - 1),
                                       thread_name_prefix="sparse_estimators")
            _POOL_PID = os.getpid()
        return _POOL


def run_rows(kernel, args, rows, work, max_threads=None, indptr=None, row_cost=1):
    """``kernel(*args, r0, r1)`` over row ranges covering ``0 .. rows``, on as many
    threads (the calling one included, at most ``max_threads``, default
    ``NUMBA_NUM_THREADS``) as ``work`` (multiply-adds) justifies. Returns the list
    of the kernel's return values, one per range.

    With ``indptr`` (a CSR row pointer), the ranges hold about equal amounts of
    ``stored entries + row_cost * rows`` instead of equal numbers of rows, which
    balances skewed rows (a few users with thousands of ratings)."""
    limit = numba.config.NUMBA_NUM_THREADS if max_threads is None else max_threads
    n_threads = int(min(limit, numba.config.NUMBA_NUM_THREADS, rows,
                        max(1, work // MIN_WORK_PER_THREAD)))
    if n_threads <= 1:
        return [kernel(*args, 0, rows)]
    if indptr is None:
        bounds = [rows * i // n_threads for i in range(n_threads + 1)]
    else:
        mass = (np.asarray(indptr[:rows + 1], dtype=np.float64)
                + float(row_cost) * np.arange(rows + 1))
        cuts = np.searchsorted(mass, mass[-1] * np.arange(1, n_threads) / n_threads)
        bounds = [0, *(int(c) for c in cuts), rows]
    pool = _executor()
    futures = [pool.submit(kernel, *args, bounds[i], bounds[i + 1])
               for i in range(1, n_threads)]
    try:
        first = kernel(*args, bounds[0], bounds[1])
    finally:
        rest = [f.result() for f in futures]
    return [first, *rest]


_BLAS_CONTROLLER = None


def single_threaded_blas():
    """Context manager running BLAS on one thread.

    OpenBLAS threads spin for a while after each call; when numba threads start
    right after a multi-threaded BLAS product they share the cores with that
    spinning and run about 2x slower (sparse coding of 10k patches: 22 -> 11 ms).
    Products feeding :func:`run_rows` kernels are therefore computed on one BLAS
    thread.
    """
    global _BLAS_CONTROLLER
    if _BLAS_CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _BLAS_CONTROLLER = ThreadpoolController()
    return _BLAS_CONTROLLER.limit(limits=1, user_api="blas")
