"""The benchmark suite (``make bench``): backprop against PyTorch on CPU, each in its own process.

Every workload runs with each library in a fresh interpreter of its own (``workloads.py``),
alternating processes (torch, backprop, torch, backprop, ...) for several rounds, at each thread
count, with the same count given to both (``torch.set_num_threads`` and
``set_num_interop_threads`` = ``backprop.set_num_threads``, and ``OMP_NUM_THREADS``,
``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``, ``NUMBA_NUM_THREADS`` in the child's environment
before anything is imported). float32, data made in memory before timing, warm-up, medians. The
ratio is backprop's throughput over PyTorch's (PyTorch's time over backprop's; above 1, backprop
is faster), taken in each round from the two adjacent processes; the table gives the median of
those per-round ratios.

Besides the workloads it measures: float32 GEMM peaks (NumPy's and torch's matmul at 1024^3 and
2048^3 and at the MLP and LeNet-5 steps' own shapes) against the steps' achieved GFLOP/s and the
share of each step spent in those products; backprop's buffer pool on versus off for the two
steps; the peak memory of a LeNet-5 training process; and, to show the bias of the old
method, PyTorch's and backprop's LeNet-5 steps timed call by call inside one process.

    python benchmarks/run_all.py                          # 1 and 2 threads, 3 rounds (~10 min)
    python benchmarks/run_all.py --markdown benchmarks/RESULTS.md
    python benchmarks/run_all.py --threads 2 --only mlp,lenet --rounds 5
    python benchmarks/run_all.py --quick                  # one round, tiny counts: a smoke run

This file imports only the standard library: the parent stays small and holds no thread pool.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHILD = HERE / "workloads.py"
LIBS = ("torch", "backprop")
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")

# key: (label, minimum throughput ratio backprop / PyTorch from the issue, unit of one call)
WORKLOADS = {
    "mlp": ("MLP 784-512-256-10 training step, batch 64 (SGD momentum)", 1.0, "img"),
    "lenet": ("LeNet-5 (20-50-500, pad 2) training step, batch 64 (SGD momentum)", 1.0, "img"),
    "lenet_infer": ("LeNet-5 inference, batch 1,000", 1.0, "img"),
    "sgd": ("SGD momentum 0.9 step, 978,442 params (8 tensors)", 1.0, None),
    "adam": ("Adam step, 978,442 params (8 tensors)", 1.0, None),
    "conv": ("Conv2d 20->50 5x5 pad 2 on (64, 20, 14, 14), fwd+bwd", 1.0, None),
    "lstm": ("LSTM 64->128, 50 steps, batch 32, fwd+bwd", 1.0, None),
    "batchnorm": ("BatchNorm2d(20) on (64, 20, 28, 28), training, fwd+bwd", 0.8, None),
    "chain": ("per-op overhead: chain of 2,000 tiny ops, fwd+bwd", 1.0, None),
}
GEMM_STEPS = ("mlp", "lenet")  # the steps whose GFLOP/s and GEMM share are reported
# backprop once also ran the GEMM steps with its buffer pool off; the pool was removed after
# that comparison showed it did not pay (README, Performance), so none runs twice now.
POOL_STEPS: tuple = ()
EXTRAS = ("gemm", "memory", "inprocess")
STEP_LABELS = {"mlp": "MLP 784-512-256-10, batch 64", "lenet": "LeNet-5, batch 64"}


# --------------------------------------------------------------------------- running children
def child_env(threads: int) -> dict:
    """The environment of a child: every thread pool capped at ``threads`` before import."""
    env = dict(os.environ)
    for var in THREAD_VARS:
        env[var] = str(threads)
    return env


def run_child(spec: dict, timeout: float) -> dict:
    """Run ``workloads.py`` on ``spec`` in a fresh interpreter; its last stdout line is JSON."""
    cmd = [sys.executable, str(CHILD), json.dumps(spec)]
    try:
        res = subprocess.run(
            cmd, env=child_env(spec["threads"]), capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"benchmark child {spec} ran past {timeout:.0f} s") from None
    if res.returncode != 0:
        raise RuntimeError(
            f"benchmark child {spec} failed (exit {res.returncode}):\n{res.stderr[-3000:]}"
        )
    return json.loads(res.stdout.strip().splitlines()[-1])


@dataclass
class Measured:
    """Per-round results of one workload at one thread count: ``runs[variant]`` lists one child
    result per round; variants are "torch", "backprop" and "backprop, pool off"."""

    runs: dict = field(default_factory=dict)

    def add(self, variant: str, result: dict) -> None:
        self.runs.setdefault(variant, []).append(result)

    def seconds(self, variant: str) -> list[float]:
        return [r["seconds"] for r in self.runs.get(variant, [])]


def median_ratio(num: list[float], den: list[float]) -> float:
    """Median over rounds of num[r] / den[r]: each round's ratio comes from two processes run
    one after the other, so a slow spell of the machine hits both sides of it."""
    if len(num) != len(den) or not num:
        raise ValueError(f"median_ratio: need equal, non-empty lists, got {len(num)}, {len(den)}")
    return statistics.median(n / d for n, d in zip(num, den))


def checks_agree(a: float, b: float) -> bool:
    """Whether two libraries computed the same check value (so they did the same work)."""
    return abs(a - b) <= 1e-3 * max(abs(a), abs(b)) + 1e-6


# --------------------------------------------------------------------------- formatting
def fmt_time(s: float) -> str:
    if s >= 1:
        return f"{s:,.2f} s"
    return f"{s * 1e3:,.1f} ms" if s >= 0.01 else f"{s * 1e3:.3f} ms"


def gflops(step: dict) -> float:
    """GFLOP/s of a {"flops", "seconds"} record."""
    return step["flops"] / step["seconds"] / 1e9


def rest(s: float) -> str:
    """The step's time outside its products; negative when the products timed alone took longer
    than the whole step (noise, or products that run faster inside the step than alone)."""
    return fmt_time(s) if s >= 0 else "-" + fmt_time(-s)


def fmt_value(seconds: float, items, unit) -> str:
    return f"{items / seconds:,.0f} {unit}/s" if unit and items else fmt_time(seconds)


def table(header: list[str], rows: list[list[str]], align: str) -> list[str]:
    """Markdown table lines; ``align`` has one letter per column: l or r."""
    out = ["| " + " | ".join(header) + " |"]
    out.append("|" + "|".join("---:" if a == "r" else "---" for a in align) + "|")
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def verdict(ratio: float, target: float, higher_is_better: bool = True) -> str:
    ok = ratio >= target if higher_is_better else ratio <= target
    return "met" if ok else "MISSED"


# --------------------------------------------------------------------------- the report
class Report:
    """Everything measured, keyed by thread count, and its Markdown rendering."""

    def __init__(self, threads: list[int], keys: list[str], rounds: int, quick: bool):
        self.threads, self.keys, self.rounds, self.quick = threads, keys, rounds, quick
        self.data: dict = {n: {k: Measured() for k in [*keys, *EXTRAS]} for n in threads}
        self.mismatches: list[str] = []

    def record(self, n: int, key: str, variant: str, result: dict) -> None:
        self.data[n][key].add(variant, result)

    def check_round(self, n: int, key: str) -> None:
        """Compare the last round's check values of the two libraries for ``key``."""
        runs = self.data[n][key].runs
        if "check" not in runs["torch"][-1]:
            return
        for variant in [v for v in runs if v != "torch"]:
            a, b = runs["torch"][-1]["check"], runs[variant][-1]["check"]
            if not checks_agree(a, b):
                self.mismatches.append(
                    f"{key}, {n} thread(s), {variant}: check {b!r} against torch's {a!r}"
                )

    # ---------------------------------------------------------------- sections
    def ratio(self, n: int, key: str) -> float | None:
        m = self.data[n][key]
        if not m.runs.get("backprop"):
            return None
        return median_ratio(m.seconds("torch"), m.seconds("backprop"))

    def summary(self) -> list[str]:
        cols = [f"ratio, {n} thread{'s' if n > 1 else ''}" for n in self.threads]
        rows = []
        for key in self.keys:
            label, target, _ = WORKLOADS[key]
            ratios = [self.ratio(n, key) for n in self.threads]
            misses = [f"{n}t" for n, r in zip(self.threads, ratios) if r is not None and r < target]
            status = "met" if not misses else "MISSED (" + ", ".join(misses) + ")"
            rows.append([label, *(f"{r:.2f}" for r in ratios), f">= {target:g}", status])
        if self.has("memory"):
            label = "peak memory, LeNet-5 training (peak - import), bp/torch"
            ratios = [self.memory_ratio(n) for n in self.threads]
            misses = [f"{n}t" for n, r in zip(self.threads, ratios) if r > 1]
            status = "met" if not misses else "MISSED (" + ", ".join(misses) + ")"
            rows.append([label, *(f"{r:.2f}" for r in ratios), "<= 1", status])
        return table(["workload", *cols, "target", "status"], rows, "l" + "r" * len(cols) + "ll")

    def details(self, n: int) -> list[str]:
        rows = []
        for key in self.keys:
            label, _, unit = WORKLOADS[key]
            m = self.data[n][key]
            tb, tt = m.seconds("backprop"), m.seconds("torch")
            items = m.runs["torch"][0]["items"]
            per_round = [t / b for t, b in zip(tt, tb)]
            rows.append(
                [
                    label,
                    fmt_value(statistics.median(tb), items, unit),
                    fmt_value(statistics.median(tt), items, unit),
                    f"{self.ratio(n, key):.2f}",
                    ", ".join(f"{r:.2f}" for r in per_round),
                ]
            )
        return table(
            ["workload", "backprop", "PyTorch", "ratio bp/torch", "per-round ratios"],
            rows,
            "lrrrl",
        )

    def has(self, key: str) -> bool:
        return any(self.data[n][key].runs for n in self.threads)

    def gemm(self, n: int, lib: str) -> dict:
        """Median over rounds of each GEMM figure of ``lib`` at ``n`` threads, in seconds."""
        runs = self.data[n]["gemm"].runs[lib]
        peak = {s: statistics.median(r["peak"][s] for r in runs) for s in runs[0]["peak"]}
        steps = {
            k: {
                "seconds": statistics.median(r["steps"][k]["seconds"] for r in runs),
                "flops": runs[0]["steps"][k]["flops"],
            }
            for k in runs[0]["steps"]
        }
        return {"peak": peak, "steps": steps}

    def gemm_section(self) -> list[str]:
        out = []
        rows = []
        for n in self.threads:
            g = {lib: self.gemm(n, lib) for lib in LIBS}
            for s in g["torch"]["peak"]:
                flops = 2 * int(s) ** 3
                rows.append(
                    [
                        f"{s}^3 square",
                        str(n),
                        *(
                            f"{flops / g[lib]['peak'][s] / 1e9:,.0f}"
                            for lib in ("backprop", "torch")
                        ),
                    ]
                )
            for k in g["torch"]["steps"]:
                rows.append(
                    [
                        f"{STEP_LABELS[k]}: the step's products, each alone",
                        str(n),
                        *(f"{gflops(g[lib]['steps'][k]):,.0f}" for lib in ("backprop", "torch")),
                    ]
                )
        out += table(
            ["float32 matmul", "threads", "NumPy (backprop's BLAS) GFLOP/s", "torch GFLOP/s"],
            rows,
            "lrrr",
        )
        out.append("")
        rows = []
        for n in self.threads:
            g = {lib: self.gemm(n, lib) for lib in LIBS}
            for k in GEMM_STEPS:
                if k not in self.keys:
                    continue
                m = self.data[n][k]
                step = {lib: statistics.median(m.seconds(lib)) for lib in LIBS}
                flops = m.runs["torch"][0]["flops"]
                cells = [f"{STEP_LABELS[k]} ({flops / 1e9:.3f} GFLOP)", str(n)]
                for lib in ("backprop", "torch"):
                    # Against the library's best square-size rate: how close to its BLAS limit.
                    peak = max(2 * int(s) ** 3 / t for s, t in g[lib]["peak"].items())
                    achieved = flops / step[lib]
                    cells.append(f"{achieved / 1e9:,.0f} ({achieved / peak:.0%} of peak)")
                for lib in ("backprop", "torch"):
                    gemm_s = g[lib]["steps"][k]["seconds"]
                    cells.append(
                        f"{fmt_time(gemm_s)} of {fmt_time(step[lib])} "
                        f"({gemm_s / step[lib]:.0%}); rest {rest(step[lib] - gemm_s)}"
                    )
                rows.append(cells)
        out += table(
            [
                "training step",
                "threads",
                "backprop GFLOP/s",
                "PyTorch GFLOP/s",
                "backprop: GEMM of step (share); rest",
                "PyTorch: GEMM of step (share); rest",
            ],
            rows,
            "lrrrll",
        )
        return out

    def pool_section(self) -> list[str]:
        rows = []
        for n in self.threads:
            for k in POOL_STEPS:
                m = self.data[n].get(k)
                if m is None or not m.runs.get("backprop, pool off"):
                    continue
                on, off = m.seconds("backprop"), m.seconds("backprop, pool off")
                gain = median_ratio(off, on)
                state = m.runs["backprop"][0]["info"].get("pool", "?")
                rows.append(
                    [
                        STEP_LABELS[k],
                        str(n),
                        f"{fmt_time(statistics.median(on))} ({state})",
                        fmt_time(statistics.median(off)),
                        f"{gain:.3f}",
                        ", ".join(f"{b / a:.3f}" for a, b in zip(on, off)),
                    ]
                )
        return table(
            [
                "backprop step",
                "threads",
                "pool on",
                "pool off",
                "off time / on time (median)",
                "per round",
            ],
            rows,
            "lrrrrl",
        )

    def memory_ratio(self, n: int) -> float:
        runs = self.data[n]["memory"].runs
        med = {
            lib: statistics.median(r["peak_mib"] - r["import_mib"] for r in runs[lib])
            for lib in LIBS
        }
        return med["backprop"] / med["torch"]

    def memory_section(self) -> list[str]:
        rows = []
        for n in self.threads:
            runs = self.data[n]["memory"].runs
            for lib, name in (("backprop", "backprop"), ("torch", "PyTorch")):
                rs = runs[lib]

                def med(key, rs=rs):
                    return statistics.median(r[key] for r in rs)

                rows.append(
                    [
                        name,
                        str(n),
                        f"{med('import_mib'):.0f} MiB",
                        f"{med('setup_mib'):.0f} MiB",
                        f"{med('peak_mib'):.0f} MiB",
                        f"{statistics.median(r['peak_mib'] - r['import_mib'] for r in rs):.0f} MiB",
                    ]
                )
        return table(
            ["library", "threads", "after import", "after set-up", "peak", "peak - import"],
            rows,
            "lrrrrr",
        )

    def inprocess_section(self) -> list[str]:
        rows = []
        for n in self.threads:
            runs = self.data[n]["inprocess"].runs.get("both", [])
            alone = self.data[n].get("lenet")
            if not runs or alone is None or not alone.runs:
                continue
            cells = [str(n)]
            for lib in LIBS:
                sep = statistics.median(alone.seconds(lib))
                inproc = statistics.median(r["seconds"][lib] for r in runs)
                cells += [f"{64 / sep:,.0f} img/s", f"{64 / inproc:,.0f} img/s"]
            sep_ratio = median_ratio(alone.seconds("torch"), alone.seconds("backprop"))
            in_ratio = statistics.median(
                r["seconds"]["torch"] / r["seconds"]["backprop"] for r in runs
            )
            cells += [f"{sep_ratio:.2f}", f"{in_ratio:.2f}"]
            rows.append(cells)
        return table(
            [
                "threads",
                "PyTorch, own process",
                "PyTorch, alternating in one process",
                "backprop, own process",
                "backprop, alternating in one process",
                "ratio, own processes",
                "ratio, one process",
            ],
            rows,
            "rrrrrrr",
        )

    def environment(self) -> list[str]:
        info: dict = {}
        versions: dict = {}
        for n in self.threads:
            for key in self.keys:
                for lib in LIBS:
                    for r in self.data[n][key].runs.get(lib, []):
                        info.setdefault(lib, {}).update(r.get("info", {}))
                        versions[lib] = r.get("version", "?")
        bp_info = info.get("backprop", {})
        return [
            f"- Machine: {cpu_model()}, {os.cpu_count()} logical cores, {platform.system()} "
            f"{platform.release()}",
            f"- Python {platform.python_version()}; PyTorch {versions.get('torch', '?')}; backprop "
            f"{versions.get('backprop', '?')} on NumPy {bp_info.get('numpy', '?')} "
            f"({bp_info.get('blas', 'BLAS unknown')}), elementwise kernels: "
            f"{bp_info.get('kernels', '?')}, buffer pool: {bp_info.get('pool', '?')}",
            f"- Threads: {', '.join(map(str, self.threads))}, the same in both libraries "
            "(torch.set_num_threads + set_num_interop_threads; backprop.set_num_threads; "
            f"{', '.join(THREAD_VARS)} in each child's environment); float32",
        ]

    def markdown(self, stamp: str, elapsed: float, loads: tuple[str, str], argv: str) -> str:
        rounds = f"{self.rounds} round{'s' if self.rounds > 1 else ''}"
        lines = [
            f"Measured {stamp} by `benchmarks/run_all.py{argv}`: {rounds}, {elapsed:.0f} s"
            + (" (**--quick: tiny iteration counts, not a measurement**)" if self.quick else "")
            + ".",
            "",
            *self.environment(),
            f"- Load average (1/5/15 min) before: {loads[0]}; after: {loads[1]} (other "
            "processes on the same cores slow both libraries down and add noise: read the "
            "ratios)",
            "",
            "Each library runs each workload in a fresh process of its own; processes alternate "
            "torch, backprop, torch, backprop... Ratio = backprop throughput / PyTorch throughput "
            "(= PyTorch time / backprop time), the median of the per-round ratios: above 1, "
            "backprop is faster. Times and throughputs are medians over rounds of each process's "
            "median.",
            "",
        ]
        if self.mismatches:
            lines += ["**The libraries disagreed on the check values:**", ""]
            lines += [f"- {m}" for m in self.mismatches] + [""]
        if self.keys:
            lines += ["### Targets", "", *self.summary(), ""]
            for n in self.threads:
                lines += [f"### {n} thread{'s' if n > 1 else ''}", "", *self.details(n), ""]
        if self.has("gemm"):
            lines += [
                "### GEMM peak and the training steps",
                "",
                "float32 matrix products alone, in each library's own process and thread count: "
                "square sizes, and the products of each training step at its own shapes (forward, "
                "weight and input gradients; LeNet-5's convolutions in their im2col lowering), "
                "each timed alone and summed.",
                "",
                *self.gemm_section(),
                "",
                "Achieved GFLOP/s counts the step's multiply-adds of forward and backward (2 flops "
                "each; no input gradient for the data). The GEMM share is the step's products "
                "timed alone over the whole step; the rest is everything else (elementwise work, "
                "im2col copies, pooling, the optimiser, the Python around it). PyTorch computes "
                "its convolutions with oneDNN rather than as these products, so its share is "
                "what its step would cost in its own GEMMs.",
                "",
            ]
        if any(
            self.data[n][k].runs.get("backprop, pool off")
            for n in self.threads
            for k in POOL_STEPS
            if k in self.data[n]
        ):
            lines += [
                "### backprop's buffer pool, on against off",
                "",
                "Off: `buffer_pool.min_bytes` raised above every array size, so that each request "
                "allocates afresh (the pool's behaviour below its threshold). The two variants run "
                "in adjacent processes of the same round; above 1, the pool pays.",
                "",
                *self.pool_section(),
                "",
            ]
        if self.has("memory"):
            lines += [
                "### Peak memory",
                "",
                "A fresh process per library trains LeNet-5 for 20 steps at batch 64. Memory is "
                "the resident-set high-water mark (`VmHWM` in /proc/self/status: `ru_maxrss` "
                "without the parent's peak carried across exec; tracemalloc would miss "
                "PyTorch's allocator), read after the import, after the set-up (data, model, "
                "optimiser) and at the end. The comparable figure is peak - import: what "
                "running the workload adds, lazily loaded kernels included.",
                "",
                *self.memory_section(),
                "",
            ]
        if self.has("inprocess"):
            lines += [
                "### Why not both in one process",
                "",
                "The old method, for comparison only: both libraries' LeNet-5 steps built in "
                "one process and timed call by call, alternating. PyTorch's OpenMP workers and "
                "OpenBLAS's spinning workers then compete for the same cores.",
                "",
                *self.inprocess_section(),
                "",
            ]
        return "\n".join(lines).rstrip() + "\n"


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
    try:
        return "{:.2f} / {:.2f} / {:.2f}".format(*os.getloadavg())
    except OSError:
        return "n/a"


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename, so
    that a reader (or an interrupted run) never sees half a file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------- main
