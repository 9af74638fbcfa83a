"""Independent references: torch-built layers measured by torch itself and by fvcore.

`assert_layer_matches_torch` is the one comparison helper for single layers: it always asserts.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cnncalc.layers import lookup
from cnncalc.torch_backend.verify import FVCORE_MAC_OPS  # the fvcore ops that are MACs, one list


@dataclass(frozen=True)
class Analytic:
    shape: tuple[int, ...]
    params: int
    buffers: int
    macs: int


@dataclass(frozen=True)
class Measured:
    shape: tuple[int, ...]
    params: int
    buffers: int
    macs: int | None


def analytic_layer(kind_name: str, attrs: Mapping[str, Any], in_shapes: Sequence[tuple[int, ...]]) -> Analytic:
    kind = lookup(kind_name)
    a = kind.make_attrs(attrs)
    ins = [tuple(s) for s in in_shapes]
    out = kind.shape(a, ins)
    counts = kind.params(a, ins, out)
    return Analytic(out, counts.params, counts.buffers, kind.macs(a, ins, out))


def fvcore_macs(module: Any, inputs: tuple[Any, ...]) -> int:
    from fvcore.nn import FlopCountAnalysis

    logging.getLogger("fvcore").setLevel(logging.ERROR)
    analysis = FlopCountAnalysis(module, inputs)
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    return sum(v for op, v in analysis.by_operator().items() if op in FVCORE_MAC_OPS)


def measure_layer(
    kind_name: str, attrs: Mapping[str, Any], in_shapes: Sequence[tuple[int, ...]], *, with_fvcore: bool = True
) -> Measured:
    import torch

    kind = lookup(kind_name)
    a = kind.make_attrs(attrs)
    ins = [tuple(s) for s in in_shapes]
    out = kind.shape(a, ins)
    module = kind.torch_module(a, ins, out).eval()
    torch.manual_seed(0)
    inputs = tuple(torch.randn(*s) for s in ins)
    with torch.no_grad():
        result = module(*inputs)
    params = sum(p.numel() for p in module.parameters())
    buffers = sum(b.numel() for b in module.buffers() if b.is_floating_point())
    macs = fvcore_macs(module, inputs) if with_fvcore else None
    return Measured(tuple(result.shape), params, buffers, macs)


def assert_layer_matches_torch(
    kind_name: str, attrs: Mapping[str, Any], in_shapes: Sequence[tuple[int, ...]], *, with_fvcore: bool = True
) -> None:
    ours = analytic_layer(kind_name, attrs, in_shapes)
    theirs = measure_layer(kind_name, attrs, in_shapes, with_fvcore=with_fvcore)
    where = f"{kind_name} {dict(attrs)} on {list(in_shapes)}"
    assert ours.shape == theirs.shape, f"shape {ours.shape} != torch {theirs.shape}: {where}"
    assert ours.params == theirs.params, f"params {ours.params} != torch {theirs.params}: {where}"
    assert ours.buffers == theirs.buffers, f"buffers {ours.buffers} != torch {theirs.buffers}: {where}"
    if theirs.macs is not None:
        assert ours.macs == theirs.macs, f"MACs {ours.macs} != fvcore {theirs.macs}: {where}"


def case_id(case: tuple[Any, ...]) -> str:
    return f"{case[0]}-{case[1]}-{case[2]}"


def assert_layer_contract(kind_name: str, attrs: Mapping[str, Any], in_shapes: Sequence[tuple[int, ...]]) -> Any:
    """What every kind promises: FLOPs in known, non-negative categories, a documented rule, and
    one receptive-field window per output spatial axis (or none). Returns (attrs, out, flops, windows)."""
    from cnncalc.layers.base import FLOP_CATEGORIES

    kind = lookup(kind_name)
    a = kind.make_attrs(attrs)
    ins = [tuple(s) for s in in_shapes]
    out = kind.shape(a, ins)
    flops = kind.flops(a, ins, out)
    assert set(flops) <= set(FLOP_CATEGORIES) and min(flops.values(), default=0) >= 0
    assert "flops" in kind.formulas or "output shape" in kind.formulas
    windows = kind.window(a, ins, out)
    assert windows is None or len(windows) == len(out) - 2
    return a, out, flops, windows
