"""ptflops 0.7.5, default (pytorch) backend: the "MACs" of `get_model_complexity_info(model,
input_res, as_strings=False)`.

(The aten backend, `backend="aten"`, counts aten operators instead and is not reproduced.)

Two counters add up:

1. Forward hooks on modules whose exact class ptflops knows, summed per module (unknown modules
   add up their children) and divided by the batch the root model saw:
   - Conv1d/2d/3d: multiply-adds + one bias add per output element; ConvTranspose: the same
     on the input grid;
   - Linear: (in * out + out with bias) * positions;
   - BatchNorm, InstanceNorm, GroupNorm: 1 per input element, 2 with an `affine` attribute
     set; LayerNorm 1 per element (its flag is called `elementwise_affine`);
   - ReLU, PReLU, ELU, LeakyReLU, ReLU6, GELU: 1 per output element;
   - every max/average/adaptive pooling class: 1 per *input* element;
   - Upsample: the output elements of the *first sample* (the hook reads `output[0]`).
2. Patched `torch.nn.functional` and tensor functions, counted on every call anywhere in the
   forward and *not* divided by the batch: F.relu, F.prelu, F.elu, F.gelu, F.silu, F.softmax
   and the pooling functions (input elements), F.interpolate (output elements), torch.matmul /
   mm / bmm (prod(first) * m), Tensor.mul / add (elements). torch.nn's ReLU, PReLU, ELU, GELU,
   max/avg/adaptive pools and Upsample call those functions, so they are counted twice (module
   hook + function; flagged); SiLU and Softmax only once (no module rule); LPPool, LRN and
   LeNet's subsampling through the functions they call inside.

Sigmoid, hardswish, tanh, LRN's module, merges (written as `+` and `*`, which are not patched)
and cnncalc's custom modules count 0 except for the patched functions they call.

The batch: a single input is passed as the tensor `input_constructor` returns, so the batch
counter sees its batch; several inputs go in as keyword arguments, and then ptflops assumes a
batch of 1. With the usual call (`input_res` only) the batch is 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from cnncalc.conventions.base import Call, Context, Flag, LayerCount, Number, Profile, flagged, numel
from cnncalc.conventions.modules import Function, Module

_ONE_PER_OUTPUT = {"ReLU", "PReLU", "ELU", "LeakyReLU", "ReLU6", "GELU"}
_NORMS = {f"{p}{d}d" for p in ("BatchNorm", "InstanceNorm") for d in (1, 2, 3)} | {"GroupNorm", "LayerNorm"}
_POOLS = {f"{p}{d}d" for p in ("MaxPool", "AvgPool", "AdaptiveMaxPool", "AdaptiveAvgPool") for d in (1, 2, 3)}
_NUMEL_FUNCTIONS = {"F.relu", "F.prelu", "F.elu", "F.relu6", "F.gelu", "F.silu", "F.softmax"} | {
    f"F.{p}_pool{d}d" for p in ("avg", "max", "adaptive_avg", "adaptive_max") for d in (1, 2, 3)}
_PRODUCTS = ("torch.matmul", "torch.mm", "torch.bmm")


def module_hook(module: Module) -> dict[str, int]:
    """The module hook's count for one call, by part: "macs", "bias", "work" (empty for
    classes ptflops does not know)."""
    cls, out, h = module.cls, module.out, module.hyper
    x = module.ins[0] if module.ins else ()
    if cls.startswith("ConvTranspose") or cls in ("Conv1d", "Conv2d", "Conv3d"):
        per_position = numel(h["kernel_size"]) * h["in_channels"] * (h["out_channels"] // h["groups"])
        grid = x if h["transposed"] else out
        return {"macs": per_position * x[0] * numel(grid[2:]), "bias": numel(out) if h["bias"] else 0}
    if cls == "Linear":
        positions = numel(x[:-1])
        return {"macs": h["in_features"] * h["out_features"] * positions,
                "bias": h["out_features"] * positions if h["bias"] else 0}
    if cls in _NORMS:
        return {"work": numel(x) * (2 if h.get("affine") else 1)}
    if cls in _ONE_PER_OUTPUT:
        return {"work": numel(out)}
    if cls in _POOLS:
        return {"work": numel(x)}
    if cls == "Upsample":
        return {"work": numel(out[1:])}
    return {}


def function_count(call: Function) -> int:
    """A patched function's count for one call (0 for functions ptflops does not patch)."""
    name = call.name
    if name in _NUMEL_FUNCTIONS:
        return numel(call.ins[0])
    if name == "F.interpolate":
        x = call.ins[0]
        if "size" in call.info:
            return numel(call.info["size"]) * numel(x[:2])
        scale = 1.0
        for factor in call.info["scale"]:
            scale *= factor
        return numel(x) * int(scale)
    if name in _PRODUCTS:
        return numel(call.ins[0]) * call.ins[1][-1]
    if name in ("Tensor.mul", "Tensor.add"):
        if call.info.get("scalar"):
            return numel(call.ins[0])
        return numel(_left_broadcast(call.ins[0], call.ins[1]))
    return 0


def _left_broadcast(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...]:
    """ptflops' own broadcast: the larger size per axis, the shapes aligned on the *left*."""
    rank = max(len(a), len(b))
    return tuple(max(a[i] if i < len(a) else 1, b[i] if i < len(b) else 1) for i in range(rank))


def batch_counter(context: Context) -> int:
    """What ptflops' batch counter reads: the batch of a single input; several inputs go in as
    keyword arguments, where it assumes 1."""
    return context.inputs[0][0] if len(context.inputs) == 1 and context.inputs[0] else 1


def count(call: Call, context: Context) -> LayerCount:
    divisor = batch_counter(context)
    by_category: dict[str, Number] = {}

    def add(category: str, value: Number) -> None:
        if value:
            by_category[category] = by_category.get(category, 0) + value

    twice = ""
    for module in call.module.walk():
        hooked = module_hook(module)
        for part, value in hooked.items():
            category = {"macs": call.mac_category, "bias": "bias"}.get(part, call.work_category)
            add(category, Fraction(value, divisor) if divisor != 1 else value)
        for function in module.functions:
            value = function_count(function)
            add(call.mac_category if function.name in _PRODUCTS else call.work_category, value)
            if value and any(hooked.values()):
                twice = twice or module.cls
    parts = {k: v.numerator if isinstance(v, Fraction) and v.denominator == 1 else v
             for k, v in by_category.items()}
    result = LayerCount(call.name, parts)
    if twice:
        result = flagged(result, Flag(
            "ptflops-counted-twice", call.name,
            f"ptflops counts `{call.name}` ({twice}) twice: once in its module hook and once in the "
            "patched torch.nn.functional call the module makes"))
    return result


PROFILE = Profile(
    "ptflops", "MACs", "ptflops 0.7.5 get_model_complexity_info(model, input_res, as_strings=False), "
    "pytorch backend",
    "ptflops: conv/linear multiply-adds + bias, norms 2/element, ReLU and pools counted twice "
    "(module hook + patched function), upsample, softmax",
    count,
)
