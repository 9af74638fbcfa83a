"""Shapes and FLOPs measured on the meta device, per layer, forward and backward.

FLOPs use torch's FlopCounterMode formulas (convolutions, matmuls; 2 per multiply-add), with one
correction: FlopCounterMode counts the grad-weight of a grouped convolution `groups` times over
(its formula correlates every input channel with every output channel), and here it is counted
once. Backward operators are attributed to the layer whose forward created the autograd node
being run; FlopCounterMode's own module tracker attributes backward work across residual joins
to the wrong layers.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode, conv_backward_flop

from cnncalc.graph import LayerGraph
from cnncalc.torch_backend.build import build, example_inputs


def meta_pass(graph: LayerGraph, notes: list[str]) -> tuple[
        dict[str, tuple[int, ...]], dict[int | None, int], dict[int | None, int] | None]:
    """On the meta device: every node's shape, and the forward and backward FLOPs per module
    (None for backward when nothing trains). FLOPs use FlopCounterMode's operator formulas;
    backward operators are attributed to the layer whose forward created their autograd node
    (FlopCounterMode's own module tracker attributes backward work across residual joins to
    the wrong layers)."""
    correction = GroupedConvBackward()
    registry = FlopCounterMode(display=False, custom_mapping={
        torch.ops.aten.convolution_backward: correction,
    }).flop_registry
    model = build(graph, device="meta").eval()
    model.record = True
    counter = _LayerFlops(registry)
    hooks = [hook for index, module in enumerate(model.layers) for hook in (
        module.register_forward_pre_hook(functools.partial(counter.enter, index)),
        module.register_forward_hook(functools.partial(counter.leave, index)),
    )]
    with counter:
        outputs = model(*example_inputs(graph, device="meta"))
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        trained = [o for o in outputs if o.requires_grad]
        refused = None
        if trained:
            try:
                sum(o.float().sum() for o in trained).backward()
            except RuntimeError as error:  # e.g. an in-place layer overwrote a saved tensor
                refused = str(error).split(". Hint")[0]
    for hook in hooks:
        hook.remove()
    shapes = {name: tuple(t.shape) for name, t in model.outputs.items()}
    if not trained:
        notes.append("backward FLOPs not checked: no layer trains")
        return shapes, dict(counter.forward), None
    if refused is not None:
        notes.append(f"backward FLOPs not checked: torch's backward pass fails on this model ({refused})")
        return shapes, dict(counter.forward), None
    if correction.excess:
        notes.append(
            f"FlopCounterMode counts the grad-weight of a grouped convolution `groups` times over; "
            f"corrected at {correction.layers} grouped convolution calls ({correction.excess:,} FLOPs; "
            f"its uncorrected backward total: {sum(counter.backward.values()) + correction.excess:,})"
        )
    return shapes, dict(counter.forward), dict(counter.backward)


class _LayerFlops(TorchDispatchMode):  # type: ignore[no-untyped-call]
    """Counts FLOPs per layer with FlopCounterMode's formulas: forward operators by the layer
    running, backward ones by the layer that created the autograd node being run."""

    def __init__(self, registry: dict[Any, Any]):
        super().__init__()  # type: ignore[no-untyped-call]
        self.registry = registry
        self.layer: int | None = None
        self.owner: dict[Any, int] = {}
        self.forward: dict[int | None, int] = defaultdict(int)
        self.backward: dict[int | None, int] = defaultdict(int)

    def enter(self, index: int, module: Any, args: Any) -> None:
        self.layer = index

    def leave(self, index: int, module: Any, args: Any, output: Any) -> None:
        """Claim the autograd nodes this call created: those between its output and inputs."""
        stop = {a.grad_fn for a in args if isinstance(a, torch.Tensor) and a.grad_fn is not None}
        outputs = output if isinstance(output, tuple) else (output,)
        stack = [o.grad_fn for o in outputs if isinstance(o, torch.Tensor)]
        while stack:
            fn = stack.pop()
            if fn is None or fn in stop or fn in self.owner:
                continue
            self.owner[fn] = index
            stack.extend(following for following, _ in fn.next_functions)
        self.layer = None

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        formula = self.registry.get(func._overloadpacket)
        if formula is not None:
            flops = int(formula(*args, **kwargs, out_val=out))
            node = torch._C._current_autograd_node()
            if node is None:
                self.forward[self.layer] += flops
            else:
                self.backward[self.owner.get(node)] += flops
        return out


class GroupedConvBackward:
    """torch's convolution_backward FLOP formula with grad-weight divided by the groups."""

    def __init__(self) -> None:
        self.excess = 0
        self.layers = 0

    def __call__(self, grad_out_shape: Any, x_shape: Any, w_shape: Any, bias: Any, stride: Any,
                 padding: Any, dilation: Any, transposed: Any, output_padding: Any, groups: int,
                 output_mask: Any, out_shape: Any = None, **kwargs: Any) -> int:
        formula = getattr(conv_backward_flop, "__wrapped__", conv_backward_flop)  # on shapes

        def part(mask: list[bool]) -> int:
            return int(formula(grad_out_shape, x_shape, w_shape, bias, stride, padding,
                                          dilation, transposed, output_padding, groups, mask,
                                          out_shape, **kwargs))

        grad_input = part([output_mask[0], False])
        grad_weight = part([False, output_mask[1]])
        if groups > 1 and grad_weight:
            self.excess += grad_weight - grad_weight // groups
            self.layers += 1
        return grad_input + grad_weight // groups
