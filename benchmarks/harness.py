"""Side-by-side timing of backprop and PyTorch: same work, same process, same thread count.

Repeats alternate the two libraries so that machine drift hits both; medians are reported.
``report`` prints the time ratio backprop / PyTorch (below 1 means backprop is faster);
``Row`` and ``results_table`` (used by ``run_all.py``) print the throughput ratio
backprop / PyTorch instead (above 1 means backprop is faster), the issue's convention.

``op_profile`` times every registered op's forward and backward, to say where a step's time goes.
"""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np


def blas_threads() -> int:
    """The number of threads NumPy's BLAS uses (what torch is set to, for a fair comparison)."""
    import backprop

    return backprop.get_num_threads()


def setup_torch(threads: int | None = None):
    """Import torch with ``threads`` intra-op threads (default: as many as NumPy's BLAS)."""
    import torch

    torch.set_num_threads(threads or blas_threads())
    return torch


def set_threads(n: int) -> None:
    """Use ``n`` threads in both libraries: NumPy's BLAS and backprop's optimisers
    (``backprop.set_num_threads``) and, if it is imported, torch's intra-op pool."""
    import sys

    import backprop

    backprop.set_num_threads(n)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)


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


@dataclass
class Row:
    """One workload measured in both libraries.

    ``bp`` and ``torch`` are median seconds per call; ``items`` the images (or samples) one call
    processes, which makes the row a throughput (items/s) rather than a time; ``target`` the
    issue's minimum throughput ratio, if it sets one.
    """

    name: str
    bp: float
    torch: float
    items: int | None = None
    target: float | None = None

    @property
    def ratio(self) -> float:
        """backprop throughput / PyTorch throughput (= PyTorch time / backprop time)."""
        return self.torch / self.bp

    def cells(self) -> list[str]:
        if self.items:
            vals = [f"{self.items / self.bp:,.0f} img/s", f"{self.items / self.torch:,.0f} img/s"]
        else:
            vals = [_ms(self.bp), _ms(self.torch)]
        if self.target is None:
            verdict = ""
        else:
            verdict = f">= {self.target:g}: " + ("met" if self.ratio >= self.target else "MISSED")
        return [self.name, *vals, f"{self.ratio:.2f}", verdict]


def _ms(s: float) -> str:
    return f"{s * 1e3:,.1f} ms" if s >= 0.1 else f"{s * 1e3:.2f} ms"


def results_table(rows: list[Row]) -> str:
    """Markdown table: workload, each library's throughput or time, ratio, target."""
    lines = [
        "| workload | backprop | PyTorch | ratio bp/torch (throughput) | target |",
        "|---|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append("| " + " | ".join(r.cells()) + " |")
    return "\n".join(lines)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> str:
    """The 1/5/15-minute load averages (other processes competing for the cores)."""
    try:
        return "{:.2f} / {:.2f} / {:.2f}".format(*os.getloadavg())
    except OSError:  # not available on this platform
        return "n/a"


def machine() -> str:
    return (
        f"{cpu_model()}, {os.cpu_count()} cores, NumPy {np.__version__}, "
        f"BLAS threads {blas_threads()}"
    )


@contextlib.contextmanager
def op_profile():
    """Time every registered op's forward and backward while the block runs.

    Yields a dict ``{(op name, "fwd" | "bwd"): seconds}`` that fills as ops run; the ops are
    restored on exit. The wrappers add about a microsecond per call.
    """
    from backprop.ops import OPS

    stats: dict = defaultdict(float)
    saved = {}
    for name, cls in OPS.items():
        fwd, bwd = cls.__dict__["forward"].__func__, cls.__dict__["backward"].__func__
        saved[cls] = (cls.__dict__["forward"], cls.__dict__["backward"])

        def timed_fwd(ctx, *args, _f=fwd, _k=(name, "fwd"), **kwargs):
            t0 = time.perf_counter()
            y = _f(ctx, *args, **kwargs)
            stats[_k] += time.perf_counter() - t0
            return y

        def timed_bwd(ctx, gy, _b=bwd, _k=(name, "bwd")):
            t0 = time.perf_counter()
            g = _b(ctx, gy)
            stats[_k] += time.perf_counter() - t0
            return g

        cls.forward = staticmethod(timed_fwd)
        cls.backward = staticmethod(timed_bwd)
    try:
        yield stats
    finally:
        for cls, (fwd, bwd) in saved.items():
            cls.forward, cls.backward = fwd, bwd
