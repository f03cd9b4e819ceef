"""Side-by-side timing of backprop and PyTorch: same work, same process, same thread count.

Repeats alternate the two libraries so that machine drift hits both; medians are reported, and the
ratio is backprop time / PyTorch time (below 1 means backprop is faster).
"""

from __future__ import annotations

import os
import statistics
import time

import numpy as np


def blas_threads() -> int:
    """The number of threads NumPy's BLAS uses (what torch is set to, for a fair comparison)."""
    try:
        from threadpoolctl import threadpool_info

        n = [i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"]
        if n:
            return int(n[0])
    except ImportError:
        pass
    return int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1))


def setup_torch():
    import torch

    torch.set_num_threads(blas_threads())
    return torch


def time_pair(bp_fn, torch_fn, repeats: int = 7, warmup: int = 2, inner: int = 1):
    """Median seconds per call of each function, alternating them."""
    for _ in range(warmup):
        bp_fn()
        torch_fn()
    tb, tt = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            bp_fn()
        tb.append((time.perf_counter() - t0) / inner)
        t0 = time.perf_counter()
        for _ in range(inner):
            torch_fn()
        tt.append((time.perf_counter() - t0) / inner)
    return statistics.median(tb), statistics.median(tt)


def report(rows, title: str) -> str:
    """A Markdown table of (name, backprop s, torch s) rows with the ratio."""
    lines = [
        f"### {title}",
        "",
        "| workload | backprop | PyTorch | ratio (bp/torch time) |",
        "|---|---:|---:|---:|",
    ]
    for name, b, t in rows:
        lines.append(f"| {name} | {b * 1e3:.2f} ms | {t * 1e3:.2f} ms | {b / t:.2f} |")
    return "\n".join(lines)


def machine() -> str:
    import platform

    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"NumPy {np.__version__}, BLAS threads {blas_threads()}"
    )
