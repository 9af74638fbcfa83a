"""Receptive-field templates: a stack of convolutions and pooling (T16), a stack of small kernels
against one large kernel with the same field (T17, VGG's design argument) and dilation with a
WaveNet-style stack (T26). Keys compose the layers' windows with the receptive-field pass's
algebra; torch measures the field as the gradient support of one output unit."""

from __future__ import annotations

from fractions import Fraction
from random import Random
from typing import Any

from cnncalc.exam import misconceptions as m
from cnncalc.exam import parts
from cnncalc.exam.engine import apply, as_int, chain, field
from cnncalc.exam.model import Draft
from cnncalc.exam.templates.base import IMPORT, Params, Template, pick, register, span
from cnncalc.exam.text import num, volume
from cnncalc.window import effective_kernel

#: the extent of the input columns (rows, in 1-D positions) the gradient of output unit 0 reaches
PROBE = "int(cols[-1] - cols[0] + 1)"
MARGIN = 8
PARAMS = "sum(p.numel() for p in {}.parameters())"


def _stack(rng: Random, level: int) -> list[dict[str, int]]:
    layers = []
    for index in range(span(rng, 2, 3) if level <= 2 else span(rng, 3, 5)):
        if index and level >= 2 and rng.randrange(4) == 0:
            layers.append({"pool": 1, "k": 2, "s": 2, "d": 1})
            continue
        k = pick(rng, 3, 3, 5, 7) if level > 1 else 3
        s = pick(rng, 1, 1, 2) if level >= 2 else 1
        d = pick(rng, 1, 1, 2, 4) if level >= 3 else 1
        layers.append({"pool": 0, "k": k, "s": s, "d": d})
    return layers


def _registry(layers: list[dict[str, int]], spatial: int = 2) -> list[tuple[str, dict[str, Any]]]:
    conv, pool = ("conv2d", "maxpool2d") if spatial == 2 else ("conv1d", "maxpool1d")
    return [(pool, {"kernel": x["k"], "stride": x["s"]}) if x["pool"] else
            (conv, {"out": 1, "kernel": x["k"], "stride": x["s"], "dilation": x["d"]}) for x in layers]


def _torch(layers: list[dict[str, int]], spatial: int = 2) -> str:
    dims = "2d" if spatial == 2 else "1d"
    mods = []
    for x in layers:
        if x["pool"]:
            mods.append(f"nn.AvgPool{dims}({x['k']}, stride={x['s']})")
        else:
            extra = (f", stride={x['s']}" if x["s"] > 1 else "") + (f", dilation={x['d']}" if x["d"] > 1 else "")
            mods.append(f"nn.Conv{dims}(1, 1, {x['k']}{extra})")
    return "nn.Sequential(" + ", ".join(mods) + ")"


def _probe_lines(layers: list[dict[str, int]], size: int, spatial: int = 2) -> tuple[str, ...]:
    shape = f"1, 1, {size}, {size}" if spatial == 2 else f"1, 1, {size}"
    unit = "0, 0, 0, 0" if spatial == 2 else "0, 0, 0"
    reached = "x.grad[0, 0].ne(0).any(0)" if spatial == 2 else "x.grad[0, 0].ne(0)"
    return (IMPORT,
            f"m = {_torch(layers, spatial)}; [nn.init.ones_(p) for p in m.parameters()]",
            f"x = torch.zeros({shape}, requires_grad=True); m(x)[{unit}].backward(); "
            f"cols = {reached}.nonzero().flatten()",
            PROBE)


