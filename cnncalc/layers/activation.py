"""Activations: elementwise nonlinearities and (log-)softmax.

Counting rule (FLOPs, category "activation"): ACTIVATION_FLOPS[kind] per output element,
counting each arithmetic operation, comparison and transcendental function (exp, erf, tanh)
as 1. Activations have no MACs; prelu has parameters (1 or C slopes). Attribute names are
torch's keyword arguments, so the torch module is `nn.<torch_name>(**attrs)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod
from typing import Any, ClassVar

from cnncalc.errors import ShapeError
from cnncalc.layers.base import (
    AUTOCAST_FLOAT32_ON_CUDA,
    AUTOCAST_LOW,
    IDENTITY,
    NOTHING_SAVED,
    Attr,
    Attrs,
    Bool,
    Choice,
    Float,
    Int,
    LayerKind,
    Params,
    Saved,
    Shape,
    Window,
    register,
)

#: FLOPs per output element, with how they are counted.
ACTIVATION_FLOPS: dict[str, tuple[int, str]] = {
    "relu": (1, "max(x, 0)"),
    "relu6": (2, "max, min"),
    "leaky_relu": (2, "compare, multiply"),
    "prelu": (2, "compare, multiply"),
    "elu": (4, "compare, exp, subtract 1, multiply by alpha"),
    "gelu": (5, "x*0.5*(1+erf(x/sqrt 2)): multiply, erf, add, 2 multiplies"),
    "gelu_tanh": (9, "x^3 (2), *c, +x, *sqrt(2/pi), tanh, +1, *x, *0.5"),
    "silu": (5, "sigmoid (4) and a multiply"),
    "sigmoid": (4, "negate, exp, add 1, divide"),
    "tanh": (1, "tanh"),
    "scale": (1, "multiply"),
    "hardswish": (5, "add 3, clamp (2), multiply by x, divide by 6"),
    "hardsigmoid": (4, "add 3, clamp (2), divide by 6"),
    "softmax": (5, "max, subtract, exp, sum, divide"),
    "log_softmax": (5, "max, subtract, exp, sum, subtract the log-sum"),
}

INPLACE = Attr("inplace", Bool(), False, "overwrite the input (saves one activation tensor)")


def _formulas(*keys: str) -> dict[str, str]:
    rules = "; ".join(f"{ACTIVATION_FLOPS[k][0]} per element ({ACTIVATION_FLOPS[k][1]})"
                      for k in keys)
    return {"output shape": "the input shape", "flops": f"activation: {rules}"}


class Activation(LayerKind):
    """Elementwise: output shape = input shape, identity window on every spatial axis."""

    family = "activation"
    torch_name: ClassVar[str] = ""
    #: what the backward reads, as torch's derivative formula saves it: "input", "output" or
    #: "nothing"; in place, "output" is the overwritten input, and "copy" a copy of the input
    #: taken before it is overwritten (so in place saves no memory there)
    keeps: ClassVar[str] = "input"
    keeps_in_place: ClassVar[str] = "output"

    def saved(self, a: Attrs, ins: Sequence[Shape], out: Shape, grads: Sequence[bool], weights: bool,
              device: str) -> Saved:
        keeps = self.keeps_in_place if a.get("inplace", False) else self.keeps
        if keeps == "copy":
            return Saved(extra=((prod(out), "act"),))
        return {"input": Saved(inputs=(0,)), "output": Saved(output=True)}.get(keeps, NOTHING_SAVED)

    def per_element(self, a: Attrs) -> int:
        return ACTIVATION_FLOPS[self.name][0]

    def flops(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> dict[str, int]:
        return {"activation": self.per_element(a) * prod(out)}

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        import torch.nn as nn

        return getattr(nn, self.torch_name)(**dict(a))


@register
class ReLU(Activation):
    name = "relu"
    summary = "max(x, 0)"
    keeps = "output"
    attrs = (INPLACE,)
    torch_name = "ReLU"
    formulas = _formulas("relu")


@register
class ReLU6(Activation):
    name = "relu6"
    summary = "min(max(x, 0), 6) (MobileNet)"
    keeps_in_place = "copy"
    attrs = (INPLACE,)
    torch_name = "ReLU6"
    formulas = _formulas("relu6")


@register
class LeakyReLU(Activation):
    name = "leaky_relu"
    summary = "x if x > 0 else negative_slope * x"
    attrs = (Attr("negative_slope", Float(), 0.01, "slope for x < 0"), INPLACE)
    torch_name = "LeakyReLU"
    formulas = _formulas("leaky_relu")


@register
class PReLU(Activation):
    """Leaky ReLU with learned slopes: one shared, or one per channel."""

    name = "prelu"
    summary = "leaky relu with learned slope(s): 1 or one per channel"
    attrs = (
        Attr("num_parameters", Int(minimum=1), 1, "1 (shared) or the channel count"),
        Attr("init", Float(), 0.25, "initial slope"),
    )
    torch_name = "PReLU"
    autocast = AUTOCAST_LOW
    formulas = {**_formulas("prelu"), "params": "num_parameters (1 or C)"}

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        x = ins[0]
        channels = x[1] if len(x) > 1 else 1
        if a.num_parameters not in (1, channels):
            raise ShapeError(
                f"prelu num_parameters must be 1 or the channel count {channels}, "
                f"found {a.num_parameters}"
            )
        return x

    def params(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Params:
        return Params(a.num_parameters)


@register
class ELU(Activation):
    name = "elu"
    summary = "x if x > 0 else alpha * (exp(x) - 1)"
    attrs = (Attr("alpha", Float(), 1.0, "saturation value for x -> -inf"), INPLACE)
    torch_name = "ELU"
    formulas = _formulas("elu")


@register
class GELU(Activation):
    name = "gelu"
    summary = "x * Phi(x) (exact, or the tanh approximation)"
    attrs = (Attr("approximate", Choice("none", "tanh"), "none", "exact erf or tanh form"),)
    torch_name = "GELU"
    formulas = _formulas("gelu", "gelu_tanh")

    def per_element(self, a: Attrs) -> int:
        return ACTIVATION_FLOPS["gelu_tanh" if a.approximate == "tanh" else "gelu"][0]


@register
class SiLU(Activation):
    name = "silu"
    aliases = ("swish",)
    summary = "x * sigmoid(x) (swish)"
    keeps_in_place = "copy"
    attrs = (INPLACE,)
    torch_name = "SiLU"
    formulas = _formulas("silu")


@register
class Sigmoid(Activation):
    name = "sigmoid"
    summary = "1 / (1 + exp(-x))"
    keeps = "output"
    torch_name = "Sigmoid"
    formulas = _formulas("sigmoid")


@register
class Tanh(Activation):
    """tanh, optionally scaled as LeNet-5's squashing function A*tanh(S*x) (A = 1.7159, S = 2/3)."""

    name = "tanh"
    summary = "hyperbolic tangent, optionally amplitude * tanh(slope * x) (LeNet-5)"
    attrs = (
        Attr("amplitude", Float(), 1.0, "A in A*tanh(S*x)"),
        Attr("slope", Float(), 1.0, "S in A*tanh(S*x)"),
    )
    torch_name = "Tanh"
    formulas = {
        "output shape": "the input shape",
        "flops": "activation: 1 per element (tanh), +1 for a slope != 1, +1 for an amplitude != 1",
    }

    def per_element(self, a: Attrs) -> int:
        return 1 + (a.slope != 1.0) + (a.amplitude != 1.0)

    def saved(self, a: Attrs, ins: Sequence[Shape], out: Shape, grads: Sequence[bool], weights: bool,
              device: str) -> Saved:
        """tanh keeps its output; scaled, that output is the inner tanh's, before the amplitude."""
        if a.amplitude == 1.0 and a.slope == 1.0:
            return Saved(output=True)
        return Saved(extra=((prod(out), "act"),))

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        import torch.nn as nn

        if a.amplitude == 1.0 and a.slope == 1.0:
            return nn.Tanh()
        from cnncalc.torch_backend.modules import ScaledTanh

        return ScaledTanh(a.amplitude, a.slope)


