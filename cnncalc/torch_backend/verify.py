"""`cnncalc verify`: the analytic numbers against the model built in torch, layer by layer.

Stage 1 checks, each exact: every node's output shape (forward hooks on the meta device, so
no memory is spent), parameter and floating buffer counts per layer (a shared module counted
once, at its owner), and conv/linear/matmul MACs per layer against fvcore's FlopCountAnalysis
on real tensors (fvcore cannot trace meta tensors). What is not cross-checked is listed.

This module imports torch and fvcore; the analytic path never imports it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from cnncalc.analysis import analyze
from cnncalc.errors import BackendUnavailable
from cnncalc.graph import LayerGraph

#: fvcore operator names that are multiply-accumulates in cnncalc's MACs convention
FVCORE_MAC_OPS = frozenset({"conv", "linear", "matmul", "addmm", "bmm", "einsum", "baddbmm", "mm"})

NOT_CHECKED = (
    "FLOPs outside conv/linear/matmul (normalization, activations, pooling, merges): "
    "fvcore does not count them; FlopCounterMode comparison is not implemented yet",
    "backward FLOPs: not implemented yet",
    "receptive fields (gradient probe): not implemented yet",
    "memory peaks: wait for the memory model",
)


@dataclass(frozen=True)
class Check:
    quantity: str  # shape | params | buffers | macs
    layer: str  # a node name, or "total"
    expected: Any  # cnncalc's analytic value
    measured: Any  # torch / fvcore
    tolerance: str = "exact"

    @property
    def ok(self) -> bool:
        return bool(self.expected == self.measured)


@dataclass
class Verification:
    model: str
    device: str
    batch: int
    checks: list[Check] = field(default_factory=list)
    fvcore_skipped: dict[str, int] = field(default_factory=dict)
    not_checked: tuple[str, ...] = NOT_CHECKED

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


def _backend() -> tuple[Any, Any]:
    try:
        import torch
    except ImportError:
        raise BackendUnavailable(
            "verify needs torch, which is not installed",
            hint='install it with `pip install "cnncalc[torch]"`',
        ) from None
    try:
        from fvcore.nn import FlopCountAnalysis
    except ImportError:
        raise BackendUnavailable(
            "verify needs fvcore, which is not installed",
            hint='install it with `pip install "cnncalc[torch]"`',
        ) from None
    return torch, FlopCountAnalysis


def resolve_device(device: str) -> str:
    torch, _ = _backend()
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise BackendUnavailable("--device cuda: torch sees no CUDA device", hint="use --device cpu")
    return device


def verify(graph: LayerGraph, device: str = "auto") -> Verification:
    torch, FlopCountAnalysis = _backend()
    from cnncalc.torch_backend.build import build, example_inputs

    device = resolve_device(device)
    report = analyze(graph)
    result = Verification(graph.name, device, graph.batch)

    meta = build(graph, device="meta").eval()
    meta.record = True
    with torch.no_grad():
        meta(*example_inputs(graph, device="meta"))
    shapes = {name: tuple(t.shape) for name, t in meta.outputs.items()}
    del meta

    model = build(graph, device=device).eval()
    seen: set[int] = set()
    per_layer: dict[str, tuple[int, int]] = {}
    for name, index in model.index.items():
        module = model.layers[index]
        if id(module) in seen:
            per_layer[name] = (0, 0)
            continue
        seen.add(id(module))
        per_layer[name] = (
            sum(p.numel() for p in module.parameters()),
            sum(b.numel() for b in module.buffers() if b.is_floating_point()),
        )

    logging.getLogger("fvcore").setLevel(logging.ERROR)
    with torch.no_grad():
        analysis = FlopCountAnalysis(model, example_inputs(graph, device=device))
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        by_module = analysis.by_module_and_operator()
        result.fvcore_skipped = dict(sorted(analysis.unsupported_ops().items()))

    for row in report.rows:
        index = model.index[row.name]
        macs = sum(v for op, v in by_module.get(f"layers.{index}", {}).items() if op in FVCORE_MAC_OPS)
        params, buffers = per_layer[row.name]
        result.checks += [
            Check("shape", row.name, tuple(row.output_shape), shapes[row.name]),
            Check("params", row.name, row.params, params),
            Check("buffers", row.name, row.buffers, buffers),
            Check("macs", row.name, row.macs, macs),
        ]
    totals = report.totals
    result.checks += [
        Check("params", "total", totals.params, sum(p.numel() for p in model.parameters())),
        Check("buffers", "total", totals.buffers,
              sum(b.numel() for b in model.buffers() if b.is_floating_point())),
        Check("macs", "total", totals.macs,
              sum(v for op, v in analysis.by_operator().items() if op in FVCORE_MAC_OPS)),
    ]
    return result