@register
class ReceptiveField(Template):
    id = "receptive_field"
    number = "T16"
    short = "rf"
    title = "Receptive field of a stack"
    category = "receptive field"

    def sample(self, rng: Random, level: int, convention: str) -> Params:
        return {"layers": _stack(rng, level)}

    def build(self, p: Params, rng: Random, convention: str) -> Draft:
        layers = p["layers"]
        facts = chain((1, 1, 4096, 4096), _registry(layers))
        size = as_int(field(facts).size)
        words, steps = [], []
        jump, rf = 1, 1
        for x in layers:
            k_eff = effective_kernel(x["k"], x["d"])
            if x["pool"]:
                words.append(f"- {x['k']}×{x['k']} max pooling, stride {x['s']}")
            else:
                dil = f", dilation {x['d']}" if x["d"] > 1 else ""
                words.append(f"- {x['k']}×{x['k']} convolution, stride {x['s']}{dil}, no padding")
            rf += (k_eff - 1) * jump
            steps.append(f"+ ({k_eff} − 1)·{jump} → {rf}")
            jump *= x["s"]
        assert rf == size, (rf, size)
        stem = ("A stack of layers is applied to an image:\n\n" + "\n".join(words) + "\n\n"
                "How wide (in input pixels) is the receptive field of one unit of the last layer?")
        solution = ("Start from r = 1 with jump 1; each layer adds (K̂ − 1)·jump, where K̂ = D(K − 1) + 1 "
                    "and jump is the product of the earlier strides: r = 1 " + " ".join(steps)
                    + f". The receptive field is {size}×{size} (its extent: a dilated layer after a stride may "
                    "leave gaps inside it). (Average pooling has the same window as max "
                    "pooling; the snippet uses it so that every pixel of the window gets a gradient.)")
        kernels = [x["k"] for x in layers]
        wrongs = m.first(
            m.sum_of_kernels(kernels), m.ignore_jumps([effective_kernel(x["k"], x["d"]) for x in layers]),
            m.ignore_dilation_rf(kernels, [x["s"] for x in layers], [x["d"] for x in layers]),
            m.rf_no_plus_one(size), m.product_of_kernels(kernels),
        )
        part = parts.numeric("rf", "Receptive field", size, f"Correct: {size}.", wrongs)
        return Draft(title=self.title, stem=stem, parts=(part,), solution=solution,
                     snippet=_probe_lines(layers, size + MARGIN), expect=(size,), params=p, device="cpu")