@register
class Scale(Activation):
    """Multiplication by a constant (FCN-8s scales pool3 by 1e-4 and pool4 by 0.01)."""

    name = "scale"
    summary = "x * factor, a constant scaling"
    keeps = "nothing"
    attrs = (Attr("factor", Float(), doc="the constant"),)
    formulas = _formulas("scale")

    def torch_module(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> Any:
        from cnncalc.torch_backend.modules import Scale as Module

        return Module(a.factor)


@register
class Hardswish(Activation):
    name = "hardswish"
    aliases = ("hard_swish",)
    summary = "x * relu6(x + 3) / 6 (MobileNetV3)"
    keeps_in_place = "copy"
    attrs = (INPLACE,)
    torch_name = "Hardswish"
    formulas = _formulas("hardswish")


@register
class Hardsigmoid(Activation):
    name = "hardsigmoid"
    aliases = ("hard_sigmoid",)
    summary = "relu6(x + 3) / 6"
    keeps_in_place = "copy"
    attrs = (INPLACE,)
    torch_name = "Hardsigmoid"
    formulas = _formulas("hardsigmoid")


class SoftmaxBase(Activation):
    """Normalized exponentials along one axis (any rank; negative axes count from the end)."""

    keeps = "output"
    autocast = AUTOCAST_FLOAT32_ON_CUDA

    attrs = (Attr("dim", Int(minimum=None), 1, "the axis normalized (1: channels)"),)

    def axis(self, a: Attrs, x: Shape) -> int:
        if not -len(x) <= a.dim < len(x):
            raise ShapeError(
                f"{self.name} dim {a.dim} is out of range for shape {list(x)} "
                f"(expected {-len(x)} to {len(x) - 1})"
            )
        return int(a.dim) % len(x)

    def shape(self, a: Attrs, ins: Sequence[Shape]) -> Shape:
        self.axis(a, ins[0])
        return ins[0]

    def window(self, a: Attrs, ins: Sequence[Shape], out: Shape) -> tuple[Window, ...] | None:
        """Identity, except that a softmax along a spatial axis of length n sees all of it:
        (2n-1, 1, pad n-1) covers the whole axis from every output position."""
        if len(out) <= 2:
            return None
        axis = self.axis(a, out)
        return tuple(
            Window(2 * n - 1, 1, 1, n - 1) if index == axis else IDENTITY
            for index, n in enumerate(out[2:], start=2)
        )


@register
class Softmax(SoftmaxBase):
    name = "softmax"
    summary = "exp(x) / sum(exp(x)) along `dim`"
    torch_name = "Softmax"
    formulas = _formulas("softmax")


@register
class LogSoftmax(SoftmaxBase):
    name = "log_softmax"
    summary = "log of softmax along `dim`"
    torch_name = "LogSoftmax"
    formulas = _formulas("log_softmax")
