"""`cnncalc profile`: time forward, backward and training steps; each layer against a roofline.

Conventions (the same sentences reach the user as the profile's notes):

- A timing is `repeat` iterations after `warmup` untimed ones; the median is the figure, with
  min/max and the inter-quartile range as its spread. On CUDA each iteration is bracketed by
  `torch.cuda.Event(enable_timing=True)` (GPU time; one synchronize after the loop); on the CPU
  by `time.perf_counter` (wall-clock).
- forward: `model.eval()` under `torch.inference_mode()`. backward: `model.train()`, the time of
  `loss.backward()` alone (the forward before it is untimed). step: `model.train()`, one whole SGD
  step: `zero_grad`, forward, loss, backward, `optimizer.step()`. The loss is the sum of the
  outputs' means, so its own cost is negligible.
- Achieved FLOP/s = cnncalc's analytic FLOPs / median time: forward `totals.flops`, backward
  `totals.backward_flops`, step their sum (the optimizer's update is not counted).
- Peak: a datasheet figure for the GPUs in `roofline.GPUS` (dense, without sparsity); otherwise measured
  here: the best of a few large matmuls for FLOP/s, a large copy for bandwidth (read + write).
- Per layer: the time inside the layer's `cnncalc:NAME` profiler range, mean per forward (CPU:
  its wall time; CUDA: the summed duration of the kernels it launched). Bytes moved is the
  ideal traffic: parameters + inputs + output, each once. Intensity = FLOPs / bytes moved; the
  roofline bound is min(peak, intensity x bandwidth); a layer is compute-bound when its
  intensity reaches the ridge point peak / bandwidth. % of roofline = roofline time / time.

This module imports torch (lazily, in each function that runs it); the analytic path never does.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from cnncalc.analysis import analyze
from cnncalc.analysis.report import Report
from cnncalc.dtypes import DTYPE_BYTES
from cnncalc.errors import UsageError
from cnncalc.graph import LayerGraph
from cnncalc.torch_backend.device import require_torch
from cnncalc.torch_backend.device import resolve_device as _resolve_device
from cnncalc.torch_backend.roofline import Peak, Roofline, datasheet_peak, roofline

PROFILE_DTYPES = ("float32", "float16", "bfloat16")
LEARNING_RATE = 1e-4
LAYER_ITERATIONS = 3


# --- pure values and rules -------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """Milliseconds of each timed iteration."""

    samples_ms: tuple[float, ...]

    @property
    def median_ms(self) -> float:
        return percentile(self.samples_ms, 50)

    @property
    def min_ms(self) -> float:
        return min(self.samples_ms)

    @property
    def max_ms(self) -> float:
        return max(self.samples_ms)

    @property
    def iqr_ms(self) -> float:
        return percentile(self.samples_ms, 75) - percentile(self.samples_ms, 25)


@dataclass(frozen=True)
class Phase:
    """One timed phase (forward, backward or step) at one batch size."""

    name: str
    mode: str
    batch: int
    flops: int  # analytic
    timing: Timing
    peak_flops_per_s: float

    @property
    def samples_per_s(self) -> float:
        return self.batch / (self.timing.median_ms / 1e3)

    @property
    def achieved_flops_per_s(self) -> float:
        return self.flops / (self.timing.median_ms / 1e3)

    @property
    def percent_of_peak(self) -> float:
        return 100 * self.achieved_flops_per_s / self.peak_flops_per_s


@dataclass(frozen=True)
class LayerTime:
    name: str
    kind: str
    time_ms: float  # mean per forward
    flops: int
    bytes_moved: int
    roofline: Roofline

    @property
    def percent_of_roofline(self) -> float | None:
        return 100 * self.roofline.roofline_ms / self.time_ms if self.time_ms > 0 else None


@dataclass(frozen=True)
class LayerProfile:
    batch: int
    iterations: int
    clock: str  # what time_ms measures
    forward_ms: float  # wall time of one profiled forward (profiler overhead included)
    rows: tuple[LayerTime, ...]


@dataclass
class Profile:
    model: str
    device: str
    device_name: str
    dtype: str
    warmup: int
    repeat: int
    peak: Peak
    batches: list[tuple[Phase, ...]] = field(default_factory=list)
    layers: LayerProfile | None = None
    notes: list[str] = field(default_factory=list)


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile, interpolating linearly between ranks (numpy's default).

    >>> percentile([1.0, 2.0, 3.0, 4.0], 50)
    2.5
    """
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def layer_bytes(report: Report) -> dict[str, int]:
    """Ideal bytes each layer moves: its parameters, every input it reads, and its output."""
    size = DTYPE_BYTES[report.dtype]
    produced = {name: math.prod(shape) * size for name, shape in report.inputs.items()}
    produced.update((row.name, row.activation_bytes) for row in report.rows)
    return {
        row.name: row.param_bytes + sum(produced[n] for n in row.inputs) + row.activation_bytes
        for row in report.rows
    }


