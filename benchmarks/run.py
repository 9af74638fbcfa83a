"""Benchmarks for `cnncalc summary` against the performance targets of DESIGN.md.

Run from anywhere with the project's interpreter:

    .venv/bin/python benchmarks/run.py            # full run, 5 repeats (about 3 minutes on 2 cores)
    .venv/bin/python benchmarks/run.py --quick    # 2 repeats, vgg16 only, 1k/10k scaling (< 45 s)

It prints Markdown tables (see benchmarks/README.md for what each column means). Every timed
command runs in a fresh process started from a scratch directory (so zoo names must resolve from
any cwd); wall time is measured around the child, peak RSS is the child's own `ru_maxrss` as
returned by `os.wait4`. This process never imports torch: the peers (torchinfo, fvcore) run in
their own processes.

Standard library only (plus cnncalc itself for the in-process timings).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SPECS = ["lenet5", "alexnet", "vgg16", "resnet50"]
SIZES = [1000, 5000, 10000]

# Targets (DESIGN.md, "Performance targets", and the issue).
CLI_WALL_TARGET_MS = 500.0
CLI_RSS_TARGET_MB = 100.0
SPEEDUP_TARGET = 10.0
SCALE_TARGET_LAYERS = 10_000
SCALE_TARGET_MS = 2000.0

# A peer run in a fresh process: import torch + the peer, build the model with cnncalc's own
# torch builder, run the peer once. Prints its phase times as one JSON line on stdout.
PEER_SCRIPT = r"""
import json, sys, time
t0 = time.perf_counter()
tool, spec = sys.argv[1], sys.argv[2]
import torch
if tool == "torchinfo":
    import torchinfo
else:
    import logging
    logging.disable(logging.WARNING)
    from fvcore.nn import FlopCountAnalysis
from cnncalc.spec import load_graph
from cnncalc.analysis.shapes import infer_shapes
from cnncalc.torch_backend.build import build, example_inputs
t1 = time.perf_counter()
graph = load_graph(spec)
model = build(graph).eval()
t2 = time.perf_counter()
if tool == "torchinfo":
    shapes = infer_shapes(graph)
    sizes = [tuple(shapes[node.name]) for node in graph.inputs]
    stats = torchinfo.summary(model, input_size=sizes[0] if len(sizes) == 1 else sizes, verbose=0)
    result = stats.total_mult_adds
else:
    inputs = example_inputs(graph)
    with torch.no_grad():
        analysis = FlopCountAnalysis(model, inputs)
        analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        result = analysis.total()
t3 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "build_s": t2 - t1, "call_s": t3 - t2, "macs": int(result)}))
"""

# Runs the CLI exactly like `python -m cnncalc ...` and reports, on stderr, whether torch/fvcore
# ended up in sys.modules (not timed; one run per spec).
TORCH_CHECK_SCRIPT = r"""
import runpy, sys
sys.argv = ["cnncalc"] + sys.argv[1:]
code = 0
try:
    runpy.run_module("cnncalc", run_name="__main__", alter_sys=True)
except SystemExit as done:
    code = done.code or 0
