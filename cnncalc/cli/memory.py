"""`cnncalc memory SPEC`: inference peak, a training step's memory, and the largest batch that fits."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Any, Optional

import typer

from cnncalc.cli.common import emit
from cnncalc.cli.summary import NOTATION_HELP, SPEC_HELP, load
from cnncalc.errors import UsageError


class Optimizer(str, Enum):
    sgd = "sgd"
    momentum = "momentum"
    adam = "adam"
    adamw = "adamw"


class Amp(str, Enum):
    bf16 = "bf16"
    fp16 = "fp16"


class Kernels(str, Enum):
    cuda = "cuda"
    cpu = "cpu"


class Style(str, Enum):
    cnncalc = "cnncalc"
    torchsummary = "torchsummary"
    torchinfo = "torchinfo"


class MemoryFormat(str, Enum):
    table = "table"
    json = "json"


def parse_size(text: str) -> int:
    """'24GiB' -> 25769803776. KiB/MiB/GiB (and K/M/G) are powers of 2, kB/MB/GB powers of 10."""
    from cnncalc.report.units import parse_quantity

    try:
        size = parse_quantity(text, "bytes")
    except ValueError:
        raise UsageError(f"--fit {text!r}: expected a size like 24GiB, 80GB or 512MiB",
                         hint="GiB/MiB (and G/M) are powers of 2; GB/MB powers of 10") from None
    if size <= 0:
        raise UsageError(f"--fit {text!r}: the budget must be positive")
    return size


def register(app: typer.Typer) -> None:
    @app.command()
    def memory(
        spec: Optional[str] = typer.Argument(None, help=SPEC_HELP),
        notation: Optional[str] = typer.Option(None, "--notation", help=NOTATION_HELP),
        batch: Optional[int] = typer.Option(None, "--batch", "-b", min=1, help="Batch size."),
        input: Optional[list[str]] = typer.Option(None, "--input", "-i", help="Input shape, e.g. 3x512x512."),
        dtype: Optional[str] = typer.Option(None, "--dtype", help="float32, float16, bfloat16, ..."),
        sets: Optional[list[str]] = typer.Option(None, "--set", help="Override a spec var: NAME=VALUE."),
        optimizer: Optimizer = typer.Option(Optimizer.sgd, "--optimizer", help="Optimizer state kept between steps."),
        amp: Optional[Amp] = typer.Option(None, "--amp", help="Mixed precision (autocast) with float32 master weights."),
        train: bool = typer.Option(True, "--train/--infer", help="Size a training step (default) or inference only."),
        kernels: Kernels = typer.Option(Kernels.cuda, "--device", help="Whose torch kernels to model (dropout masks, Adam's update)."),
        fit: Optional[str] = typer.Option(None, "--fit", help="Also solve the largest batch whose peak fits this size, e.g. 24GiB."),
        style: Style = typer.Option(Style.cnncalc, "--style", help="Reproduce torchsummary's or torchinfo's estimate instead."),
        format: MemoryFormat = typer.Option(MemoryFormat.table, "--format", "-f"),
        output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write to a file instead of stdout."),
    ) -> None:
        """Memory of inference and of a training step: parameters, gradients, optimizer state,
        what autograd keeps for the backward, and the peaks by tensor liveness."""
        from cnncalc.analysis.memory import Options, analyze_memory, fit_batch

        graph = load(spec, input, batch, dtype, sets, notation)
        if style is not Style.cnncalc:
            emit(_compat(graph, style, format), output)
            return
        options = Options(optimizer=optimizer.value, amp=amp.value if amp else None, device=kernels.value)
        result = analyze_memory(graph, options)
        fitted = None
        if fit is not None:
            budget = parse_size(fit)
            fitted = (budget, *fit_batch(graph, budget, options, training=train))
        data = _data(graph.name, result, train, fitted)
        emit(json.dumps(data, indent=2) + "\n" if format is MemoryFormat.json else _table(data), output)


def _data(model: str, m: Any, train: bool, fitted: tuple[int, int, int, int] | None) -> dict[str, Any]:
    def peak(p: Any) -> dict[str, Any]:
        return {"bytes": p.bytes, "phase": p.phase, "layer": p.layer,
                "live": [{"tensor": name, "bytes": size} for name, size in p.live]}

    data: dict[str, Any] = {
        "schema": "cnncalc.memory/1",
        "model": model,
        "batch": m.batch,
        "dtype": m.dtype,
        "mode": "train" if train else "infer",
        "optimizer": m.options.optimizer,
        "amp": m.options.amp,
        "device_kernels": m.options.device,
        "totals": {
            "param_bytes": m.param_bytes,
            "buffer_bytes": m.buffer_bytes,
            "input_bytes": m.input_bytes,
            "grad_bytes": m.grad_bytes,
            "optimizer_bytes": m.optimizer_bytes,
            "saved_bytes": m.saved_bytes,
            "inference_peak_bytes": m.inference.bytes,
            "training_peak_bytes": m.training.bytes,
        },
        "inference_peak": peak(m.inference),
        "training_peak": peak(m.training),
        "layers": [
            {"name": layer.name, "output_bytes": layer.output_bytes, "saved_bytes": layer.saved_bytes,
             "grad_bytes": layer.grad_bytes, "inference_live_bytes": layer.inference_live,
             "forward_live_bytes": layer.forward_live, "backward_live_bytes": layer.backward_live}
            for layer in m.layers
        ],
    }
    if fitted is not None:
        budget, batch, fixed, per_sample = fitted
        data["fit"] = {"budget_bytes": budget, "batch": batch, "fixed_bytes": fixed,
                       "per_sample_bytes": per_sample}
    return data


def _table(data: dict[str, Any]) -> str:
    from cnncalc.report.units import binary

    t = data["totals"]
    train = data["mode"] == "train"
    amp = f" · amp {data['amp']}" if data["amp"] else ""
    lines = [f"{data['model']} · batch {data['batch']} · {data['dtype']}{amp} · "
             f"{data['optimizer']} · {data['device_kernels']} kernels", ""]
    rows = [("parameters", t["param_bytes"]), ("buffers", t["buffer_bytes"]), ("input", t["input_bytes"])]
    if train:
        rows += [("weight gradients", t["grad_bytes"]), (f"optimizer state ({data['optimizer']})", t["optimizer_bytes"]),
                 ("saved for backward", t["saved_bytes"])]
    width = max(len(name) for name, _ in rows) + 2
    lines += [f"  {name:<{width}}{binary(value):>12}" for name, value in rows]
    lines.append("")
    inference = data["inference_peak"]
    lines.append(f"  inference peak{'':<{width - 14}}{binary(inference['bytes']):>12}   while {inference['layer']} runs")
    if train:
        step = data["training_peak"]
        where = "the optimizer step" if step["phase"] == "optimizer" else f"the {step['phase']} of {step['layer']}"
        lines.append(f"  training peak{'':<{width - 13}}{binary(step['bytes']):>12}   in {where}")
    chosen = data["training_peak"] if train else inference
    if chosen["live"]:
        lines.append("  largest tensors live there: " + ", ".join(
            f"{_tensor(item['tensor'])} {binary(item['bytes'])}" for item in chosen["live"]))
    if "fit" in data:
        f = data["fit"]
        what = "training step" if train else "inference"
        lines += ["", f"  largest batch whose {what} peak fits {binary(f['budget_bytes'])}: {f['batch']:,}"
                      f"  (peak = {binary(f['fixed_bytes'])} + {binary(f['per_sample_bytes'])} x batch)"]
    lines += ["", "Peaks by tensor liveness along the execution order; saved-for-backward tensors as torch's "
                  "derivative formulas keep them. Allocator rounding and kernel workspaces are not included "
                  "(`cnncalc verify` measures them). KiB/MiB/GiB are powers of 2."]
    return "\n".join(lines) + "\n"


def _tensor(key: str) -> str:
    """Storage keys of the walk in words: 'layer', 'layer#k' (kept for backward), 'd:layer'."""
    if key.startswith("d:"):
        return f"grad of {key[2:].split('@')[0]}"
    if "#" in key:
        return f"{key.split('#')[0]} (kept for backward)"
    return key


def _compat(graph: Any, style: Style, format: MemoryFormat) -> str:
    """torchsummary's printout (its table and memory lines) or torchinfo's memory lines, as
    those tools print them for the torch model of the spec (cnncalc.analysis.compat)."""
    from cnncalc.analysis.compat import torchinfo_estimate, torchsummary_estimate

    estimate = torchsummary_estimate(graph) if style is Style.torchsummary else torchinfo_estimate(graph)
    if format is MemoryFormat.json:
        mb = estimate.mb()
        data = {
            "schema": "cnncalc.memory-compat/1", "model": graph.name, "style": estimate.style,
            "params": estimate.params, "trainable_params": estimate.trainable_params,
            "input_bytes": estimate.input_bytes, "forward_backward_bytes": estimate.forward_backward_bytes,
            "params_bytes": estimate.params_bytes, "total_bytes": estimate.total_bytes,
            "megabyte": estimate.megabyte, "mb": {k: round(v, 2) for k, v in mb.items()},
            "mult_adds": estimate.mult_adds,
        }
        return json.dumps(data, indent=2) + "\n"
    lines = estimate.table() if style is Style.torchsummary else estimate.lines()
    note = (f"({style.value}'s estimate, reproduced: not a measurement; `cnncalc memory` without "
            f"--style gives the liveness peaks)")
    return "\n".join([*lines, note]) + "\n"
