"""Cost templates: MACs and FLOPs of a convolution (T14), the 1×1 bottleneck saving (T15), and
units — MACs vs FLOPs, MB vs MiB (T29)."""

from __future__ import annotations

from fractions import Fraction
from random import Random

from cnncalc.exam import misconceptions as m
from cnncalc.exam import parts
from cnncalc.exam.engine import apply, chain
from cnncalc.exam.model import Draft
from cnncalc.exam.templates.base import IMPORT_FLOPS, Params, Template, pick, register
from cnncalc.exam.text import answer, num, volume

MILLION = 10**6
#: "in millions" answers are graded to ±0.05 million (EXAM.md §6.1)
MILLIONS_TOLERANCE = Fraction(1, 20)


def _in_millions(value: int) -> bool:
    return value >= 10 * MILLION


@register
class ConvMacs(Template):
    id = "conv_macs"
    number = "T14"
    short = "conv_macs"
    title = "MACs and FLOPs of a convolution"
    category = "cost"

    def sample(self, rng: Random, level: int, convention: str) -> Params:
        return {"n": pick(rng, 7, 14, 28, 56, 112) if level > 1 else pick(rng, 8, 16, 32),
                "cin": pick(rng, 3, 16, 32, 64, 128, 192), "cout": pick(rng, 16, 32, 64, 128, 256),
                "k": pick(rng, 1, 3, 5, 7), "s": pick(rng, 1, 1, 2) if level >= 3 else 1,
                "flops": level >= 3 and rng.randrange(2) == 1}

    def build(self, p: Params, rng: Random, convention: str) -> Draft:
        n, cin, cout, k, s, flops = p["n"], p["cin"], p["cout"], p["k"], p["s"], p["flops"]
        facts = apply("conv2d", (1, cin, n, n), out=cout, kernel=k, stride=s, padding=k // 2)
        o, macs = facts.output[2], facts.macs
        key = facts.flops["conv"] if flops else macs
        scale = MILLION if _in_millions(key) else 1
        unit = "million " if scale > 1 else ""
        what = "FLOPs (2 per multiply-add, bias adds not counted)" if flops else "multiply-accumulates (MACs)"
        stem = (f"A {k}×{k} convolution with {cout} filters, stride {s} and padding {k // 2} is applied to one "
                f"{volume(cin, n, n, convention=convention)} input. How many {what} does it need"
                f"{' (in millions)' if scale > 1 else ''}?")
        solution = (f"Output {o}×{o}×{cout}; each output value is a dot product of {k}·{k}·{cin} = "
                    f"{num(k * k * cin)} terms: MACs = {o}·{o}·{cout}·{num(k * k * cin)} = {num(macs)}"
                    + (f"; FLOPs = 2·MACs = {num(key)}" if flops else "") + ".")
        wrongs = m.first(
            m.macs_for_flops(macs) if flops else m.flops_for_macs(macs),
            m.input_size_for_cost(key // (o * o), n * n, o * o),
            m.forgot_cin_cost(key, cin),
            m.params_times_input(facts.params * n * n),
        )
        tolerance = MILLIONS_TOLERANCE if scale > 1 else Fraction(0)
        part = parts.numeric("cost", "FLOPs" if flops else "MACs", key, f"Correct: {answer(key, scale)}.",
                             wrongs, tolerance=tolerance, scale=scale, unit=unit.strip())
        return Draft(
            title=self.title, stem=stem, parts=(part,), solution=solution,
            snippet=(IMPORT_FLOPS, f"conv = nn.Conv2d({cin}, {cout}, {k}, stride={s}, padding={k // 2}, bias=False)",
                     f"with FlopCounterMode(display=False) as c: conv(torch.zeros(1, {cin}, {n}, {n}))",
                     "c.get_total_flops()" if flops else "c.get_total_flops() // 2"),
            expect=(key,), params=p,
        )


@register
class Bottleneck(Template):
    id = "bottleneck"
    number = "T15"
    short = "bottleneck"
    title = "1×1 bottleneck saving (Inception)"
    category = "cost"
    levels = (2, 3, 4)

    def sample(self, rng: Random, level: int, convention: str) -> Params:
        return {"n": pick(rng, 14, 28, 56), "cin": pick(rng, 128, 192, 256), "mid": pick(rng, 16, 32, 64),
                "cout": pick(rng, 32, 64, 128), "k": pick(rng, 3, 5)}

    def build(self, p: Params, rng: Random, convention: str) -> Draft:
        n, cin, mid, cout, k = p["n"], p["cin"], p["mid"], p["cout"], p["k"]
        direct = apply("conv2d", (1, cin, n, n), out=cout, kernel=k, padding=k // 2)
        reduce, conv = chain((1, cin, n, n), [("conv2d", {"out": mid, "kernel": 1}),
                                              ("conv2d", {"out": cout, "kernel": k, "padding": k // 2})])
        bottleneck = reduce.macs + conv.macs
        stem = (f"A {volume(cin, n, n, convention=convention)} volume goes through a {k}×{k} convolution with {cout} "
                f"filters and 'same' padding. Alternatively, a 1×1 convolution first reduces it to {mid} channels. "
                "How many multiply-accumulates (in millions) does each version need?")
        solution = (f"Direct: {n}·{n}·{cout}·({k}·{k}·{cin}) = {num(direct.macs)}. With the bottleneck: "
                    f"{n}·{n}·{mid}·{cin} = {num(reduce.macs)} for the 1×1, plus {n}·{n}·{cout}·({k}·{k}·{mid}) = "
                    f"{num(conv.macs)}: {num(bottleneck)}, {float(Fraction(direct.macs, bottleneck)):.1f}× fewer.")
        found = (
            parts.numeric("direct", "Direct (million MACs)", direct.macs, "Correct.",
                          m.first(m.flops_for_macs(direct.macs)), tolerance=MILLIONS_TOLERANCE, scale=MILLION),
            parts.numeric("bottleneck", "With the bottleneck (million MACs)", bottleneck, "Correct.",
                          m.first(m.forgot_reduction_cost(conv.macs), m.direct_cost(direct.macs),
                                  m.flops_for_macs(bottleneck)),
                          tolerance=MILLIONS_TOLERANCE, scale=MILLION),
        )
        return Draft(
            title=self.title, stem=stem, parts=found, solution=solution,
            snippet=(IMPORT_FLOPS,
                     f"x, d = torch.zeros(1, {cin}, {n}, {n}), nn.Conv2d({cin}, {cout}, {k}, padding={k // 2}); "
                     f"b = nn.Sequential(nn.Conv2d({cin}, {mid}, 1), nn.Conv2d({mid}, {cout}, {k}, padding={k // 2}))",
                     "with FlopCounterMode(display=False) as c1: d(x)",
                     "with FlopCounterMode(display=False) as c2: b(x)",
                     "(c1.get_total_flops() // 2, c2.get_total_flops() // 2)"),
            expect=(direct.macs, bottleneck), params=p,
        )


@register
class Units(Template):
    id = "units"
    number = "T29"
    short = "units"
    title = "Units: MACs vs FLOPs, MB vs MiB"
    category = "cost"
    levels = (3, 4)

    def sample(self, rng: Random, level: int, convention: str) -> Params:
        return {"n": pick(rng, 56, 112, 224), "cin": pick(rng, 3, 32, 64), "cout": pick(rng, 64, 128, 256),
                "k": pick(rng, 3, 7), "batch": pick(rng, 8, 16, 32, 64), "dtype": pick(rng, "float32", "float16"),
                "unit": pick(rng, "MB", "MiB")}

    def build(self, p: Params, rng: Random, convention: str) -> Draft:
        n, cin, cout, k, batch, dtype, unit = (p[x] for x in ("n", "cin", "cout", "k", "batch", "dtype", "unit"))
        facts = apply("conv2d", (batch, cin, n, n), out=cout, kernel=k, padding=k // 2, bias=False)
        gflops = Fraction(facts.flops["conv"], 10**9)
        size = 2 if dtype == "float16" else 4
        nbytes = 1
        for dim in facts.output:
            nbytes *= dim
        nbytes *= size
        divisor = 2**20 if unit == "MiB" else 10**6
        memory = Fraction(nbytes, divisor)
        stem = (f"fvcore reports {num(facts.macs)} \"flops\" for a bias-free {k}×{k} convolution ({cin}→{cout} "
                f"channels, 'same' padding) on a batch of {batch} {volume(cin, n, n, convention=convention)} inputs; "
                "fvcore counts one multiply-add as one flop. How many GFLOPs (10⁹ FLOPs, 2 per multiply-add) is "
                f"that, and how many {unit} does the layer's {dtype} output take?")
        solution = (f"fvcore's number is MACs, so FLOPs = 2·{num(facts.macs)} = {num(facts.flops['conv'])} = "
                    f"{answer(gflops)} GFLOPs. The output holds {'·'.join(map(str, facts.output))} = "
                    f"{num(nbytes // size)} values of {size} bytes = {num(nbytes)} bytes = {answer(memory)} {unit} "
                    f"({unit} = {'2²⁰' if unit == 'MiB' else '10⁶'} bytes).")
        tol = Fraction(1, 1000)
        found = (
            parts.numeric("gflops", "GFLOPs", gflops, "Correct.",
                          m.first(m.doubled_twice(gflops), m.macs_for_flops(Fraction(facts.macs, 10**9))),
                          tolerance=tol),
            parts.numeric("memory", f"Output size in {unit}", memory, "Correct.",
                          m.first(m.mb_vs_mib(nbytes, unit), m.bits_for_bytes(memory, unit),
                                  m.forgot_batch(memory, batch)),
                          tolerance=Fraction(1, 100)),
        )
        torch_dtype = f"torch.{dtype}"
        return Draft(
            title=self.title, stem=stem, parts=found, solution=solution,
            snippet=(IMPORT_FLOPS,
                     f"conv, x = nn.Conv2d({cin}, {cout}, {k}, padding={k // 2}, bias=False, dtype={torch_dtype}), "
                     f"torch.zeros({batch}, {cin}, {n}, {n}, dtype={torch_dtype})",
                     "with FlopCounterMode(display=False) as c: y = conv(x)",
                     f"(c.get_total_flops() / 1e9, y.numel() * y.element_size() / {divisor})"),
            expect=(gflops, memory), params=p,
        )