# --- device peaks ----------------------------------------------------------------------------


@functools.cache
def measured_peak(device: str, dtype: str) -> Peak:
    """Best FLOP/s of a few n x n matmuls in `dtype`, and bytes/s of a large copy (read + write)."""
    torch = _torch()
    kind = getattr(torch, dtype)
    n, copy_bytes = (8192, 1 << 30) if device == "cuda" else (1024, 64 << 20)
    tf32 = device == "cuda" and dtype == "float32" and torch.backends.cudnn.allow_tf32
    saved = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32  # the units float32 convolutions use
    try:
        a, b = (torch.randn(n, n, device=device, dtype=kind) for _ in range(2))
        matmul = time_iterations(torch, device, lambda: torch.mm(a, b), warmup=2, repeat=5)
    finally:
        torch.backends.cuda.matmul.allow_tf32 = saved
    source = torch.empty(copy_bytes // DTYPE_BYTES[dtype], device=device, dtype=kind)
    target = torch.empty_like(source)
    copy = time_iterations(torch, device, lambda: target.copy_(source), warmup=2, repeat=5)
    unit = "TF32 matmul" if tf32 else f"{dtype} matmul"
    reference = (f"measured here, not a datasheet figure: best of 5 {n}x{n} {dtype} matmuls "
                 f"and of 5 copies of {copy_bytes >> 20} MiB")
    return Peak(2 * n**3 / (matmul.min_ms / 1e3), 2 * copy_bytes / (copy.min_ms / 1e3),
                "measured", unit, reference)


# --- torch -----------------------------------------------------------------------------------


def _torch() -> Any:
    return require_torch("profile")


def resolve_device(device: str) -> str:
    return _resolve_device(device, "profile")


def time_iterations(torch: Any, device: str, run: Callable[[], object], *, warmup: int,
                    repeat: int, before: Callable[[], object] | None = None) -> Timing:
    """Time `run` `repeat` times after `warmup` untimed calls; `before` runs untimed ahead of each."""
    for _ in range(warmup):
        if before:
            before()
        run()
    if device == "cuda":
        torch.cuda.synchronize()
        events = []
        for _ in range(repeat):
            if before:
                before()
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            run()
            end.record()
            events.append((start, end))
        torch.cuda.synchronize()
        return Timing(tuple(float(start.elapsed_time(end)) for start, end in events))
    samples = []
    for _ in range(repeat):
        if before:
            before()
        begin = time.perf_counter()
        run()
        samples.append((time.perf_counter() - begin) * 1e3)
    return Timing(tuple(samples))


def _loss(outputs: Any) -> Any:
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    return sum(o.float().mean() for o in outputs if o.is_floating_point())


def _train_timings(torch: Any, model: Any, inputs: tuple[Any, ...], device: str,
                   warmup: int, repeat: int) -> tuple[Timing, Timing]:
    """(backward, step) timings in train mode, with plain SGD."""
    model.train()
    pending: list[Any] = []

    def forward() -> None:
        model.zero_grad(set_to_none=True)
        pending.append(_loss(model(*inputs)))

    backward = time_iterations(torch, device, lambda: pending.pop().backward(),
                               warmup=warmup, repeat=repeat, before=forward)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=LEARNING_RATE)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        _loss(model(*inputs)).backward()
        optimizer.step()

    return backward, time_iterations(torch, device, step, warmup=warmup, repeat=repeat)