heavy = sorted(m for m in ("torch", "fvcore", "torchinfo", "numpy") if m in sys.modules)
sys.stderr.write("\n@@HEAVY@@" + ",".join(heavy) + "@@CODE@@" + str(code) + "\n")
"""


@dataclass
class ProcessRun:
    wall_s: float
    maxrss_kb: int
    stdout: str = ""


@dataclass
class Series:
    """Repeated measurements of one thing."""

    walls: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)
    extras: list[dict[str, float]] = field(default_factory=list)

    def add(self, run: ProcessRun) -> None:
        self.walls.append(run.wall_s)
        self.rss_kb.append(run.maxrss_kb)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.walls) * 1e3

    @property
    def min_ms(self) -> float:
        return min(self.walls) * 1e3

    @property
    def rss_mb(self) -> float:
        return max(self.rss_kb) * 1024 / 1e6

    def extra_median_ms(self, key: str) -> float:
        return float(statistics.median(e[key] for e in self.extras)) * 1e3


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("PYTHONHASHSEED", "0")
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    env["COLUMNS"] = "120"
    return env


def run_process(argv: list[str], cwd: Path, capture: bool = False) -> ProcessRun:
    """Run argv to completion; wall time around it and the child's own peak RSS (os.wait4)."""
    stdout = subprocess.PIPE if capture else subprocess.DEVNULL
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=child_env(), stdout=stdout, stderr=subprocess.PIPE)
    out = proc.stdout.read() if capture else b""  # type: ignore[union-attr]
    err = proc.stderr.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(
            f"benchmark child failed (exit {proc.returncode}): {' '.join(argv)}\n"
            + err.decode(errors="replace")[-3000:]
        )
    return ProcessRun(wall, usage.ru_maxrss, out.decode(errors="replace"))


def cli_argv(spec: str) -> list[str]:
    return [sys.executable, "-m", "cnncalc", "summary", spec, "--format", "json"]


def peer_argv(tool: str, spec: str) -> list[str]:
    return [sys.executable, "-c", PEER_SCRIPT, tool, spec]


def heavy_modules(spec: str, cwd: Path) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", TORCH_CHECK_SCRIPT, "summary", spec, "--format", "json"],
        cwd=cwd, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    marker = proc.stderr.rsplit("@@HEAVY@@", 1)
    if len(marker) != 2:
        return "?"
    heavy, code = marker[1].strip().split("@@CODE@@")
    if code.strip() != "0":
        return f"exit {code.strip()}"
    return heavy or "none"


def in_process(spec: str, repeat: int) -> dict[str, float]:
    """load_graph + analyze (and render_json separately) in this process, seconds."""
    from cnncalc.analysis import analyze
    from cnncalc.report.to_json import render_json
    from cnncalc.spec import load_graph

    loads, analyses, renders, totals = [], [], [], []
    layers = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        graph = load_graph(spec)
        t1 = time.perf_counter()
        report = analyze(graph)
        t2 = time.perf_counter()
        render_json(report)
        t3 = time.perf_counter()
        loads.append(t1 - t0)
        analyses.append(t2 - t1)
        renders.append(t3 - t2)
        totals.append(t2 - t0)
        layers = len(report.rows)
        del graph, report
    return {
        "load_s": statistics.median(loads),
        "analyze_s": statistics.median(analyses),
        "render_s": statistics.median(renders),
        "analysis_s": statistics.median(totals),
        "first_s": totals[0],
        "layers": layers,
    }


# --------------------------------------------------------------------------- generated specs


