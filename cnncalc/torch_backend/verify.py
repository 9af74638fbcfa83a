"""`cnncalc verify`: the analytic numbers against the model built in torch, layer by layer.

Checks, each with its tolerance:
- shape: every node's output shape, by a forward pass on the meta device (no memory spent);
- params, buffers: per layer from the module (a shared module counted once, at its owner);
- macs: conv/linear/matmul multiply-accumulates per layer against fvcore's FlopCountAnalysis on
  real tensors (fvcore cannot trace meta tensors);
- flops, backward_flops: forward and backward FLOPs of the same operators per layer against
  torch's FlopCounterMode (meta device). FlopCounterMode counts the grad-weight of a grouped
  convolution `groups` times over (it correlates every input channel with every output
  channel); verify counts that term once per group and says how much it corrected;
- rf: receptive fields by a gradient probe (cnncalc.torch_backend.probe).
What is not cross-checked is listed with the result.

This module imports torch and fvcore; the analytic path never imports it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from cnncalc.analysis import analyze
from cnncalc.analysis.report import Row
from cnncalc.graph import LayerGraph
from cnncalc.torch_backend.device import require_fvcore, require_torch, resolve_device

#: fvcore operator names that are multiply-accumulates in cnncalc's MACs convention
FVCORE_MAC_OPS = frozenset({"conv", "linear", "matmul", "addmm", "bmm", "einsum", "baddbmm", "mm"})

#: what each quantity is measured with
AGAINST = {
    "shape": "torch forward (meta device)",
    "params": "torch module parameters",
    "buffers": "torch module buffers",
    "macs": "fvcore FlopCountAnalysis",
    "flops": "torch FlopCounterMode formulas, forward",
    "backward_flops": "FlopCounterMode formulas, grad input+weight",
    "rf": "input-gradient support (probe)",
    "memory": "allocator peak (CPU: profiler events; CUDA: caching allocator)",
}
#: the memory model counts tensors; the allocator also sees kernel workspaces, which on tiny
#: models (a few MiB) are most of the difference: 10%, or 1 MiB, whichever is larger
MEMORY_TOLERANCE = 0.10
MEMORY_SLACK = 2**20
TOLERANCE = {
    "rf": "exact (± phase error after upsampling)",
    "memory": f"±{MEMORY_TOLERANCE:.0%} or ±1 MiB",
}

NOT_CHECKED = (
    "FLOPs of normalization, activations, pooling, merges and bias adds (forward and backward): "
    "neither fvcore nor FlopCounterMode counts them",
    "memory on CUDA: cuDNN's workspaces (they depend on the algorithm it picks) are not in the model",
)


@dataclass(frozen=True)
class Check:
    quantity: str  # a key of AGAINST
    layer: str  # a node name, or "total"
    expected: Any  # cnncalc's analytic value
    measured: Any  # torch / fvcore
    ok: bool

    @property
    def tolerance(self) -> str:
        return tolerance(self.quantity)


def tolerance(quantity: str) -> str:
    return TOLERANCE.get(quantity, "exact")


def exact(quantity: str, layer: str, expected: Any, measured: Any) -> Check:
    return Check(quantity, layer, expected, measured, bool(expected == measured))


@dataclass
class Verification:
    model: str
    device: str
    batch: int
    checks: list[Check] = field(default_factory=list)
    fvcore_skipped: dict[str, int] = field(default_factory=dict)
    not_checked: list[str] = field(default_factory=lambda: list(NOT_CHECKED))
    notes: list[str] = field(default_factory=list)

    @property
    def mismatches(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def counts(self) -> dict[str, tuple[int, int]]:
        """Per quantity: (checks that agree, checks)."""
        out: dict[str, tuple[int, int]] = {}
        for check in self.checks:
            good, total = out.get(check.quantity, (0, 0))
            out[check.quantity] = (good + check.ok, total + 1)
        return out




def verify(graph: LayerGraph, device: str = "auto", probes: int = 8, memory: bool = True) -> Verification:
    """Run every check; `probes` bounds how many layers the receptive-field probe measures;
    `memory` measures the inference and training-step peaks (a forward and an SGD step under
    the profiler on CPU: seconds for large models)."""
    require_torch("verify")
    require_fvcore("verify")
    device = resolve_device(device, "verify")
    report = analyze(graph, peaks=False)
    result = Verification(graph.name, device, graph.batch)
    from cnncalc.torch_backend.build import build

    model = build(graph, device=device).eval()
    groups = _module_groups(model, report.rows)
    from cnncalc.torch_backend.flops import meta_pass

    shapes, forward, backward = meta_pass(graph, result.notes)
    macs = _fvcore_macs(model, graph, device, result)
    owned = _owned_counts(model)

    for row in report.rows:
        result.checks.append(exact("shape", row.name, tuple(row.output_shape), shapes[row.name]))
    for index, rows in groups.items():
        label = rows[0].name if len(rows) == 1 else f"{rows[0].name} (+{len(rows) - 1} shared calls)"
        params, buffers = owned[index]
        result.checks += [
            exact("params", label, sum(r.params for r in rows), params),
            exact("buffers", label, sum(r.buffers for r in rows), buffers),
            exact("macs", label, sum(r.macs for r in rows), macs.get(index, 0)),
            exact("flops", label, sum(2 * r.macs for r in rows), forward.get(index, 0)),
        ]
        if backward is not None:
            expected = sum(r.backward_flops - r.backward_by_part.get("grad_bias", 0) for r in rows)
            result.checks.append(exact("backward_flops", label, expected, backward.get(index, 0)))
    totals = report.totals
    result.checks += [
        exact("params", "total", totals.params, sum(p.numel() for p in model.parameters())),
        exact("buffers", "total", totals.buffers,
              sum(b.numel() for b in model.buffers() if b.is_floating_point())),
        exact("macs", "total", totals.macs, sum(macs.values())),
        exact("flops", "total", 2 * totals.macs, sum(forward.values())),
    ]
    if backward is not None:
        result.checks.append(exact(
            "backward_flops", "total",
            totals.backward_flops - totals.backward_by_part.get("grad_bias", 0), sum(backward.values()),
        ))
    del model
    _probe_fields(graph, device, probes, result)
    if memory:
        _memory_peaks(graph, device, result)
    return result


def _memory_peaks(graph: LayerGraph, device: str, result: Verification) -> None:
    """The analytic peaks (the device's kernels, plain SGD) against the allocator's."""
    from cnncalc.analysis.memory import Options, analyze_memory
    from cnncalc.torch_backend.memory import measure_inference, measure_training

    ours = analyze_memory(graph, Options(device="cuda" if device.startswith("cuda") else "cpu"))
    for label, expected, measured in (
        ("inference peak", ours.inference.bytes, measure_inference(graph, device).peak),
        ("training-step peak", ours.training.bytes, measure_training(graph, device).peak),
    ):
        ok = abs(expected - measured) <= max(MEMORY_TOLERANCE * measured, MEMORY_SLACK)
        result.checks.append(Check("memory", label, expected, measured, ok))


def _module_groups(model: Any, rows: list[Row]) -> dict[int, list[Row]]:
    """Rows by the module that runs them (several when layers share weights)."""
    groups: dict[int, list[Row]] = {}
    for row in rows:
        groups.setdefault(model.index[row.name], []).append(row)
    return groups


def _owned_counts(model: Any) -> dict[int, tuple[int, int]]:
    return {
        index: (sum(p.numel() for p in module.parameters()),
                sum(b.numel() for b in module.buffers() if b.is_floating_point()))
        for index, module in enumerate(model.layers)
    }


def _fvcore_macs(model: Any, graph: LayerGraph, device: str, result: Verification) -> dict[int, int]:
    import torch
    from fvcore.nn import FlopCountAnalysis

    from cnncalc.torch_backend.build import example_inputs

    logging.getLogger("fvcore").setLevel(logging.ERROR)
    with torch.no_grad():
        analysis = FlopCountAnalysis(model, example_inputs(graph, device=device))
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        by_module = analysis.by_module_and_operator()
        result.fvcore_skipped = dict(sorted(analysis.unsupported_ops().items()))
    return {
        index: sum(v for op, v in by_module.get(f"layers.{index}", {}).items() if op in FVCORE_MAC_OPS)
        for index in range(len(model.layers))
    }


def _probe_fields(graph: LayerGraph, device: str, limit: int, result: Verification) -> None:
    from cnncalc.analysis.receptive_field import receptive_fields
    from cnncalc.analysis.shapes import infer_shapes
    from cnncalc.torch_backend.probe import probe, probeable, spread

    shapes = infer_shapes(graph)
    fields = receptive_fields(graph, shapes)
    if limit <= 0:
        result.not_checked.append("receptive fields: the probe was turned off (--probes 0)")
        return
    candidates = probeable(graph, fields)
    if not candidates:
        result.not_checked.append(
            "receptive fields: no layer to probe (several inputs, no spatial field, or only "
            "layers after data-dependent ones: unpooling, RoI pooling, deformable convolution)")
        return
    probes = probe(graph, shapes, fields, spread(candidates, limit), device)
    if len(probes) < len(candidates):
        result.notes.append(f"receptive fields probed at {len(probes)} of {len(candidates)} layers "
                            f"(spread along the graph; --probes N for more)")
    for p in probes:
        expected = tuple((_plain(lo), _plain(hi)) for lo, hi in p.expected)
        result.checks.append(Check("rf", p.layer, expected, p.measured, p.ok))


def _plain(value: Any) -> Any:
    if value is None:
        return None
    return int(value) if value.denominator == 1 else float(value)
