"""`cnncalc profile SPEC`: timed forward/backward/training steps and per-layer rooflines in torch."""

from __future__ import annotations

import json
import math
from enum import Enum
from typing import Any, Optional

import typer

from cnncalc.cli.summary import NOTATION_HELP, SPEC_HELP, load
from cnncalc.cli.verify import Device
from cnncalc.errors import UsageError


class ProfileDtype(str, Enum):
    float32 = "float32"
    float16 = "float16"
    bfloat16 = "bfloat16"


class ProfileFormat(str, Enum):
    table = "table"
    json = "json"


def register(app: typer.Typer) -> None:
    @app.command()
    def profile(
        spec: Optional[str] = typer.Argument(None, help=SPEC_HELP),
        notation: Optional[str] = typer.Option(None, "--notation", help=NOTATION_HELP),
        device: Device = typer.Option(Device.auto, "--device", help="Where to run (auto: CUDA when present)."),
        batch: Optional[list[str]] = typer.Option(
            None, "--batch", "-b", help="Batch size; repeat or comma-separate for several (default: the spec's)."),
        dtype: Optional[ProfileDtype] = typer.Option(
            None, "--dtype", help="Element type (default: the spec's; float16 needs a GPU)."),
        train: bool = typer.Option(False, "--train", help="Also time backward and a full SGD training step."),
        warmup: int = typer.Option(3, "--warmup", min=0, help="Untimed iterations first."),
        repeat: int = typer.Option(10, "--repeat", min=1, help="Timed iterations."),
        input: Optional[list[str]] = typer.Option(None, "--input", "-i", help="Input shape, e.g. 3x512x512."),
        sets: Optional[list[str]] = typer.Option(None, "--set", help="Override a spec var: NAME=VALUE."),
        layers: Optional[bool] = typer.Option(
            None, "--layers/--no-layers", help="Per-layer times and rooflines (default: on for one batch size)."),
        top: int = typer.Option(15, "--top", min=0, help="Layers shown in the table, slowest first (0: all)."),
        format: ProfileFormat = typer.Option(ProfileFormat.table, "--format", "-f"),
    ) -> None:
        """Time forward, backward and training steps (median and spread, samples/s, achieved
        TFLOP/s from the analytic FLOPs and % of the device's peak), and each layer's time beside
        its arithmetic intensity and roofline bound. Exit 5 when torch or the GPU is missing."""
        from cnncalc.torch_backend.profile import profile as run

        batches = parse_batches(batch)
        graphs, note = _graphs(spec, input, batches, dtype.value if dtype else None, sets, notation)
        result = run(graphs, device.value, train=train, warmup=warmup, repeat=repeat,
                     layers=len(batches) == 1 if layers is None else layers)
        if note:
            result.notes.insert(0, note)
        if format is ProfileFormat.json:
            print(json.dumps(_data(result), indent=2))
        else:
            _tables(result, top)


def parse_batches(values: list[str] | None) -> list[int | None]:
    """`-b 1 -b 8` or `-b 1,8` -> [1, 8] (first occurrence order); nothing -> [None]: the spec's."""
    batches: list[int | None] = []
    for value in values or []:
        for part in value.split(","):
            try:
                number = int(part)
            except ValueError:
                raise UsageError(f"--batch {value!r}: expected positive integers",
                                 hint="e.g. -b 8, -b 1,8 or -b 1 -b 8") from None
            if number < 1:
                raise UsageError(f"--batch {value!r}: batch sizes must be positive")
            if number not in batches:
                batches.append(number)
    return batches or [None]


def _graphs(spec: str | None, inputs: list[str] | None, batches: list[int | None], dtype: str | None,
            sets: list[str] | None, notation: str | None = None) -> tuple[list[Any], str | None]:
    """One graph per batch size; a spec whose own dtype torch cannot profile runs in float32."""
    from cnncalc.torch_backend.profile import PROFILE_DTYPES

    first = load(spec, inputs, batches[0], dtype, sets, notation)
    note = None
    if dtype is None and first.dtype not in PROFILE_DTYPES:
        note = f"the spec's dtype {first.dtype} is not profiled: float32 used (see --dtype)"
        dtype = "float32"
        first = load(spec, inputs, batches[0], dtype, sets, notation)
    return [first] + [load(spec, inputs, b, dtype, sets, notation) for b in batches[1:]], note


