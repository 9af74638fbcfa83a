""""Find the error" items built from mistakes published in lecture notes, answer keys and
textbooks (EXAM.md §5, and the seed slide 004's output-size formula). Each variant states the
published rule or answer with fresh numbers, worked through by the misconception function that
reproduces it; the student gives the right value, which the registry computes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from random import Random

from cnncalc.exam import misconceptions as m
from cnncalc.exam import parts
from cnncalc.exam.engine import apply
from cnncalc.exam.model import Draft
from cnncalc.exam.templates.base import IMPORT, Params, Template, pick, register, span
from cnncalc.exam.templates.sizes import _conv_axis, size_solution, torch_conv
from cnncalc.exam.text import num


@dataclass(frozen=True)
class Published:
    """A published wrong rule: where it appeared, how it is written, and the function that
    computes what it gives."""

    source: str
    rule: str
    wrong: Callable[[m.Axis], m.Wrong | None]


SIZE_MISTAKES: dict[str, Published] = {
    "seed_slide": Published("a lecture slide (seed notes 004)", "⌊(H + 2P − K)/S − 1⌋", m.minus_one_formula),
    "precedence": Published("a set of course notes", "(W − F + 2P)/(S + 1)", m.precedence_error),
    "kernel_sign": Published("a copy of the CS231n notes", "(W + F + 2P)/S + 1", m.kernel_sign_error),
    "padding_twice": Published("an online answer", "(W + 2P − F + 2P)/S + 1, after padding W to W + 2P",
                               m.padding_twice),
    "kernel_missing": Published("a course's slides", "(W + 2P)/S + 1", m.kernel_missing),
    "ceil_proposal": Published("a proposed textbook correction", "⌈(W + 2P − K)/S⌉ + 1 (ceil, not floor)",
                               m.ceil_instead_of_floor),
}
VARIANTS = (*SIZE_MISTAKES, "forgot_depth")


@register
class FindTheError(Template):
    id = "find_the_error"
    number = "E"
    short = "find_error"
    title = "Find the error"
    category = "find the error"
    levels = (2, 3, 4)

    def sample(self, rng: Random, level: int, convention: str) -> Params:
        variant = pick(rng, *VARIANTS)
        if variant == "forgot_depth":
            return {"variant": variant, "k": pick(rng, 3, 5, 7), "cin": 3, "cout": pick(rng, 16, 32, 64, 100),
                    "n": pick(rng, 32, 64, 224, 300)}
        while True:
            axis = _conv_axis(rng, 2, False, True if variant == "ceil_proposal" else None)
            if variant in ("padding_twice",) and axis["p"] == 0:
                continue
            a = m.Axis(axis["n"], axis["k"], axis["s"], axis["p"])
            wrong = SIZE_MISTAKES[variant].wrong(a)
            out = apply("conv2d", (1, 1, a.n, a.n), out=1, kernel=a.k, stride=a.s, padding=a.p).output[2]
            if wrong is not None and wrong.value != out and isinstance(wrong.value, int) and wrong.value > 0:
                return {"variant": variant, **axis, "c": span(rng, 1, 4) * 16}

    def build(self, p: Params, rng: Random, convention: str) -> Draft:
        if p["variant"] == "forgot_depth":
            return self._params(p, rng)
        published = SIZE_MISTAKES[p["variant"]]
        n, k, s, pad, c = p["n"], p["k"], p["s"], p["p"], p["c"]
        out = apply("conv2d", (1, c, n, n), out=c, kernel=k, stride=s, padding=pad).output[2]
        wrong = published.wrong(m.Axis(n, k, s, pad))
        assert wrong is not None
        stem = (f"{published.source.capitalize()} gives the output size of a convolution (input W = H, kernel "
                f"F = K, padding P per side, stride S) as {published.rule}. For a {n}×{n} input, a {k}×{k} kernel, "
                f"padding {pad} and stride {s} this gives {num(wrong.value)}. The rule is wrong: what is the "  # type: ignore[arg-type]
                "correct output height?")
        solution = (f"The rule as published gives {num(wrong.value)}: {wrong.feedback} "  # type: ignore[arg-type]
                    f"Correct: {size_solution(n, k, s, pad, 1, out)}")
        a = m.Axis(n, k, s, pad)
        others = [w for w in m.first(m.no_plus_one(a), m.ignore_stride(a), m.ceil_instead_of_floor(a))
                  if w.tag != wrong.tag]
        part = parts.numeric("h", "Correct output height", out, f"Correct: {out}.", [wrong, *others])
        return Draft(
            title=self.title, stem=stem, parts=(part,), solution=solution,
            snippet=(IMPORT, f"conv = {torch_conv(c, c, k, s, pad)}", f"conv(torch.zeros(1, {c}, {n}, {n})).shape[2]"),
            expect=(out,), params=p,
        )

    def _params(self, p: Params, rng: Random) -> Draft:
        k, cin, cout, n = p["k"], p["cin"], p["cout"], p["n"]
        key = apply("conv2d", (1, cin, n, n), out=cout, kernel=k).params
        c = m.ConvParams((k, k), cin, cout)
        wrong = m.forgot_cin(c)
        assert wrong is not None
        stem = (f"A published quiz answer key says that a convolutional layer with {cout} filters of size {k}×{k} "
                f"applied to a {n}×{n} RGB image has {num(wrong.value)} learnable parameters, biases included. "  # type: ignore[arg-type]
                "The key is wrong: how many parameters does the layer have?")
        solution = (f"The key computed ({k}·{k} + 1)·{cout}: {wrong.feedback} Correct: ({k}·{k}·3 + 1)·{cout} = "
                    f"{num(key)}.")
        part = parts.numeric("params", "Parameters", key, f"Correct: {num(key)}.",
                             [wrong, *m.first(m.forgot_bias(c))])
        return Draft(
            title=self.title, stem=stem, parts=(part,), solution=solution,
            snippet=(IMPORT, f"conv = nn.Conv2d({cin}, {cout}, {k})", "sum(p.numel() for p in conv.parameters())"),
            expect=(key,), params=p,
        )
