"""A multi-part shape trace of a small network (T30): every layer's output size and every
parameter count, one blank each (a Moodle Cloze question, several numeric questions elsewhere)."""

from __future__ import annotations

from random import Random
from typing import Any

from cnncalc.exam import misconceptions as m
from cnncalc.exam import parts
from cnncalc.exam.engine import chain
from cnncalc.exam.model import Draft, Part
from cnncalc.exam.templates.base import IMPORT, Params, Template, pick, register
from cnncalc.exam.text import num, volume


@register
class ShapeTrace(Template):
    id = "shape_trace"
    number = "T30"
    short = "trace"
    title = "Shape trace of a small network"
    category = "shape trace"
    levels = (2, 3, 4)

    def sample(self, rng: Random, level: int, convention: str) -> Params:
        while True:
            n, c = pick(rng, 28, 32, 64), pick(rng, 1, 3)
            convs = []
            side = n
            for _ in range(2):
                k = pick(rng, 3, 5)
                s = pick(rng, 1, 1, 2) if level >= 4 else 1
                pad = pick(rng, 0, k // 2)
                convs.append({"out": pick(rng, 8, 16, 32, 64), "k": k, "s": s, "p": pad})
                side = ((side + 2 * pad - k) // s + 1) // 2
            if side >= 1:
                return {"n": n, "c": c, "convs": convs, "units": pick(rng, 10, 32, 64, 100)}

    def layers(self, p: Params) -> list[tuple[str, dict[str, Any]]]:
        registry: list[tuple[str, dict[str, Any]]] = []
        for conv in p["convs"]:
            registry += [("conv2d", {"out": conv["out"], "kernel": conv["k"], "stride": conv["s"],
                                     "padding": conv["p"]}),
                         ("maxpool2d", {"kernel": 2})]
        return [*registry, ("flatten", {}), ("linear", {"out": p["units"]})]

    def build(self, p: Params, rng: Random, convention: str) -> Draft:
        n, c = p["n"], p["c"]
        facts = chain((1, c, n, n), self.layers(p))
        blanks: list[Part] = []
        lines, torch, steps = [], [], []
        channels, side = c, n
        for index, conv in enumerate(p["convs"]):
            cv, pool = facts[2 * index], facts[2 * index + 1]
            k, s, pad = conv["k"], conv["s"], conv["p"]
            o, po = cv.output[2], pool.output[2]
            lines.append(f"- conv{index + 1}: {conv['out']} filters {k}×{k}, stride {s}, padding {pad}, with bias")
            lines.append(f"- pool{index + 1}: 2×2 max pooling, stride 2")
            torch += [f"nn.Conv2d({channels}, {conv['out']}, {k}, stride={s}, padding={pad})", "nn.MaxPool2d(2)"]
            a = m.Axis(side, k, s, pad)
            blanks.append(parts.numeric(f"conv{index + 1}", f"conv{index + 1} output height", o, "Correct.",
                                        m.first(m.no_plus_one(a), m.ignore_stride(a), m.p_instead_of_2p(a))))
            params = m.ConvParams((k, k), channels, conv["out"])
            blanks.append(parts.numeric(f"conv{index + 1}_params", f"conv{index + 1} parameters", cv.params,
                                        "Correct.", m.first(m.forgot_bias(params), m.forgot_cin(params))))
            blanks.append(parts.numeric(f"pool{index + 1}", f"pool{index + 1} output height", po, "Correct.",
                                        m.first(m.ceil_instead_of_floor(m.Axis(o, 2, 2)))))
            steps.append(f"conv{index + 1}: ⌊({side} + 2·{pad} − {k})/{s}⌋ + 1 = {o}, params "
                         f"{conv['out']}·({k}·{k}·{channels}) + {conv['out']} = {num(cv.params)}; "
                         f"pool{index + 1}: ⌊{o}/2⌋ = {po}")
            channels, side = conv["out"], po
        flat, dense = facts[-2], facts[-1]
        lines += ["- Flatten", f"- Linear with {p['units']} units"]
        torch += ["nn.Flatten()", f"nn.Linear({flat.output[1]}, {p['units']})"]
        blanks.append(parts.numeric("flatten", "Flatten length", flat.output[1], "Correct.",
                                    m.first(m.forgot_channels_flat(side * side))))
        d = m.DenseParams(side, side, channels, p["units"])
        blanks.append(parts.numeric("dense_params", "Linear parameters", dense.params, "Correct.",
                                    m.first(m.forgot_dense_bias(d), m.forgot_flatten(d))))
        steps.append(f"Flatten: {side}·{side}·{channels} = {num(flat.output[1])}; Linear: "
                     f"{num(flat.output[1])}·{p['units']} + {p['units']} = {num(dense.params)}")
        stem = (f"Trace a {volume(c, n, n, convention=convention)} input through this network:\n\n"
                + "\n".join(lines) + "\n\n"
                "Give each layer's output height, the parameters of the convolutions and of the linear layer, "
                "and the length of the flattened vector.")
        shapes = tuple(f.output[1:] for f in facts)
        return Draft(
            title=self.title, stem=stem, parts=tuple(blanks), solution="; ".join(steps) + ".",
            snippet=(IMPORT, f"m, x = nn.Sequential({', '.join(torch)}), torch.zeros(1, {c}, {n}, {n})",
                     "shapes = [tuple((x := layer(x)).shape[1:]) for layer in m]",
                     "(tuple(shapes), tuple(sum(q.numel() for q in layer.parameters()) for layer in m))"),
            expect=(shapes, tuple(f.params for f in facts)), params=p, device="cpu",
        )