def _number(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _phase(phase: Any) -> dict[str, Any]:
    timing = phase.timing
    return {
        "mode": phase.mode,
        "flops": phase.flops,
        "median_ms": timing.median_ms, "min_ms": timing.min_ms, "max_ms": timing.max_ms,
        "iqr_ms": timing.iqr_ms, "samples_ms": list(timing.samples_ms),
        "samples_per_s": phase.samples_per_s,
        "achieved_tflops": phase.achieved_flops_per_s / 1e12,
        "percent_of_peak": phase.percent_of_peak,
    }


def _layer(row: Any) -> dict[str, Any]:
    return {
        "name": row.name, "kind": row.kind, "time_ms": row.time_ms, "flops": row.flops,
        "bytes_moved": row.bytes_moved, "intensity": _number(row.roofline.intensity),
        "bound": row.roofline.bound, "roofline_tflops": row.roofline.bound_flops_per_s / 1e12,
        "roofline_ms": row.roofline.roofline_ms, "percent_of_roofline": row.percent_of_roofline,
    }


def _data(result: Any) -> dict[str, Any]:
    peak = result.peak
    layers = result.layers
    return {
        "schema": "cnncalc.profile/1",
        "model": result.model, "device": result.device, "device_name": result.device_name,
        "dtype": result.dtype, "warmup": result.warmup, "repeat": result.repeat,
        "peak": {"tflops": peak.flops_per_s / 1e12, "bandwidth_gbs": peak.bytes_per_s / 1e9,
                 "ridge_flops_per_byte": peak.ridge, "unit": peak.unit, "source": peak.source,
                 "reference": peak.reference},
        "batches": [
            {"batch": phases[0].batch, **{p.name: _phase(p) for p in phases},
             **{name: None for name in ("backward", "step") if name not in {p.name for p in phases}}}
            for phases in result.batches
        ],
        "layers": None if layers is None else {
            "batch": layers.batch, "iterations": layers.iterations, "clock": layers.clock,
            "forward_ms": layers.forward_ms, "rows": [_layer(row) for row in layers.rows],
        },
        "notes": result.notes,
    }


def _ms(value: float) -> str:
    return f"{value:.1f}" if value >= 100 else f"{value:.2f}" if value >= 1 else f"{value:.3f}"


def _tables(result: Any, top: int) -> None:
    from cnncalc.cli.common import console

    out = console()
    out.print(_timing_table(result))
    peak = result.peak
    out.print(f"peak: {peak.flops_per_s / 1e12:.3g} TFLOP/s ({peak.unit}), "
              f"{peak.bytes_per_s / 1e9:.3g} GB/s, ridge {peak.ridge:.3g} FLOP/B: {peak.reference}")
    if result.layers is not None:
        out.print(_layer_table(result.layers, top))
        shown = len(result.layers.rows) if top == 0 else min(top, len(result.layers.rows))
        if shown < len(result.layers.rows):
            out.print(f"{shown} of {len(result.layers.rows)} layers, slowest first (--top 0 for all)")
    for note in result.notes:
        out.print(f"note: {note}")


def _timing_table(result: Any) -> Any:
    from rich.table import Table

    table = Table(title=f"profile {result.model}  ·  {result.device} ({result.device_name})  ·  {result.dtype}"
                        f"  ·  {result.repeat} timed after {result.warmup} warm-up", header_style="bold")
    for column in ("Batch", "Phase", "Mode", "Median ms", "IQR ms", "Min–max ms", "Samples/s",
                   "GFLOP", "TFLOP/s", "% peak"):
        table.add_column(column, justify="left" if column in ("Phase", "Mode") else "right")
    for phases in result.batches:
        for phase in phases:
            t = phase.timing
            table.add_row(str(phase.batch), phase.name, phase.mode, _ms(t.median_ms), _ms(t.iqr_ms),
                          f"{_ms(t.min_ms)}–{_ms(t.max_ms)}", f"{phase.samples_per_s:,.1f}",
                          f"{phase.flops / 1e9:,.3f}", f"{phase.achieved_flops_per_s / 1e12:.4f}",
                          f"{phase.percent_of_peak:.1f}")
    return table


def _layer_table(layers: Any, top: int) -> Any:
    from rich.table import Table

    rows = sorted(layers.rows, key=lambda r: r.time_ms, reverse=True)
    total_ms = sum(r.time_ms for r in layers.rows) or 1.0
    table = Table(title=f"layers at batch {layers.batch}  ·  {layers.clock} per forward, mean of "
                        f"{layers.iterations} (profiled forward {_ms(layers.forward_ms)} ms)",
                  header_style="bold")
    for column in ("Layer", "Kind", "ms", "% time", "MFLOP", "MB moved", "FLOP/B", "Bound",
                   "Roofline ms", "% roofline"):
        table.add_column(column, justify="left" if column in ("Layer", "Kind", "Bound") else "right")
    for row in rows[:top or None]:
        share = row.percent_of_roofline
        table.add_row(row.name, row.kind, _ms(row.time_ms), f"{100 * row.time_ms / total_ms:.1f}",
                      f"{row.flops / 1e6:,.2f}", f"{row.bytes_moved / 1e6:,.2f}",
                      f"{row.roofline.intensity:.2f}", row.roofline.bound, _ms(row.roofline.roofline_ms),
                      "-" if share is None else f"{share:.1f}")
    return table