def parse_threads(text: str) -> list[int]:
    try:
        values = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        values = []
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(
            f"--threads: expected positive integers separated by commas, got {text!r}"
        )
    return values


def select(only: str) -> tuple[list[str], list[str]]:
    """The workload keys and extras (gemm, memory, inprocess) that ``--only`` names."""
    wanted = [o.strip() for o in only.split(",") if o.strip()]
    known = [*WORKLOADS, *EXTRAS]
    unknown = [o for o in wanted if o not in known]
    if unknown:
        raise SystemExit(f"--only: unknown key(s) {unknown}; known: {', '.join(known)}")
    keys = [k for k in WORKLOADS if not wanted or k in wanted]
    extras = [k for k in EXTRAS if not wanted or k in wanted]
    if "inprocess" in extras and "lenet" not in keys:
        extras.remove("inprocess")  # compared with the separate-process LeNet-5 step
    return keys, extras


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads", type=parse_threads, default=[1, 2], help="thread counts, e.g. 1,2 (default)"
    )
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 3; quick 1)")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated keys: " + ", ".join([*WORKLOADS, *EXTRAS]) + " (default: all)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="one round, tiny counts: a smoke run, no speed claim"
    )
    parser.add_argument("--no-pool-check", action="store_true", help="skip the pool-off runs")
    parser.add_argument("--markdown", type=Path, help="also write the report to this file")
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds allowed to one child (default 300)"
    )
    args = parser.parse_args(argv)
    rounds = args.rounds if args.rounds is not None else (1 if args.quick else 3)
    if rounds < 1:
        parser.error(f"--rounds must be at least 1, got {rounds}")
    keys, extras = select(args.only)
    report = Report(args.threads, keys, rounds, args.quick)

    started = time.perf_counter()
    load_before = load_average()
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")

    def go(n: int, r: int, key: str, variant: str, spec: dict) -> dict:
        spec = {"workload": key, "threads": n, "quick": args.quick, **spec}
        result = run_child(spec, args.timeout)
        report.record(n, key, variant, result)
        shown = result.get("seconds")
        shown = fmt_time(shown) if isinstance(shown, float) else ""
        print(
            f"[{time.perf_counter() - started:6.1f} s] {n}t round {r + 1}/{rounds} "
            f"{key:<11} {variant:<18} {shown}",
            file=sys.stderr,
            flush=True,
        )
        return result

    for n in args.threads:
        for r in range(rounds):
            for key in keys:
                go(n, r, key, "torch", {"lib": "torch"})
                go(n, r, key, "backprop", {"lib": "backprop"})
                if key in POOL_STEPS and not args.no_pool_check:
                    go(n, r, key, "backprop, pool off", {"lib": "backprop", "pool": False})
                report.check_round(n, key)
                if key == "lenet" and "inprocess" in extras:
                    go(n, r, "inprocess", "both", {})
            for key in ("gemm", "memory"):
                if key in extras:
                    go(n, r, key, "torch", {"lib": "torch"})
                    go(n, r, key, "backprop", {"lib": "backprop"})

    elapsed = time.perf_counter() - started
    shown_argv = "".join(" " + a for a in (sys.argv[1:] if argv is None else argv))
    text = report.markdown(stamp, elapsed, (load_before, load_average()), shown_argv)
    print(text)
    if args.markdown:
        write_atomically(
            args.markdown, "# Benchmark results: backprop against PyTorch (CPU)\n\n" + text
        )
        print(f"wrote {args.markdown}", file=sys.stderr)
    if report.mismatches:
        print("the two libraries did not do the same work (see above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
