"""Named misconceptions: each is a function that makes one wrong answer and says why it is wrong.

A distractor's value and its feedback come from the same function, from the same numbers, so a
feedback line can never state a number the option does not hold (the lesson of EXAM.md §2.3).
Each function returns a `Wrong` or None where the mistake does not apply (no dilation to ignore,
a division that is exact anyway). The tag on every option is the function's name, for item
analysis after grading; `CATALOGUE` lists them with a one-line summary (docs/exam.md).

These are deliberately wrong formulas: they are written out here, once, and nowhere else. The
right answers come from the layer registry and cnncalc.window.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import wraps
from math import ceil, floor, prod
from typing import Any, Optional, ParamSpec

from cnncalc.exam.model import Number, Value
from cnncalc.exam.text import num


@dataclass(frozen=True)
class Wrong:
    tag: str
    value: Value
    feedback: str


CATALOGUE: dict[str, str] = {}

P = ParamSpec("P")
Made = Optional[tuple[Value, str]]


def misconception(summary: str) -> Callable[[Callable[P, Made]], Callable[P, Wrong | None]]:
    """Register a misconception under its function's name; the function returns
    (value, feedback) or None, and is wrapped to return a `Wrong` tagged with that name."""

    def register(function: Callable[P, Made]) -> Callable[P, Wrong | None]:
        name = function.__name__
        if name in CATALOGUE:
            raise RuntimeError(f"misconception {name!r} registered twice")
        CATALOGUE[name] = summary

        @wraps(function)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> Wrong | None:
            made = function(*args, **kwargs)
            return None if made is None else Wrong(name, made[0], made[1])

        wrapped.__doc__ = summary
        return wrapped

    return register


# -- output size of a sliding window (conv, pooling) -------------------------------------------


@dataclass(frozen=True)
class Axis:
    """One spatial axis of a convolution or pooling: size n, kernel k, stride s, padding p per
    side, dilation d."""

    n: int
    k: int
    s: int = 1
    p: int = 0
    d: int = 1

    @property
    def k_eff(self) -> int:
        return self.d * (self.k - 1) + 1

    @property
    def top(self) -> int:
        return self.n + 2 * self.p - self.k_eff


@misconception("forgets the +1 that counts the first window position")
def no_plus_one(a: Axis) -> Made:
    value = floor(Fraction(a.top, a.s))
    return value, (f"You dropped the “+1”: ⌊({a.n} + 2·{a.p} − {a.k_eff})/{a.s}⌋ = {num(value)}. "
                   "The +1 counts the window at position 0.")


@misconception("ignores the stride (slides the window one step at a time)")
def ignore_stride(a: Axis) -> Made:
    if a.s == 1:
        return None
    value = a.top + 1
    return value, (f"You ignored the stride: {a.n} + 2·{a.p} − {a.k_eff} + 1 = {num(value)} is the "
                   f"stride-1 size; stride {a.s} divides the window positions by {a.s}.")


@misconception("adds the padding once (P) instead of on both sides (2P)")
def p_instead_of_2p(a: Axis) -> Made:
    if a.p == 0:
        return None
    value = floor(Fraction(a.n + a.p - a.k_eff, a.s)) + 1
    return value, (f"You added the padding once: ⌊({a.n} + {a.p} − {a.k_eff})/{a.s}⌋ + 1 = {num(value)}. "
                   f"Padding {a.p} is added on both sides: 2P = {2 * a.p}.")


@misconception("counts the padding twice (pads the input, then adds 2P again)")
def padding_twice(a: Axis) -> Made:
    if a.p == 0:
        return None
    value = floor(Fraction(a.n + 4 * a.p - a.k_eff, a.s)) + 1
    return value, (f"You counted the padding twice: the padded size {a.n + 2 * a.p} already includes "
                   f"2P, so ⌊({a.n + 2 * a.p} + 2·{a.p} − {a.k_eff})/{a.s}⌋ + 1 = {num(value)} is too large.")


@misconception("uses the kernel size K instead of the dilated span D(K−1)+1")
def ignore_dilation(a: Axis) -> Made:
    if a.d == 1 or a.n + 2 * a.p < a.k:
        return None
    value = floor(Fraction(a.n + 2 * a.p - a.k, a.s)) + 1
    return value, (f"You ignored the dilation: with D = {a.d} the kernel spans "
                   f"{a.d}·({a.k} − 1) + 1 = {a.k_eff} inputs, not {a.k}; {num(value)} uses {a.k}.")


@misconception("uses K·D as the dilated kernel span")
def k_times_d(a: Axis) -> Made:
    if a.d == 1 or a.n + 2 * a.p < a.k * a.d:
        return None
    value = floor(Fraction(a.n + 2 * a.p - a.k * a.d, a.s)) + 1
    return value, (f"You used K·D = {a.k * a.d} as the span; a dilated kernel spans "
                   f"D(K − 1) + 1 = {a.k_eff} inputs ({num(value)} is wrong).")


@misconception("rounds up where the formula floors")
def ceil_instead_of_floor(a: Axis) -> Made:
    if a.top % a.s == 0:
        return None
    value = ceil(Fraction(a.top, a.s)) + 1
    return value, (f"You rounded up: ⌈{a.top}/{a.s}⌉ + 1 = {num(value)}. A window must fit entirely "
                   f"in the padded input, so the division is floored: ⌊{a.top}/{a.s}⌋ + 1.")


@misconception("(W − K + 2P)/(S + 1): the stride's +1 moved into the denominator")
def precedence_error(a: Axis) -> Made:
    value = floor(Fraction(a.top, a.s + 1))
    return value, (f"You put the +1 inside the denominator: ⌊({a.n} − {a.k_eff} + 2·{a.p})/({a.s} + 1)⌋ "
                   f"= {num(value)}. The formula is ⌊(W − K + 2P)/S⌋ + 1.")


@misconception("(W + K + 2P)/S + 1: adds the kernel instead of subtracting it")
def kernel_sign_error(a: Axis) -> Made:
    value = floor(Fraction(a.n + a.k_eff + 2 * a.p, a.s)) + 1
    return value, (f"You added the kernel: ⌊({a.n} + {a.k_eff} + 2·{a.p})/{a.s}⌋ + 1 = {num(value)}. "
                   "The kernel's extent is subtracted: the window must fit in the input.")


@misconception("⌊(W + 2P − K)/S − 1⌋: the seed slide's formula (−1 instead of +1)")
def minus_one_formula(a: Axis) -> Made:
    value = floor(Fraction(a.top, a.s) - 1)
    return value, (f"That is ⌊({a.n} + 2·{a.p} − {a.k_eff})/{a.s} − 1⌋ = {num(value)}, the formula printed "
                   "on a lecture slide: it subtracts 1 where the right formula adds 1.")


@misconception("forgets the kernel: (W + 2P)/S + 1")
def kernel_missing(a: Axis) -> Made:
    value = floor(Fraction(a.n + 2 * a.p, a.s)) + 1
    return value, (f"You left the kernel out: ⌊({a.n} + 2·{a.p})/{a.s}⌋ + 1 = {num(value)}; "
                   f"subtract the kernel's extent {a.k_eff}.")


@misconception("gives the number of filters (the output depth) as the spatial size")
def depth_as_size(channels_out: int) -> Made:
    return channels_out, (f"{num(channels_out)} is the number of filters: the output's depth, "
                          "not its height or width.")


@misconception("believes pooling (or a stride of 2) simply halves the size")
def halves(a: Axis) -> Made:
    value = a.n // a.s
    return value, (f"{a.n}/{a.s} = {num(value)} assumes the window tiles the input exactly; with "
                   f"kernel {a.k} and padding {a.p} the windows that fit are counted by the formula.")


@misconception("with ceil_mode=True, still floors the division")
def floor_when_ceil(a: Axis) -> Made:
    value = floor(Fraction(a.top, a.s)) + 1
    return value, (f"⌊{a.top}/{a.s}⌋ + 1 = {num(value)} is the default (floor) size; ceil_mode=True "
                   "keeps a last, partial window.")


@misconception("with ceil_mode=True, rounds up without PyTorch's correction")
def naive_ceil(a: Axis) -> Made:
    value = ceil(Fraction(a.top, a.s)) + 1
    return value, (f"⌈{a.top}/{a.s}⌉ + 1 = {num(value)} keeps a last window that would start in the "
                   f"right padding (at {(value - 1) * a.s} ≥ W + P = {a.n + a.p}); PyTorch drops it.")


# -- transposed convolution ----------------------------------------------------------------


@dataclass(frozen=True)
class TAxis:
    """One axis of a transposed convolution."""

    n: int
    k: int
    s: int = 1
    p: int = 0
    op: int = 0
    d: int = 1


@misconception("applies the forward convolution formula to a transposed convolution")
def conv_formula_for_transposed(a: TAxis) -> Made:
    top = a.n + 2 * a.p - a.d * (a.k - 1) - 1
    if top < 0:
        return None
    value = top // a.s + 1
    return value, (f"⌊({a.n} + 2·{a.p} − {a.d * (a.k - 1) + 1})/{a.s}⌋ + 1 = {num(value)} is the size of a "
                   "(forward) convolution; a transposed convolution inverts it: (W − 1)·S − 2P + D(K − 1) + "
                   "output_padding + 1.")


@misconception("adds 2P in a transposed convolution (padding removes rows there)")
def plus_2p_transposed(a: TAxis) -> Made:
    if a.p == 0:
        return None
    value = (a.n - 1) * a.s + 2 * a.p + a.d * (a.k - 1) + a.op + 1
    return value, (f"You added the padding: ({a.n} − 1)·{a.s} + 2·{a.p} + … = {num(value)}. In a transposed "
                   "convolution P crops the output: −2P.")


@misconception("multiplies the input size by the stride")
def times_stride(a: TAxis) -> Made:
    value = a.n * a.s
    return value, f"{a.n}·{a.s} = {num(value)} ignores the kernel and the padding."


@misconception("ignores output_padding")
def ignore_output_padding(a: TAxis) -> Made:
    if a.op == 0:
        return None
    value = (a.n - 1) * a.s - 2 * a.p + a.d * (a.k - 1) + 1
    return value, (f"{num(value)} leaves out output_padding = {a.op}, which adds {a.op} row(s) on one side.")


@misconception("(W − 1)·S + K: forgets to subtract 2P")
def forgot_minus_2p(a: TAxis) -> Made:
    if a.p == 0:
        return None
    value = (a.n - 1) * a.s + a.d * (a.k - 1) + a.op + 1
    return value, f"({a.n} − 1)·{a.s} + {a.d * (a.k - 1) + 1} = {num(value)} forgets the −2P = −{2 * a.p}."


# -- parameters ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ConvParams:
    kernel: tuple[int, ...]
    cin: int
    cout: int
    bias: bool = True
    groups: int = 1
    out_positions: int = 1  # prod(output spatial), for the locally-connected confusion


@misconception("forgets the bias terms")
def forgot_bias(c: ConvParams) -> Made:
    if not c.bias:
        return None
    weights = c.cout * (c.cin // c.groups) * prod(c.kernel)
    return weights, (f"{num(weights)} counts the weights only; each of the {num(c.cout)} filters also has "
                     "a bias.")


@misconception("forgets that a filter spans every input channel")
def forgot_cin(c: ConvParams) -> Made:
    if c.cin == 1:
        return None
    k = prod(c.kernel)
    value = (k + (1 if c.bias else 0)) * c.cout
    return value, (f"({k}{' + 1' if c.bias else ''})·{num(c.cout)} = {num(value)}: each filter spans all "
                   f"{c.cin} input channels, so it has {k}·{c.cin} weights.")


@misconception("counts one bias for the whole layer instead of one per filter")
def one_bias(c: ConvParams) -> Made:
    if not c.bias or c.cout == 1:
        return None
    value = c.cout * (c.cin // c.groups) * prod(c.kernel) + 1
    return value, f"{num(value)} counts one bias for the layer; there is one per filter ({num(c.cout)})."


@misconception("multiplies by the output size (no weight sharing, or counting connections)")
def times_positions(c: ConvParams) -> Made:
    if c.out_positions == 1:
        return None
    per = c.cout * (c.cin // c.groups) * prod(c.kernel) + (c.cout if c.bias else 0)
    value = per * c.out_positions
    return value, (f"{num(value)} multiplies by the {num(c.out_positions)} output positions: a convolution "
                   "shares one set of weights over all positions (that number suits a locally connected "
                   "layer, or counts connections).")


@misconception("ignores the groups (counts a full convolution)")
def ignore_groups(c: ConvParams) -> Made:
    if c.groups == 1:
        return None
    value = c.cout * c.cin * prod(c.kernel) + (c.cout if c.bias else 0)
    return value, (f"{num(value)} is an ungrouped convolution: with {c.groups} groups each filter sees "
                   f"only {c.cin}/{c.groups} = {c.cin // c.groups} input channels.")


@misconception("divides the weights by the groups squared")
def groups_squared(c: ConvParams) -> Made:
    if c.groups == 1:
        return None
    weights = Fraction(c.cout * c.cin * prod(c.kernel), c.groups**2)
    if weights.denominator != 1:
        return None
    value = int(weights) + (c.cout if c.bias else 0)
    return value, (f"{num(value)} divides by G² = {c.groups**2}; each of the {c.cout} filters sees "
                   f"{c.cin // c.groups} channels, so the weights shrink by G = {c.groups} only.")


@dataclass(frozen=True)
class DenseParams:
    height: int
    width: int
    channels: int
    units: int
    bias: bool = True


@misconception("forgets to flatten: connects only the channels (C·N + N)")
def forgot_flatten(f: DenseParams) -> Made:
    value = f.channels * f.units + (f.units if f.bias else 0)
    return value, (f"{num(value)} connects only the {f.channels} channels: after Flatten every one of the "
                   f"{f.height}·{f.width}·{f.channels} values is an input.")


@misconception("flattens the spatial grid but forgets the channels (H·W·N + N)")
def forgot_channels_dense(f: DenseParams) -> Made:
    value = f.height * f.width * f.units + (f.units if f.bias else 0)
    return value, f"{num(value)} forgets the {f.channels} channels in the flattened input."


@misconception("forgets the biases of a dense layer")
def forgot_dense_bias(f: DenseParams) -> Made:
    if not f.bias:
        return None
    value = f.height * f.width * f.channels * f.units
    return value, f"{num(value)} counts the weights only; add one bias per unit ({num(f.units)})."


# -- cost -----------------------------------------------------------------------------------


@misconception("counts FLOPs (2 per multiply-add) where MACs are asked")
def flops_for_macs(macs: int, scale: int = 1) -> Made:
    return 2 * macs, (f"{num(2 * macs)} counts 2 operations per multiply-accumulate (FLOPs); "
                      "the question asks for MACs.")


@misconception("counts MACs where FLOPs (2 per multiply-add) are asked")
def macs_for_flops(macs: Number) -> Made:
    return macs, f"{num(macs)} is the number of multiply-accumulates; each is 2 FLOPs."


@misconception("uses the input size instead of the output size for the cost")
def input_size_for_cost(macs_per_position: int, in_positions: int, out_positions: int) -> Made:
    if in_positions == out_positions:
        return None
    value = macs_per_position * in_positions
    return value, (f"{num(value)} uses the {num(in_positions)} input positions; one dot product is "
                   f"computed per output position ({num(out_positions)}).")


@misconception("forgets the input channels in the cost")
def forgot_cin_cost(macs: int, cin_per_group: int) -> Made:
    if cin_per_group == 1:
        return None
    value = macs // cin_per_group
    return value, f"{num(value)} forgets that each output sums over {cin_per_group} input channels."


@misconception("forgets the cost of the 1×1 reduction")
def forgot_reduction_cost(second: int) -> Made:
    return second, (f"{num(second)} is only the large convolution after the bottleneck; the 1×1 "
                    "reduction costs multiply-adds too.")


@misconception("gives the cost of the direct convolution (no bottleneck)")
def direct_cost(direct: int) -> Made:
    return direct, f"{num(direct)} is the cost without the 1×1 bottleneck."


@misconception("counts the depthwise stage as a full convolution")
def depthwise_as_full(value: int, what: str) -> Made:
    return value, f"{num(value)} counts the depthwise {what} as a full convolution over all channels."


@misconception("forgets the pointwise (1×1) stage")
def forgot_pointwise(value: int) -> Made:
    return value, f"{num(value)} is only the depthwise stage; the 1×1 pointwise convolution follows it."


# -- receptive field -----------------------------------------------------------------------


@misconception("adds the kernel sizes (3 + 3 + 3 = 9)")
def sum_of_kernels(kernels: Sequence[int]) -> Made:
    value = sum(kernels)
    return value, (f"{' + '.join(map(str, kernels))} = {value} adds the kernels; each layer adds "
                   "(K̂ − 1)·jump to a field that starts at 1 pixel.")


@misconception("multiplies the kernel sizes")
def product_of_kernels(kernels: Sequence[int]) -> Made:
    value = prod(kernels)
    return value, f"{'·'.join(map(str, kernels))} = {value} multiplies the kernels; fields grow additively."


@misconception("ignores the strides (jumps) of earlier layers in the receptive field")
def ignore_jumps(spans: Sequence[int]) -> Made:
    value = 1 + sum(k - 1 for k in spans)
    return value, (f"1 + Σ(K̂ − 1) = {value} ignores the strides: after a stride-s layer each tap of the "
                   "next layer is s input pixels apart.")


@misconception("ignores dilation in the receptive field")
def ignore_dilation_rf(kernels: Sequence[int], strides: Sequence[int], dilations: Sequence[int]) -> Made:
    if all(d == 1 for d in dilations):
        return None
    size, jump = 1, 1
    for k, s in zip(kernels, strides):
        size, jump = size + (k - 1) * jump, jump * s
    return size, f"{size} ignores the dilation: a dilated kernel spans D(K − 1) + 1 inputs."


@misconception("thinks a stack of K×K layers still sees K×K pixels")
def rf_of_one_layer(k: int) -> Made:
    return k, (f"{k} is one layer's window; every further {k}×{k} layer widens the field by {k - 1} pixels "
               "on each axis.")


@misconception("counts the kernel taps only (n·K² against K²), forgetting the C_in·C_out factor")
def kernel_taps_only(taps: int) -> Made:
    return taps, (f"{num(taps)} counts the kernel taps; each of them has one weight per input and output "
                  "channel pair (×C_in·C_out).")


@misconception("counts one layer of a stack")
def one_layer_of_stack(value: int, depth: int) -> Made:
    return value, f"{num(value)} is one layer; the stack has {depth} of them."


@misconception("gives the multiply-accumulates instead of the parameters")
def macs_for_params(value: int) -> Made:
    return value, (f"{num(value)} is the multiply-accumulates over the feature map; each weight is counted "
                   "once as a parameter, however many positions reuse it.")


@misconception("forgets the +1 of the starting pixel in the receptive field")
def rf_no_plus_one(value: int) -> Made:
    return value - 1, f"{value - 1} forgets the pixel the field starts from (r₀ = 1)."


# -- memory and units ------------------------------------------------------------------------


@misconception("counts bits where bytes are asked (×8)")
def bits_for_bytes(value: Number, unit: str) -> Made:
    return value * 8, f"{num(value * 8)} counts bits; there are 8 bits in a byte and the question asks for {unit}."


@misconception("mixes MB (10⁶ bytes) and MiB (2²⁰ bytes)")
def mb_vs_mib(nbytes: int, asked: str) -> Made:
    other = Fraction(nbytes, 2**20) if asked == "MB" else Fraction(nbytes, 10**6)
    wrong_unit = "MiB" if asked == "MB" else "MB"
    return other, f"{num(other.__round__(4))} is in {wrong_unit}; the question asks for {asked}."


@misconception("forgets the batch size")
def forgot_batch(value: Number, batch: int) -> Made:
    if batch == 1:
        return None
    wrong = Fraction(value) / batch
    return wrong, f"{num(wrong.__round__(4))} is for one sample; the batch holds {batch}."


@misconception("applies the factor 2 twice (or not at all) when converting MACs and FLOPs")
def doubled_twice(value: Number) -> Made:
    return value * 2, f"{num(value * 2)} doubles once too often: FLOPs = 2·MACs, exactly once."


@misconception("mixes GB (10⁹) and GiB (2³⁰)")
def gb_vs_gib(nbytes: int, asked: str) -> Made:
    other = Fraction(nbytes, 2**30) if asked == "GB" else Fraction(nbytes, 10**9)
    return other, f"That divides by {'2³⁰' if asked == 'GB' else '10⁹'}; {asked} means {'10⁹' if asked == 'GB' else '2³⁰'} bytes."


# -- numeric by hand -------------------------------------------------------------------------


@misconception("flips the kernel (signal-processing convolution instead of cross-correlation)")
def flipped_kernel(value: Value | None) -> Made:
    if value is None:
        return None
    return value, ("This is the result with the kernel flipped (true convolution). Deep-learning "
                   "layers compute cross-correlation: the kernel is not flipped.")


@misconception("leaves out the padding")
def padding_omitted(value: Value | None) -> Made:
    if value is None:
        return None
    return value, "This leaves out the zero padding, so the outputs at the border are missing."


@misconception("slides the window with stride 1 instead of the given stride")
def stride_ignored_by_hand(value: Value | None) -> Made:
    if value is None:
        return None
    return value, "This slides the window one step at a time; the stride skips positions."


@misconception("pads max pooling with zeros instead of −∞")
def zero_padded_max(value: Value | None) -> Made:
    if value is None:
        return None
    return value, ("This pads with zeros; PyTorch's max pooling pads with −∞, so a padded position "
                   "never wins.")


@misconception("uses the wrong divisor for average pooling at the border")
def wrong_divisor(value: Value | None, include_pad: bool) -> Made:
    if value is None:
        return None
    rule = ("count_include_pad=True divides by the full window K², padding included" if include_pad
            else "count_include_pad=False divides by the number of real inputs in the window")
    return value, f"This uses the other divisor at the border: {rule}."


@misconception("overwrites overlapping contributions instead of summing them")
def overlaps_overwritten(value: Value | None) -> Made:
    if value is None:
        return None
    return value, ("Where the scattered kernel copies overlap, a transposed convolution sums them; "
                   "this keeps only the last one.")


@misconception("computes the forward convolution instead of its transpose")
def conv_instead_of_transpose(value: Value | None) -> Made:
    if value is None:
        return None
    return value, "That is the (forward) convolution of the input with the kernel, not its transpose."


@misconception("puts every value at the top-left of its block (bed of nails) in max-unpooling")
def bed_of_nails_for_unpool(value: Value | None) -> Made:
    if value is None:
        return None
    return value, ("That is bed-of-nails unpooling; max-unpooling puts each value back where the "
                   "maximum came from (the pooling indices).")


@misconception("repeats values (nearest) where zeros belong")
def nearest_for_unpool(value: Value | None) -> Made:
    if value is None:
        return None
    return value, "That repeats each value over its block (nearest-neighbour upsampling)."


@misconception("uses the transposed matrix (Cᵀ) for the forward pass")
def transposed_matrix(value: Any) -> Made:
    return value, "That is the shape of Cᵀ, the matrix of the transposed convolution."


@misconception("swaps stride and dilation")
def stride_dilation_swapped(value: Any) -> Made:
    return value, ("Stride is the shift between neighbouring outputs' windows; dilation is the gap "
                   "between the taps of one window.")


@misconception("takes the span of a window (K̂) as the kernel size")
def span_as_kernel(value: Any) -> Made:
    return value, "That is the span of the window, D(K − 1) + 1; the kernel size counts its taps."


def first(*made: Wrong | None) -> list[Wrong]:
    """The misconceptions that apply, in order."""
    return [m for m in made if m is not None]


def summary(name: str) -> str:
    return CATALOGUE[name]


def values(wrongs: Sequence[Wrong]) -> list[Number]:
    return [w.value for w in wrongs if isinstance(w.value, (int, Fraction))]


# -- 'same' padding, volumes, inverse problems ---------------------------------------------------


@misconception("believes 'same' keeps the size whatever the stride")
def same_keeps_size(n: int, s: int) -> Made:
    if s == 1:
        return None
    return n, f"'same' keeps the size only at stride 1; with stride {s} TensorFlow gives ⌈W/S⌉."


@misconception("floors W/S for TensorFlow's 'same' (it rounds up)")
def same_floored(n: int, s: int) -> Made:
    if n % s == 0:
        return None
    value = n // s
    return value, f"⌊{n}/{s}⌋ = {value}; 'same' rounds up: ⌈{n}/{s}⌉ = {-(-n // s)}."


@misconception("puts TensorFlow's odd padding row on top instead of at the bottom")
def extra_row_on_top(wrong: int, right: int) -> Made:
    if wrong == right:
        return None
    return right, ("With an odd total, TensorFlow puts the extra row at the bottom (and the extra "
                   "column on the right), not on top.")


@misconception("takes the input depth as the output depth")
def depth_from_input(shape: tuple[int, ...], cin: int) -> Made:
    return shape, f"That keeps the input depth {cin}; the output depth is the number of filters."


@misconception("takes the kernel size as the output depth")
def depth_from_kernel(shape: tuple[int, ...], k: int) -> Made:
    return shape, f"The depth is not the kernel size {k}: each filter makes one output channel."


@misconception("writes the shape in the other layout (NCHW vs NHWC)")
def layout_swapped(shape: tuple[int, ...]) -> Made:
    return shape, "That is the right volume in the other layout order (C×H×W vs H×W×C)."


@misconception("forgets the +1 in the spatial size of a volume")
def no_plus_one_volume(shape: tuple[int, ...]) -> Made:
    return shape, "The spatial size drops the “+1” of ⌊(W + 2P − K)/S⌋ + 1."


@misconception("takes K/2 rounded up as the 'same' padding")
def half_kernel_up(k: int) -> Made:
    value = (k + 1) // 2
    return value, f"⌈{k}/2⌉ = {value} pads one row too many: 2P must equal K − 1 = {k - 1}."


@misconception("uses 'full' padding K̂ − 1 instead of (K̂ − 1)/2")
def full_padding(k_eff: int) -> Made:
    value = k_eff - 1
    return value, f"P = {value} is 'full' padding: the output grows by {value} rows instead of staying the same."


@misconception("ignores dilation when choosing 'same' padding")
def same_pad_no_dilation(k: int, d: int) -> Made:
    if d == 1:
        return None
    value = (k - 1) // 2
    return value, f"(K − 1)/2 = {value} ignores the dilation: the kernel spans D(K − 1) + 1 = {d * (k - 1) + 1} inputs."


@misconception("pads by the kernel size")
def kernel_as_padding(k: int) -> Made:
    return k, f"P = K = {k} adds {k - 1} rows too many on each side."


@misconception("guesses the stride as the ratio of input to output size")
def stride_from_ratio(n: int, out: int) -> Made:
    value = round(Fraction(n, out))
    return value, f"W/O = {n}/{out} ≈ {value} ignores the kernel and the padding."


@misconception("solves for the stride without the floor")
def stride_unfloored(top: int, out: int) -> Made:
    if out == 1:
        return None
    value = Fraction(top, out - 1)
    return value, (f"(W + 2P − K̂)/(O − 1) = {top}/{out - 1} = {num(value)} is not how the floor works: "
                   "try each integer stride.")


# -- more parameter and cost confusions ----------------------------------------------------------


@misconception("counts a fully connected layer over the whole input instead of a convolution")
def dense_instead(value: int, units: int) -> Made:
    return value, f"{num(value)} is a fully connected layer with {num(units)} units over the whole input."


@misconception("uses the size before pooling for the flattened input")
def pre_pool_size(value: int) -> Made:
    return value, f"{num(value)} flattens the map before pooling; the dense layer sees the pooled map."


@misconception("forgets every bias in the total")
def forgot_all_biases(value: int) -> Made:
    return value, f"{num(value)} leaves out the biases (one per filter or unit)."


@misconception("mixes up BatchNorm's trainable parameters and its running statistics")
def bn_statistics(value: int, convention: str) -> Made:
    if convention == "keras":
        return None
    return value, ("That counts BatchNorm's running mean and variance: they are buffers, not "
                   "learnable parameters (Keras lists them as non-trainable).")


@misconception("gives pooling layers weights")
def pool_weights(value: int) -> Made:
    return value, f"{num(value)} gives the pooling layers weights; pooling has no parameters."


@misconception("shares the weights (counts a convolution) in a locally connected layer")
def shared_weights(value: int) -> Made:
    return value, f"{num(value)} is the convolution: it shares one filter over all positions."


@misconception("unshares the weights but keeps one bias per channel")
def shared_bias_untied_weights(value: int) -> Made:
    return value, f"{num(value)} keeps one bias per channel; here every output unit has its own bias."


@misconception("ignores the groups in the cost")
def ignore_groups_cost(value: int) -> Made:
    return value, f"{num(value)} is an ungrouped convolution's cost; each filter sees C_in/G channels."


@misconception("inverts a ratio")
def ratio_inverted(ratio: Fraction, inverse: str = "standard/separable") -> Made:
    value = 1 / ratio
    return value, f"{num(value.__round__(4))} is the inverse ratio ({inverse})."


@misconception("multiplies the parameter count by the input positions")
def params_times_input(value: int) -> Made:
    return value, (f"{num(value)} multiplies the parameters by the input positions; the cost counts "
                   "one multiply-add per weight per output position.")


@misconception("takes K·D as the dilated kernel span (effective kernel)")
def span_k_times_d(k: int, d: int) -> Made:
    if d == 1:
        return None
    return k * d, f"K·D = {k * d}; the span is D(K − 1) + 1 = {d * (k - 1) + 1}."


@misconception("takes K + D as the dilated kernel span")
def span_k_plus_d(k: int, d: int) -> Made:
    if d == 1:
        return None
    return k + d, f"K + D = {k + d}; the span is D(K − 1) + 1 = {d * (k - 1) + 1}."


@misconception("counts dilation as the number of inserted zeros (CS231n's 'dilation 0' is ordinary)")
def dilation_zero_based(k: int, d: int) -> Made:
    value = (d + 1) * (k - 1) + 1
    return value, (f"{value} reads D = {d} as {d} zeros between taps (CS231n's convention, where an "
                   f"ordinary convolution has dilation 0); in PyTorch D = 1 is ordinary, so the span is "
                   f"{d * (k - 1) + 1}.")


@misconception("counts the parameters instead of the activations")
def params_for_activations(value: Fraction) -> Made:
    return value, f"{num(value.__round__(4))} is the memory of the parameters, not of the activations."


@misconception("forgets that the convolution's kernel shrinks the map")
def kernel_does_not_shrink(value: int) -> Made:
    return value, f"{value} is the feature map's size; the {value}-wide input shrinks under the converted kernel."


@misconception("thinks a fully connected head always gives one output")
def fc_one_output() -> Made:
    return 1, "Converted to convolutions, the head slides over a larger map and gives a grid of scores."


@misconception("forgets output_padding where the sizes need it")
def config_without_output_padding(config: tuple[int, ...], size: int) -> Made:
    return config, f"That configuration gives {size}: without output_padding it is one row short."


@misconception("picks a configuration that gives another size")
def config_wrong_size(config: tuple[int, ...], size: int) -> Made:
    return config, f"That configuration gives {size}."


@misconception("flattens the spatial grid but forgets the channels")
def forgot_channels_flat(value: int) -> Made:
    return value, f"{num(value)} counts the positions only; each position holds every channel."


@misconception("puts max-unpooled values somewhere else than where the maxima were")
def max_unpool_elsewhere(value: Value | None) -> Made:
    if value is None:
        return None
    return value, "That is max-unpooling: values back at their argmax positions, zeros elsewhere."


def scatter_overwrite(x: Sequence[Sequence[Number]], w: Sequence[Sequence[Number]],
                      stride: tuple[int, int]) -> list[list[Number]]:
    """The transposed convolution computed wrongly, each copy of the kernel overwriting the
    previous ones where they overlap (the `overlaps_overwritten` misconception's value)."""
    rows = (len(x) - 1) * stride[0] + len(w)
    cols = (len(x[0]) - 1) * stride[1] + len(w[0])
    out: list[list[Number]] = [[0] * cols for _ in range(rows)]
    for i, line in enumerate(x):
        for j, value in enumerate(line):
            for a, taps in enumerate(w):
                for b, tap in enumerate(taps):
                    out[i * stride[0] + a][j * stride[1] + b] = value * tap
    return out
