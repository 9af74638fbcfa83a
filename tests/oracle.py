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
    #: backward FLOPs (grad-input + grad-weight) with the inputs needing gradients, and without
    backward: int
    backward_first: int


@dataclass(frozen=True)
class Measured:
    shape: tuple[int, ...]
    params: int
    buffers: int
    macs: int | None
    backward: int | None = None
    backward_first: int | None = None


def analytic_layer(kind_name: str, attrs: Mapping[str, Any], in_shapes: Sequence[tuple[int, ...]]) -> Analytic:
    kind = lookup(kind_name)
    a = kind.make_attrs(attrs)
    ins = [tuple(s) for s in in_shapes]
    out = kind.shape(a, ins)
    counts = kind.params(a, ins, out)

    def backward(grads: bool) -> int:
        parts = kind.backward_flops(a, ins, out, [grads] * len(ins), counts.params > 0)
        return parts.get("grad_input", 0) + parts.get("grad_weight", 0)

    return Analytic(out, counts.params, counts.buffers, kind.macs(a, ins, out), backward(True), backward(False))


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
    if not with_fvcore:
        return Measured(tuple(result.shape), params, buffers, None)
    return Measured(tuple(result.shape), params, buffers, fvcore_macs(module, inputs),
                    backward_flops(module, ins, True), backward_flops(module, ins, False))


def backward_flops(module: Any, in_shapes: Sequence[tuple[int, ...]], grads: bool) -> int:
    """FlopCounterMode's count of one backward pass (grouped grad-weight corrected, see
    cnncalc.torch_backend.flops; test_verify checks that correction against split convolutions)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from cnncalc.torch_backend.flops import GroupedConvBackward

    torch.manual_seed(0)
    leaves = [torch.randn(*s).requires_grad_(grads) for s in in_shapes]
    result = module(*(leaf.clone() for leaf in leaves))  # a clone: in-place layers may write it
    if not result.requires_grad:
        return 0
    counter = FlopCounterMode(display=False, custom_mapping={
        torch.ops.aten.convolution_backward: GroupedConvBackward(),
    })
    with counter:
        result.float().sum().backward()
    return int(counter.get_total_flops())


def assert_layer_matches_torch(
    kind_name: str, attrs: Mapping[str, Any], in_shapes: Sequence[tuple[int, ...]], *, with_fvcore: bool = True
) -> None:
    ours = analytic_layer(kind_name, attrs, in_shapes)
    theirs = measure_layer(kind_name, attrs, in_shapes, with_fvcore=with_fvcore)
    where = f"{kind_name} {dict(attrs)} on {list(in_shapes)}"
    assert ours.shape == theirs.shape, f"shape {ours.shape} != torch {theirs.shape}: {where}"
    assert ours.params == theirs.params, f"params {ours.params} != torch {theirs.params}: {where}"
    assert ours.buffers == theirs.buffers, f"buffers {ours.buffers} != torch {theirs.buffers}: {where}"
    if not kind_name.startswith("max_unpool"):  # a stand-alone unpooling makes the indices its pool keeps
        assert_saved_matches_torch(kind_name, attrs, in_shapes)
    if theirs.macs is not None:
        assert ours.macs == theirs.macs, f"MACs {ours.macs} != fvcore {theirs.macs}: {where}"
        assert (ours.backward, ours.backward_first) == (theirs.backward, theirs.backward_first), (
            f"backward FLOPs {ours.backward}/{ours.backward_first} != FlopCounterMode "
            f"{theirs.backward}/{theirs.backward_first} (inputs needing grad / not): {where}")


def saved_analytic(kind_name: str, attrs: Mapping[str, Any], in_shapes: Sequence[tuple[int, ...]],
                   grads: bool) -> tuple[int, bool]:
    """(bytes the layer's backward keeps, whether its output is its input's storage), float32."""
    from cnncalc.analysis.memory import saved_bytes

    kind = lookup(kind_name)
    a = kind.make_attrs(attrs)
    ins = [tuple(s) for s in in_shapes]
    out = kind.shape(a, ins)
    weights = kind.params(a, ins, out).params > 0
    aliases = kind.aliases_input(a, ins, True)
    if not (grads or weights):
        return 0, aliases
    saved = kind.saved(a, ins, out, [grads] * len(ins), weights, "cpu")
    return saved_bytes(saved, ins, out, [4] * len(ins), 4, 4, aliases), aliases


def saved_measured(kind_name: str, attrs: Mapping[str, Any], in_shapes: Sequence[tuple[int, ...]],
                   grads: bool) -> tuple[int, bool]:
    """What torch's autograd packs for the layer's backward (saved_tensors_hooks), in training
    mode: the distinct storages that are not parameters or buffers, and whether the output is
    the input's storage."""
    import torch

    kind = lookup(kind_name)
    a = kind.make_attrs(attrs)
    ins = [tuple(s) for s in in_shapes]
    module = kind.torch_module(a, ins, kind.shape(a, ins)).train()
    torch.manual_seed(0)
    inputs = [torch.randn(*s, requires_grad=grads) for s in ins]
    inputs = [x.clone() if grads else x for x in inputs]  # in-place layers may write them
    owned = {t.untyped_storage().data_ptr() for t in (*module.parameters(), *module.buffers())}
    storages: dict[int, int] = {}

    def pack(t: Any) -> Any:
        storage = t.untyped_storage()
        if storage.data_ptr() not in owned:
            storages[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        result = module(*inputs)
    result = result[0] if isinstance(result, tuple) else result
    aliases = result.untyped_storage().data_ptr() == inputs[0].untyped_storage().data_ptr()
    return sum(storages.values()), aliases


def assert_saved_matches_torch(kind_name: str, attrs: Mapping[str, Any], in_shapes: Sequence[tuple[int, ...]]) -> None:
    """The bytes `LayerKind.saved` predicts equal what autograd keeps, with the inputs needing
    gradients and without; and the output shares the input's storage exactly when predicted."""
    where = f"{kind_name} {dict(attrs)} on {list(in_shapes)}"
    for grads in (True, False):
        ours, ours_alias = saved_analytic(kind_name, attrs, in_shapes, grads)
        theirs, their_alias = saved_measured(kind_name, attrs, in_shapes, grads)
        assert ours == theirs, f"saved for backward {ours} != torch {theirs} bytes (inputs need grad: {grads}): {where}"
        assert ours_alias == their_alias, f"output is the input's storage: {ours_alias} != torch {their_alias}: {where}"


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