def chain_spec(layers: int) -> str:
    lines = [
        f"# generated by benchmarks/run.py: {layers} layers, conv2d/relu alternating",
        f"name: chain{layers}",
        "input: [8, 32, 32]",
        "layers:",
    ]
    for _ in range(layers // 2):
        lines.append("  - conv2d: {out: 8, kernel: 3, padding: 1}")
        lines.append("  - relu")
    if layers % 2:
        lines.append("  - relu")
    return "\n".join(lines) + "\n"


BLOCK_LAYERS = 7


def residual_spec(layers: int) -> str:
    """A basic residual block (7 layers) instantiated with `repeat:`; a stem pads to `layers`."""
    repeats, stem = divmod(layers, BLOCK_LAYERS)
    lines = [
        f"# generated by benchmarks/run.py: {layers} layers, residual block x{repeats} via repeat:",
        f"name: residual{layers}",
        "input: [8, 32, 32]",
        "vars: {width: 8}",
        "defaults:",
        "  conv2d: {bias: false}",
        "blocks:",
        "  basic:",
        "    args: {planes: null, stride: 1}",
        "    layers:",
        "      - conv2d: {name: conv1, out: planes, kernel: 3, stride: stride, padding: 1}",
        "      - batchnorm2d: {name: bn1}",
        "      - relu: {name: relu1, inplace: true}",
        "      - conv2d: {name: conv2, out: planes, kernel: 3, padding: 1}",
        "      - batchnorm2d: {name: bn2}",
        "      - add: {name: add, from: [bn2, input]}",
        "      - relu: {name: relu2, inplace: true}",
        "layers:",
    ]
    for _ in range(stem):
        lines.append("  - relu")
    lines.append(f"  - basic: {{name: stage, repeat: {repeats}, planes: width, stride: 1}}")
    return "\n".join(lines) + "\n"


VARIANTS = {"chain": chain_spec, "residual": residual_spec}


# --------------------------------------------------------------------------- output helpers


def table(headers: list[str], rows: Sequence[Sequence[object]], align: str | None = None) -> str:
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    align = align or ("l" + "r" * (len(headers) - 1))

    def line(values: list[str]) -> str:
        return "| " + " | ".join(
            v.ljust(w) if a == "l" else v.rjust(w) for v, w, a in zip(values, widths, align)
        ) + " |"

    sep = "|" + "|".join(
        (":" + "-" * (w + 1)) if a == "l" else ("-" * (w + 1) + ":") for w, a in zip(widths, align)
    ) + "|"
    return "\n".join([line(headers), sep, *(line(r) for r in cells)])


def ms(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def mark(ok: bool) -> str:
    return "yes" if ok else "**NO**"


def version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "missing"


def available(dist: str) -> bool:
    return version(dist) != "missing"


def fit(xs: list[float], ys: list[float]) -> tuple[float, float, float]:
    """Least squares y = a + b x; returns (a, b, r^2)."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    b = sxy / sxx if sxx else 0.0
    a = my - b * mx
    ss_tot = sum((y - my) ** 2 for y in ys)
    ss_res = sum((y - a - b * x) ** 2 for x, y in zip(xs, ys))
    return a, b, (1 - ss_res / ss_tot) if ss_tot else 1.0


def import_profile(spec: str, cwd: Path, top: int) -> tuple[float, list[tuple[str, float]]]:
    """Import time of one CLI run (python -X importtime): total, and self time per root package."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *cli_argv(spec)[1:]],
        cwd=cwd, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    by_root: dict[str, float] = {}
    for raw in proc.stderr.splitlines():
        if not raw.startswith("import time:") or "self [us]" in raw:
            continue
        try:
            self_us, _, name = raw[len("import time:"):].split("|", 2)
            micros = float(self_us)
        except ValueError:
            continue
        root = name.strip().split(".")[0]
        by_root[root] = by_root.get(root, 0.0) + micros / 1e3
    ranked = sorted(by_root.items(), key=lambda kv: -kv[1])
    return sum(by_root.values()), ranked[:top]


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (default 5)")
    parser.add_argument("--quick", action="store_true",
                        help="repeat 2, vgg16 only, scaling at 1k and 10k layers only")
    parser.add_argument("--no-peers", action="store_true", help="skip torchinfo and fvcore")
    parser.add_argument("--no-fvcore", action="store_true", help="skip the fvcore column")
    args = parser.parse_args()

    repeat = 2 if args.quick else max(1, args.repeat)
    specs = ["vgg16"] if args.quick else SPECS
    sizes = [1000, 10000] if args.quick else SIZES
    peers = [] if args.no_peers else [t for t in ("torchinfo", "fvcore") if available(t)]
    if args.no_fvcore and "fvcore" in peers:
        peers.remove("fvcore")
    if not available("torch"):
        peers = []

    import cnncalc

    started = time.perf_counter()
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    print("# cnncalc benchmarks\n")
    print(
        f"machine: nproc={os.cpu_count()} ({cpu}), {platform.system()} {platform.machine()}; "
        f"Python {platform.python_version()}; cnncalc {cnncalc.__version__}; "
        f"torch {version('torch')}, torchinfo {version('torchinfo')}, fvcore {version('fvcore')}; "
        f"repeat={repeat}{' (quick)' if args.quick else ''}\n"
    )

    with tempfile.TemporaryDirectory(prefix="cnncalc-bench-") as scratch:
        cwd = Path(scratch)

        # ---------------------------------------------------------------- 1. bundled specs
        cli: dict[str, Series] = {s: Series() for s in specs}
        peer: dict[tuple[str, str], Series] = {(t, s): Series() for t in peers for s in specs}
        for spec in specs:  # one untimed warm-up of the CLI (page cache, .pyc)
            run_process(cli_argv(f"{spec}.yaml"), cwd)
        for _ in range(repeat):  # interleaved so that drift hits every column alike
            for spec in specs:
                cli[spec].add(run_process(cli_argv(f"{spec}.yaml"), cwd))
                for tool in peers:
                    result = run_process(peer_argv(tool, spec), cwd, capture=True)
                    peer[tool, spec].add(result)
                    peer[tool, spec].extras.append(json.loads(result.stdout.strip().splitlines()[-1]))
        heavy = {spec: heavy_modules(f"{spec}.yaml", cwd) for spec in specs}
        inproc = {spec: in_process(f"{spec}.yaml", repeat + 1) for spec in specs}

        print("## 1. `cnncalc summary NAME.yaml --format json` on the bundled specs\n")
        print("Whole CLI process (fresh interpreter, output to /dev/null) and the analysis alone "
              "in-process.\n")
        rows = []
        for spec in specs:
            s, ip = cli[spec], inproc[spec]
            rows.append([
                spec, ip["layers"], ms(s.median_ms), ms(s.min_ms), f"{s.rss_mb:.1f}", heavy[spec],
                ms(ip["analysis_s"] * 1e3), ms(ip["first_s"] * 1e3), ms(ip["load_s"] * 1e3),
                ms(ip["analyze_s"] * 1e3), ms(ip["render_s"] * 1e3),
                mark(s.median_ms < CLI_WALL_TARGET_MS and s.rss_mb < CLI_RSS_TARGET_MB),
            ])
        print(table(
            ["spec", "layers", "CLI median ms", "CLI min ms", "CLI peak RSS MB", "heavy imports",
             "analysis median ms", "analysis 1st call ms", "load_graph ms", "analyze ms",
             "render_json ms", f"< {CLI_WALL_TARGET_MS:.0f} ms & < {CLI_RSS_TARGET_MB:.0f} MB"],
            rows, "lrrrrlrrrrrl",
        ))
        print()

        if peers:
            print("### Peers on the same architecture (fresh process: import torch + build + run)\n")
            headers = ["spec", "cnncalc CLI median ms"]
            align = "lr"
            for tool in peers:
                call = "summary()" if tool == "torchinfo" else "total()"
                headers += [f"{tool} median ms", f"{tool} min ms", f"{tool} peak RSS MB",
                            f"of which import/build/{call} ms", f"speed-up vs {tool} median (min)",
                            f"speed-up vs {call} alone"]
                align += "rrrrrr"
            rows = []
            for spec in specs:
                row: list[object] = [spec, ms(cli[spec].median_ms)]
                for tool in peers:
                    p = peer[tool, spec]
                    row += [
                        ms(p.median_ms), ms(p.min_ms), f"{p.rss_mb:.0f}",
                        f"{ms(p.extra_median_ms('import_s'))} / {ms(p.extra_median_ms('build_s'))} / "
                        f"{ms(p.extra_median_ms('call_s'))}",
                        f"{p.median_ms / cli[spec].median_ms:.1f}x ({p.min_ms / cli[spec].min_ms:.1f}x)",
                        f"{p.extra_median_ms('call_s') / cli[spec].median_ms:.2f}x",
                    ]
                rows.append(row)
            print(table(headers, rows, align))
            print()
            macs_rows = []
            for spec in specs:
                row = [spec]
                for tool in peers:
                    row.append(f"{peer[tool, spec].extras[-1]['macs']:,}")
                macs_rows.append(row)
            print("Peer MAC totals (sanity check that the peer really ran the model):\n")
            print(table(["spec", *(f"{t} MACs" for t in peers)], macs_rows))
            print()

        # import profile of one vgg16 CLI run
        profile_spec = "vgg16" if "vgg16" in specs else specs[0]
        total_import_ms, profile = import_profile(f"{profile_spec}.yaml", cwd, top=10)
        print(f"### Import time of one `cnncalc summary {profile_spec}.yaml` process "
              "(`python -X importtime`, self time summed per top-level package)\n")
        print(table(["package", "import ms", "share"],
                    [["(all imports)", ms(total_import_ms), "100%"]]
                    + [[n, ms(t), f"{100 * t / total_import_ms:.0f}%"] for n, t in profile]))
        print()

        # ---------------------------------------------------------------- 2. scaling
        spec_dir = cwd / "specs"
        spec_dir.mkdir()
        paths: dict[tuple[str, int], Path] = {}
        for variant, make in VARIANTS.items():
            for size in sizes:
                path = spec_dir / f"{variant}{size}.yaml"
                path.write_text(make(size))
                paths[variant, size] = path
        scale_cli: dict[tuple[str, int], Series] = {k: Series() for k in paths}
        for _ in range(repeat):
            for key, path in paths.items():
                scale_cli[key].add(run_process(cli_argv(str(path)), cwd))
        scale_in = {key: in_process(str(path), repeat) for key, path in paths.items()}

        print("## 2. Scaling with layer count (generated specs)\n")
        print("`chain`: conv2d(8, k3, p1) / relu alternating on [8, 32, 32]. `residual`: a 7-layer "
              "basic block (conv-bn-relu-conv-bn-add-relu) instantiated with `repeat:`.\n")
        rows = []
        for (variant, size), s in scale_cli.items():
            ip = scale_in[variant, size]
            k = ip["layers"] / 1000
            in_total = ip["analysis_s"] + ip["render_s"]
            rows.append([
                variant, f"{ip['layers']:,}", ms(s.median_ms), ms(s.min_ms), f"{s.rss_mb:.0f}",
                ms(s.median_ms / k), ms(ip["load_s"] * 1e3), ms(ip["analyze_s"] * 1e3),
                ms(ip["render_s"] * 1e3), ms(in_total * 1e3), ms(in_total * 1e3 / k),
                mark(s.median_ms < SCALE_TARGET_MS) if ip["layers"] >= SCALE_TARGET_LAYERS else "",
            ])
        print(table(
            ["spec", "layers", "CLI median ms", "CLI min ms", "CLI peak RSS MB", "CLI ms / 1k layers",
             "load_graph ms", "analyze ms", "render_json ms", "in-process total ms",
             "in-process ms / 1k layers", f"10k < {SCALE_TARGET_MS / 1000:.0f} s"],
            rows, "lrrrrrrrrrrl",
        ))
        print()
        rows = []
        for variant in VARIANTS:
            ks = [scale_in[variant, n]["layers"] / 1000 for n in sizes]
            cli_ms = [scale_cli[variant, n].median_ms for n in sizes]
            in_ms = [(scale_in[variant, n]["analysis_s"] + scale_in[variant, n]["render_s"]) * 1e3
                     for n in sizes]
            a, b, r2 = fit(ks, cli_ms)
            ia, ib, ir2 = fit(ks, in_ms)
            ratio = (in_ms[-1] / ks[-1]) / (in_ms[0] / ks[0])
            rows.append([variant, ms(a), ms(b), f"{r2:.4f}", ms(ia), ms(ib), f"{ir2:.4f}",
                         f"{ratio:.2f}"])
        print("Linear fit `time = fixed + slope x (layers / 1000)` over the sizes above "
              "(R^2 near 1 and a per-1k ratio near 1 mean linear):\n")
        print(table(["spec", "CLI fixed ms", "CLI ms per 1k", "CLI R^2", "in-process fixed ms",
                     "in-process ms per 1k", "in-process R^2",
                     f"in-process per-1k cost at {sizes[-1] // 1000}k / at {sizes[0] // 1000}k"], rows))
        print()

        # ---------------------------------------------------------------- 3. check
        from cnncalc.spec import zoo_dir

        zoo = sorted(str(p) for p in zoo_dir().glob("*.yaml"))
        check_argv = [*cli_argv(zoo[0])[:-4], "check", *zoo, "--format", "json"]
        check_cli = Series()
        run_process(check_argv, cwd)  # warm-up
        for _ in range(repeat):
            check_cli.add(run_process(check_argv, cwd))
        print("## 3. `cnncalc check specs/*.yaml` (budgets and lints over the whole zoo)\n")
        print(table(["specs", "CLI median ms", "CLI min ms", "CLI peak RSS MB", "target < 2 s"],
                    [[len(zoo), ms(check_cli.median_ms), ms(check_cli.min_ms), f"{check_cli.rss_mb:.0f}",
                      mark(check_cli.median_ms < SCALE_TARGET_MS)]], "rrrrl"))
        print()

        # ---------------------------------------------------------------- targets
        print("## Targets\n")
        rows = []
        if "vgg16" in specs:
            v = cli["vgg16"]
            rows.append(["vgg16 CLI wall < 500 ms", f"{ms(v.median_ms)} ms median",
                         mark(v.median_ms < CLI_WALL_TARGET_MS)])
            rows.append(["vgg16 CLI peak RSS < 100 MB", f"{v.rss_mb:.1f} MB",
                         mark(v.rss_mb < CLI_RSS_TARGET_MB)])
            if "torchinfo" in peers:
                ratio = peer["torchinfo", "vgg16"].median_ms / v.median_ms
                best = peer["torchinfo", "vgg16"].min_ms / v.min_ms
                rows.append(["vgg16 >= 10x faster than torchinfo (whole process)",
                             f"{ratio:.1f}x median/median ({best:.1f}x min/min)",
                             mark(ratio >= SPEEDUP_TARGET)])
        worst = max(specs, key=lambda s: cli[s].median_ms)
        rows.append(["every zoo spec CLI wall < 500 ms", f"slowest {worst}: {ms(cli[worst].median_ms)} ms",
                     mark(cli[worst].median_ms < CLI_WALL_TARGET_MS)])
        if "torchinfo" in peers:
            low = min(specs, key=lambda s: peer["torchinfo", s].median_ms / cli[s].median_ms)
            ratio = peer["torchinfo", low].median_ms / cli[low].median_ms
            best = peer["torchinfo", low].min_ms / cli[low].min_ms
            rows.append(["every zoo spec >= 10x faster than torchinfo",
                         f"lowest {low}: {ratio:.1f}x ({best:.1f}x min/min)",
                         mark(ratio >= SPEEDUP_TARGET)])
        rows.append(["no torch import in `summary`",
                     ", ".join(f"{s}: {heavy[s]}" for s in specs),
                     mark(all(heavy[s] == "none" for s in specs))])
        for variant in VARIANTS:
            key = (variant, sizes[-1])
            s = scale_cli[key]
            rows.append([f"{variant} {sizes[-1]:,} layers CLI < 2 s", f"{ms(s.median_ms)} ms median",
                         mark(s.median_ms < SCALE_TARGET_MS)])
        rows.append([f"`check` over the {len(zoo)} zoo specs < 2 s", f"{ms(check_cli.median_ms)} ms median",
                     mark(check_cli.median_ms < SCALE_TARGET_MS)])
        print(table(["target", "measured", "met"], rows, "lll"))
        print()
        print(f"(benchmark took {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
