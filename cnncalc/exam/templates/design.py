"""Design and "configure" templates: how was this convolution configured? (T25), an FC head as
convolutions (T27), and a transposed convolution that doubles the size (T28). Inverse items are
emitted only when their answer is unique over the range the question states."""

from __future__ import annotations

from functools import cache
from random import Random

from cnncalc.errors import ShapeError
from cnncalc.exam import misconceptions as m
from cnncalc.exam import parts
from cnncalc.exam.engine import apply, connectivity
from cnncalc.exam.model import Draft, Value
from cnncalc.exam.templates.base import IMPORT, Params, Template, pick, register, span
from cnncalc.layers.base import Window
from cnncalc.window import conv_output_size, transposed_output_size

Pattern = tuple[tuple[int, ...], ...]


@cache
def pattern_of(n: int, k: int, s: int, p: int, d: int) -> Pattern | None:
    """Which inputs each output of a 1-D convolution reads (None if it does not fit)."""
    try:
        outputs = conv_output_size(n, k, s, (p, p), d)
    except ShapeError:
        return None
    return connectivity(n, outputs, Window(k, s, d, p))


@register
class Configure(Template):
    id = "configure"
    number = "T25"
    short = "configure"
    title = "How was this convolution configured?"
    category = "configure"
    levels = (3, 4)
    #: the grid searched for other configurations with the same connectivity
    GRID = {"k": range(1, 7), "s": range(1, 5), "d": range(1, 5)}

    def matches(self, n: int, pattern: Pattern) -> list[tuple[int, int, int, int]]:
        found = []
        for k in self.GRID["k"]:
            for s in self.GRID["s"]:
                for d in self.GRID["d"]:
                    for p in range(0, d * (k - 1) + 1):
                        if pattern_of(n, k, s, p, d) == pattern:
                            found.append((k, s, d, p))
        return found

    def sample(self, rng: Random, level: int, convention: str) -> Params:
        while True:
            k, s, d = pick(rng, 2, 3, 3, 5), pick(rng, 1, 2, 3), pick(rng, 1, 1, 2, 3)
            if level == 3 and d > 1 and s > 1:
                continue
            p = span(rng, 0, (d * (k - 1)) // 2)
            n = span(rng, 6, 12)
            pattern = pattern_of(n, k, s, p, d)
            if (pattern and all(pattern) and any(len(taps) == k for taps in pattern)
                    and self.matches(n, pattern) == [(k, s, d, p)]):
                return {"n": n, "k": k, "s": s, "d": d, "p": p}

    def build(self, p: Params, rng: Random, convention: str) -> Draft:
        n, k, s, d, pad = p["n"], p["k"], p["s"], p["d"], p["p"]
        facts = apply("conv1d", (1, 1, n), out=1, kernel=k, stride=s, padding=pad, dilation=d)
        assert facts.windows is not None
        pattern = connectivity(n, facts.output[2], facts.windows[0])
        assert self.matches(n, pattern) == [(k, s, d, pad)], "configure items are unique by construction"
        rows = [f"- h_{o + 1} ← " + ", ".join(f"x_{i + 1}" for i in taps) for o, taps in enumerate(pattern)]
        stem = (f"A 1-D convolution with one input and one output channel maps x_1 … x_{n} to "
                f"h_1 … h_{len(pattern)}. Each output reads these inputs (taps in the zero padding are not "
                "shown):\n\n" + "\n".join(rows) + "\n\n"
                "Give its kernel size, stride, dilation and zero padding per side. (Only one configuration "
                "with kernel ≤ 6, stride ≤ 4 and dilation ≤ 4 produces this pattern.)")
        full = next(taps for taps in pattern if len(taps) == k)
        solution = (f"A full window reads {len(full)} inputs: K = {k}. Neighbouring taps are {d} apart: D = {d} "
                    f"(span K̂ = {d * (k - 1) + 1}). Consecutive outputs shift by {s}: S = {s}. The first tap of h_1 "
                    f"is x_{1 - pad}" + (" (x_0 and before lie in the zero padding)" if pad else "")
                    + f", so P = {pad}. Checking every configuration in the stated "
                    "range confirms this one is the only match.")
        k_eff = d * (k - 1) + 1
        found = (
            parts.numeric("k", "Kernel size", k, "Correct.", m.first(m.span_as_kernel(k_eff))),
            parts.numeric("s", "Stride", s, "Correct.", m.first(m.stride_dilation_swapped(d))),
            parts.numeric("d", "Dilation", d, "Correct.", m.first(m.stride_dilation_swapped(s))),
            parts.numeric("p", "Padding per side", pad, "Correct.", []),
        )
        return Draft(
            title=self.title, stem=stem, parts=found, solution=solution,
            snippet=(IMPORT,
                     f"conv = nn.Conv1d(1, 1, {k}, stride={s}, padding={pad}, dilation={d}); "
                     f"J = torch.autograd.functional.jacobian(lambda x: conv(x)[0, 0], torch.zeros(1, 1, {n}))",
                     "tuple(tuple(J[o, 0, 0].nonzero().flatten().tolist()) for o in range(J.shape[0]))"),
            expect=(pattern,), params=p, device="cpu",
        )


@register
class FcToConv(Template):
    id = "fc_to_conv"
    number = "T27"
    short = "fc_conv"
    title = "Fully connected head as convolutions"
    category = "output size"
    levels = (1, 2, 3)

    def sample(self, rng: Random, level: int, convention: str) -> Params:
        f = pick(rng, 5, 6, 7)
        return {"f": f, "c": pick(rng, 256, 512), "units": pick(rng, 1024, 4096), "g": f + span(rng, 1, 8)}

    def build(self, p: Params, rng: Random, convention: str) -> Draft:
        f, c, units, g = p["f"], p["c"], p["units"], p["g"]
        one = apply("conv2d", (1, c, f, f), out=units, kernel=f).output[2]
        assert one == 1
        out = apply("conv2d", (1, c, g, g), out=units, kernel=f).output[2]
        stem = (f"A classifier flattens a {f}×{f}×{c} feature map into a fully connected layer with {units} "
                f"units. (a) That layer is rewritten as a convolution with {units} filters and no padding: what "
                f"kernel size gives the same result? (b) A larger image now gives a {g}×{g}×{c} feature map; "
                "what is the height of the converted layer's output map?")
        solution = (f"(a) The FC layer sees the whole {f}×{f} map, so K = {f} (one output position). "
                    f"(b) Sliding the {f}×{f} kernel over {g}×{g}: {g} − {f} + 1 = {out}, a {out}×{out} map of "
                    "outputs, one per window position.")
        found = (
            parts.numeric("k", "Kernel size", f, "Correct.", m.first(m.fc_one_output())),
            parts.numeric("out", "Output height", out, "Correct.",
                          m.first(m.kernel_does_not_shrink(g), m.fc_one_output())),
        )
        return Draft(
            title=self.title, stem=stem, parts=found, solution=solution,
            snippet=(IMPORT, f"conv = nn.Conv2d({c}, {units}, {f})",
                     f"(conv(torch.zeros(1, {c}, {f}, {f})).shape[2] == 1 and {f}, "
                     f"conv(torch.zeros(1, {c}, {g}, {g})).shape[2])"),
            expect=(f, out), params=p,
        )


DOUBLING = ((4, 2, 1, 0), (3, 2, 1, 1), (2, 2, 0, 0))
CANDIDATES = ((3, 2, 1, 0), (4, 2, 0, 0), (3, 1, 1, 0), (2, 2, 1, 0), (5, 2, 2, 0), (4, 2, 2, 0), (2, 1, 0, 0))


def config_text(value: Value) -> str:
    assert isinstance(value, tuple)
    k, s, p, op = value
    return f"kernel {k}, stride {s}, padding {p}, output_padding {op}"


@register
class UpsampleDesign(Template):
    id = "upsample_design"
    number = "T28"
    short = "up_design"
    title = "Transposed convolution that doubles the size"
    category = "configure"
    levels = (3, 4)

    def sample(self, rng: Random, level: int, convention: str) -> Params:
        return {"n": pick(rng, 7, 8, 14, 16, 28, 32), "key": list(pick(rng, *DOUBLING))}

    def build(self, p: Params, rng: Random, convention: str) -> Draft:
        n = p["n"]
        key = tuple(p["key"])

        def size(config: tuple[int, ...]) -> int:
            k, s, pad, op = config
            return apply("conv_transpose2d", (1, 1, n, n), out=1, kernel=k, stride=s, padding=pad,
                         output_padding=op).output[2]

        assert size(key) == 2 * n == transposed_output_size(n, key[0], key[1], (key[2], key[2]), 1, key[3])
        wrongs = []
        for config in CANDIDATES:
            got = size(config)
            if got != 2 * n:
                made = (m.config_without_output_padding(config, got) if got == 2 * n - 1 and config[1] == 2
                        else m.config_wrong_size(config, got))
                wrongs += m.first(made)
        rng.shuffle(wrongs)
        part = parts.choice("config", "Configuration", key, "Correct.", wrongs, rng, render=config_text)
        shown = [option.value for option in part.options]
        sizes = tuple(size(config) for config in shown)  # type: ignore[arg-type]
        stem = (f"Which nn.ConvTranspose2d configuration maps a {n}×{n} feature map to exactly {2 * n}×{2 * n} "
                "(dilation 1)?")
        solution = (f"O = (W − 1)·S − 2P + K + output_padding: for {config_text(key)}, ({n} − 1)·{key[1]} − "
                    f"2·{key[2]} + {key[0]} + {key[3]} = {2 * n}. The other options give "
                    + ", ".join(str(s) for s, v in zip(sizes, shown) if v != key)
                    + ". (3, 2, 1, 0) gives 2W − 1: a stride-2 convolution maps both 2W − 1 and 2W to W, "
                    "so its transpose needs output_padding to pick one.")
        configs = ", ".join(f"({', '.join(map(str, c))})" for c in shown)  # type: ignore[arg-type]
        return Draft(
            title=self.title, stem=stem, parts=(part,), solution=solution,
            snippet=(IMPORT, f"x = torch.zeros(1, 1, {n}, {n})",
                     f"tuple(nn.ConvTranspose2d(1, 1, k, s, p, op)(x).shape[2] for k, s, p, op in [{configs}])"),
            expect=(sizes,), params=p,
        )