@register
class StackVersusLarge(Template):
    id = "stack_vs_large"
    number = "T17"
    short = "stack_vs_large"
    title = "Small-kernel stack vs one large kernel (VGG)"
    category = "receptive field"
    levels = (2, 3)

    def sample(self, rng: Random, level: int, convention: str) -> Params:
        return {"depth": pick(rng, 2, 3) if level == 2 else pick(rng, 2, 3, 4),
                "k": 3 if level == 2 else pick(rng, 3, 3, 5), "c": pick(rng, 32, 64, 128, 256, 512),
                "n": pick(rng, 14, 28, 56), "bias": False if level == 2 else pick(rng, False, True)}

    def build(self, p: Params, rng: Random, convention: str) -> Draft:
        depth, k, c, n, bias = p["depth"], p["k"], p["c"], p["n"], p["bias"]
        conv = {"out": c, "kernel": k, "padding": k // 2, "bias": bias}
        stack = chain((1, c, n, n), [("conv2d", conv)] * depth)
        size = as_int(field(stack).size)
        large = apply("conv2d", (1, c, n, n), out=c, kernel=size, padding=size // 2, bias=bias)
        stacked = sum(f.params for f in stack)
        ratio = Fraction(stacked, large.params)
        with_bias = "with" if bias else "without"
        stem = (f"A stack of {depth} {k}×{k} convolutions (stride 1, 'same' padding, {c} channels in and out, "
                f"{with_bias} bias) runs on a {volume(c, n, n, convention=convention)} feature map. It is compared "
                f"with one K×K convolution ({c} channels in and out, stride 1, 'same' padding, {with_bias} bias) "
                "whose receptive field is the same.")
        bias_term = f" + {c}" if bias else ""
        solution = (f"Each {k}×{k} layer widens the field by {k} − 1 = {k - 1}: 1 + {depth}·{k - 1} = {size}, so "
                    f"K = {size}. Stack: {depth}·({k}·{k}·{c}·{c}{bias_term}) = {num(stacked)} parameters. One "
                    f"{size}×{size} layer: {size}·{size}·{c}·{c}{bias_term} = {num(large.params)}. Ratio "
                    f"{num(stacked)}/{num(large.params)} ≈ {float(ratio):.4f}"
                    + ("" if bias else f" = {depth}·{k * k}/{size * size}")
                    + ": the same field for fewer parameters, with a non-linearity between the layers.")
        tol = Fraction(1, 20000)
        found = (
            parts.numeric("kernel", "K, the large kernel with the same receptive field", size, "Correct.",
                          m.first(m.rf_of_one_layer(k), m.sum_of_kernels([k] * depth),
                                  m.product_of_kernels([k] * depth), m.rf_no_plus_one(size))),
            parts.numeric("stack", "Parameters of the stack", stacked, "Correct.",
                          m.first(m.one_layer_of_stack(stack[0].params, depth), m.kernel_taps_only(depth * k * k),
                                  m.forgot_all_biases(depth * k * k * c * c) if bias else None,
                                  m.macs_for_params(sum(f.macs for f in stack)))),
            parts.numeric("large", "Parameters of the single layer", large.params, "Correct.",
                          m.first(m.kernel_taps_only(size * size),
                                  m.forgot_bias(m.ConvParams((size, size), c, c, bias)),
                                  m.forgot_cin(m.ConvParams((size, size), c, c, bias)),
                                  m.macs_for_params(large.macs))),
            parts.numeric("ratio", "Ratio stack/single (4 decimals)", ratio, "Correct.",
                          m.first(m.ratio_inverted(ratio, "single/stack")), tolerance=tol),
        )
        flag = "" if bias else ", bias=False"
        probe = _probe_lines([{"pool": 0, "k": k, "s": 1, "d": 1}] * depth, size + MARGIN)
        return Draft(
            title=self.title, stem=stem, parts=found, solution=solution,
            snippet=(probe[0],
                     f"s = nn.Sequential(*[nn.Conv2d({c}, {c}, {k}, padding={k // 2}{flag}, device='meta') "
                     f"for _ in range({depth})]); l = nn.Conv2d({c}, {c}, {size}, padding={size // 2}{flag}, "
                     "device='meta')",
                     *probe[1:-1],
                     f"({PROBE}, {PARAMS.format('s')}, {PARAMS.format('l')}, "
                     f"{PARAMS.format('s')} / {PARAMS.format('l')})"),
            expect=(size, stacked, large.params, ratio), params=p, device="cpu",
        )


@register
class Dilation(Template):
    id = "dilation"
    number = "T26"
    short = "dilation"
    title = "Dilation: effective kernel and a WaveNet stack"
    category = "receptive field"
    levels = (3, 4)

    def sample(self, rng: Random, level: int, convention: str) -> Params:
        return {"k": pick(rng, 2, 3, 5), "d": span(rng, 2, 8), "stack_k": pick(rng, 2, 3),
                "depth": span(rng, 3, 6)}

    def build(self, p: Params, rng: Random, convention: str) -> Draft:
        k, d, stack_k, depth = p["k"], p["d"], p["stack_k"], p["depth"]
        span_key = effective_kernel(k, d)
        layers = [{"pool": 0, "k": stack_k, "s": 1, "d": 2**i} for i in range(depth)]
        facts = chain((1, 1, 4096), _registry(layers, 1))
        size = as_int(field(facts).size)
        dilations = ", ".join(str(2**i) for i in range(depth))
        stem = (f"(a) In PyTorch (dilation 1 is an ordinary convolution), how many input positions does a "
                f"kernel of size {k} with dilation {d} span? (b) A WaveNet-style stack of {depth} 1-D convolutions "
                f"with kernel size {stack_k}, stride 1 and dilations {dilations}: how wide is the receptive field "
                "of one output?")
        solution = (f"(a) K̂ = D(K − 1) + 1 = {d}·({k} − 1) + 1 = {span_key}. (b) Each layer adds "
                    f"(K − 1)·D = {stack_k - 1}·D: 1 + {stack_k - 1}·({' + '.join(str(2**i) for i in range(depth))}) "
                    f"= {size}" + (f" = 2^{depth}" if stack_k == 2 else "") + ".")
        found = (
            parts.numeric("span", "Span of the dilated kernel", span_key, "Correct.",
                          m.first(m.span_k_times_d(k, d), m.span_k_plus_d(k, d), m.dilation_zero_based(k, d))),
            parts.numeric("rf", "Receptive field of the stack", size, "Correct.",
                          m.first(m.ignore_dilation_rf([stack_k] * depth, [1] * depth, [2**i for i in range(depth)]),
                                  m.rf_no_plus_one(size), m.sum_of_kernels([stack_k] * depth))),
        )
        lines = _probe_lines(layers, size + MARGIN, 1)
        return Draft(
            title=self.title, stem=stem, parts=found, solution=solution,
            snippet=(lines[0], f"span = nn.Conv1d(1, 1, {k}, dilation={d})(torch.zeros(1, 1, {span_key})).shape[-1] "
                               f"== 1 and {span_key}  # exactly fits: one output",
                     *lines[1:-1], f"(span, {lines[-1]})"),
            expect=(span_key, size), params=p, device="cpu",
        )