def _profile_batch(torch: Any, model: Any, graph: LayerGraph, report: Report, device: str,
                   peak: Peak, train: bool, warmup: int, repeat: int) -> tuple[Phase, ...]:
    from cnncalc.torch_backend.build import example_inputs

    inputs = example_inputs(graph, device, getattr(torch, graph.dtype))
    model.eval()
    with torch.inference_mode():
        forward = time_iterations(torch, device, lambda: model(*inputs), warmup=warmup, repeat=repeat)
    flops, backward_flops = report.totals.flops, report.totals.backward_flops
    phases = [Phase("forward", "eval, inference_mode", graph.batch, flops, forward, peak.flops_per_s)]
    if train:
        backward, step = _train_timings(torch, model, inputs, device, warmup, repeat)
        phases += [
            Phase("backward", "train", graph.batch, backward_flops, backward, peak.flops_per_s),
            Phase("step", "train, SGD", graph.batch, flops + backward_flops, step, peak.flops_per_s),
        ]
    return tuple(phases)


def profile_layers(torch: Any, model: Any, graph: LayerGraph, report: Report, device: str,
                   peak: Peak, iterations: int = LAYER_ITERATIONS) -> LayerProfile:
    """Each layer's time from the torch profiler over `iterations` forwards, beside its roofline."""
    from torch.profiler import DeviceType, ProfilerActivity
    from torch.profiler import profile as torch_profile

    from cnncalc.torch_backend.build import example_inputs

    inputs = example_inputs(graph, device, getattr(torch, graph.dtype))
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device == "cuda" else [])
    model.eval()
    model.label = True
    try:
        with torch.inference_mode(), _quiet_stderr(), torch_profile(activities=activities) as prof:
            begin = time.perf_counter()
            for _ in range(iterations):
                model(*inputs)
            if device == "cuda":
                torch.cuda.synchronize()
            forward_ms = (time.perf_counter() - begin) * 1e3 / iterations
    finally:
        model.label = False
    total_us: dict[str, float] = {}
    for event in prof.events():
        if event.name.startswith("cnncalc:") and event.device_type == DeviceType.CPU:
            us = event.device_time_total if device == "cuda" else event.cpu_time_total
            total_us[event.name[8:]] = total_us.get(event.name[8:], 0.0) + us
    moved = layer_bytes(report)
    rows = tuple(
        LayerTime(row.name, row.kind, total_us.get(row.name, 0.0) / 1e3 / iterations, row.flops,
                  moved[row.name], roofline(row.flops, moved[row.name], peak))
        for row in report.rows
    )
    clock = "CUDA kernel time" if device == "cuda" else "CPU wall time"
    return LayerProfile(graph.batch, iterations, clock, forward_ms, rows)


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null: kineto prints "profiler_start/stop" lines there
    whatever its log level, and the command's stderr is for cnncalc's own messages."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def device_name(torch: Any, device: str) -> str:
    if device == "cuda":
        return str(torch.cuda.get_device_name())
    name = platform.processor() or platform.machine() or "CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            name = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    threads = torch.get_num_threads()
    return f"{name}, {threads} thread{'s' if threads > 1 else ''}"


def device_peak(torch: Any, device: str, name: str, dtype: str) -> Peak:
    if device == "cuda":
        sheet = datasheet_peak(name, dtype, tf32=bool(torch.backends.cudnn.allow_tf32))
        if sheet is not None:
            return sheet
    return measured_peak(device, dtype)


def profile(graphs: Sequence[LayerGraph], device: str = "auto", *, train: bool = False,
            warmup: int = 3, repeat: int = 10, layers: bool = True) -> Profile:
    """Time the model of `graphs` (one graph per batch size, same spec and dtype) on `device`.

    The per-layer profile, when asked for, runs at the largest batch.
    """
    torch = _torch()
    requested = device
    device = resolve_device(device)
    dtype = graphs[0].dtype
    if dtype not in PROFILE_DTYPES:
        raise UsageError(f"--dtype {dtype}: profile runs {', '.join(PROFILE_DTYPES)}")
    if device == "cpu" and dtype == "float16":
        raise UsageError(
            "--dtype float16 on the CPU: torch emulates float16 convolutions and matmuls there "
            "(about 100x slower than float32), so the timings would say nothing",
            hint="use --dtype bfloat16 or float32 on the CPU, or --device cuda",
        )
    from cnncalc.torch_backend.build import build

    name = device_name(torch, device)
    peak = device_peak(torch, device, name, dtype)
    result = Profile(graphs[0].name, device, name, dtype, warmup, repeat, peak,
                     notes=_notes(requested, device, train, layers, torch.get_num_threads()))
    model = build(graphs[0], device, getattr(torch, dtype))
    trainable = any(p.requires_grad for p in model.parameters())
    if train and not trainable:
        result.notes.append("the model has no trainable parameters: backward and step are not timed")
    reports = [analyze(graph, peaks=False) for graph in graphs]
    for graph, report in zip(graphs, reports):
        result.batches.append(_guard(torch, graph.batch, _profile_batch, torch, model, graph, report,
                                     device, peak, train and trainable, warmup, repeat))
    if layers:
        k = max(range(len(graphs)), key=lambda k: graphs[k].batch)
        result.layers = _guard(torch, graphs[k].batch, profile_layers, torch, model, graphs[k],
                               reports[k], device, peak)
    return result


def _guard(torch: Any, batch: int, run: Callable[..., Any], *args: Any) -> Any:
    """`run(*args)`, turning the errors a batch size causes (out of memory, batch norm over one
    value) into usage errors."""
    try:
        return run(*args)
    except torch.cuda.OutOfMemoryError:
        raise UsageError(f"batch {batch} does not fit in GPU memory", hint="use a smaller --batch") from None
    except ValueError as error:
        if "more than 1 value per channel" not in str(error):
            raise
        raise UsageError(f"batch {batch}: batch norm in train mode needs more than one value per channel",
                         hint="use --batch 2 or more with --train") from None


def _notes(requested: str, device: str, train: bool, layers: bool, threads: int) -> list[str]:
    notes = []
    if device == "cpu":
        if requested == "auto":
            notes.append("no CUDA device: profiled on the CPU")
        notes.append("CPU timings are wall-clock (time.perf_counter) on a possibly shared machine: "
                     "expect noise")
        busy = _busy_cpus(threads)
        if busy:
            notes.append(busy)
    else:
        notes.append("CUDA timings are GPU time between torch.cuda.Event pairs around each iteration")
    notes.append("forward: model.eval() under torch.inference_mode()")
    if train:
        notes.append("backward: model.train(), loss.backward() alone; step: model.train(), zero_grad + "
                     f"forward + loss + backward + SGD step (lr {LEARNING_RATE}, no momentum); "
                     "loss = sum of the outputs' means")
    notes.append("achieved TFLOP/s = cnncalc's analytic FLOPs / median time (forward: totals.flops; "
                 "backward: totals.backward_flops; step: their sum, the optimizer update not counted)")
    if layers:
        notes.append("layer time: the layer's profiler range, mean per forward (profiler overhead "
                     "included); bytes moved = params + inputs + output, each once; bound: compute "
                     "when FLOP/B >= peak/bandwidth; % roofline = max(FLOPs/peak, bytes/bandwidth) / time")
    return notes


def _busy_cpus(threads: int) -> str | None:
    """A warning when torch runs several threads while other processes already keep every CPU
    busy (load average > CPU count)."""
    if threads == 1:
        return None
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return None
    cpus = os.cpu_count() or 1
    if load <= cpus:
        return None
    return (f"load average {load:.1f} on {cpus} CPUs: other processes compete for the cores, so torch's "
            "threads wait on each other and the times are inflated (try OMP_NUM_THREADS=1)")
