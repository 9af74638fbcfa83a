"""Output-size templates: convolution (T01, T02), 'same' padding (T03, T04), the inverse
problem (T05), pooling with ceil_mode (T06) and transposed convolution (T07)."""

from __future__ import annotations

from random import Random

from cnncalc.exam import misconceptions as m
from cnncalc.exam import parts
from cnncalc.exam.engine import apply
from cnncalc.exam.model import Draft
from cnncalc.exam.templates.base import IMPORT, Params, Template, pick, register, span
from cnncalc.exam.text import volume
from cnncalc.window import conv_output_size, same_padding

CLASSIC = (28, 32, 63, 64, 121, 224, 227)


def _conv_axis(rng: Random, level: int, dilation: bool, inexact: bool | None = None) -> Params:
    """n, k, s, p, d for one conv axis: W + 2P ≥ K̂, P ≤ ⌊K̂/2⌋, S ≤ K (no skipped inputs)."""
    while True:
        if level == 1:
            n, k, s = span(rng, 5, 32), pick(rng, 1, 3, 5), 1
        else:
            n = pick(rng, *CLASSIC) if rng.randrange(3) == 0 else span(rng, 7, 64)
            k, s = pick(rng, 2, 3, 4, 5, 7, 11), pick(rng, 1, 2, 2, 3, 4)
        d = pick(rng, 2, 3) if dilation else 1
        k_eff = d * (k - 1) + 1
        p = span(rng, 0, k_eff // 2)
        if s > k or n + 2 * p < k_eff or (k == 1 and s > 1):
            continue
        exact = (n + 2 * p - k_eff) % s == 0
        if inexact is not None and exact == inexact:
            continue
        return {"n": n, "k": k, "s": s, "p": p, "d": d}


def _size_wrongs(a: m.Axis, cout: int) -> list[m.Wrong]:
    return m.first(
        m.no_plus_one(a), m.ignore_stride(a), m.p_instead_of_2p(a), m.ignore_dilation(a),
        m.ceil_instead_of_floor(a), m.padding_twice(a), m.k_times_d(a), m.precedence_error(a),
        m.kernel_sign_error(a), m.depth_as_size(cout),
    )


def conv_words(cin: int, cout: int, k: int, s: int, p: int | str, d: int, convention: str) -> str:
    """How a question names the layer: PyTorch's or Keras's constructor."""
    if convention == "keras":
        extra = f", dilation_rate={d}" if d > 1 else ""
        return f"Conv2D({cout}, kernel_size={k}, strides={s}, padding='{p}'{extra})"
    extra = f", dilation={d}" if d > 1 else ""
    return f"nn.Conv2d({cin}, {cout}, kernel_size={k}, stride={s}, padding={p}{extra})"


def torch_conv(cin: int, cout: int, k: int, s: int, pads: tuple[int, int] | int, d: int = 1) -> str:
    """The torch expression of a conv; asymmetric (Keras 'same') padding as an explicit pad."""
    dil = f", dilation={d}" if d > 1 else ""
    if isinstance(pads, int):
        return f"nn.Conv2d({cin}, {cout}, {k}, stride={s}, padding={pads}{dil})"
    b, e = pads
    return f"nn.Sequential(nn.ZeroPad2d(({b}, {e}, {b}, {e})), nn.Conv2d({cin}, {cout}, {k}, stride={s}{dil}))"


def size_solution(n: int, k: int, s: int, p: int, d: int, out: int) -> str:
    k_eff = d * (k - 1) + 1
    span_text = f"K̂ = D(K − 1) + 1 = {d}·({k} − 1) + 1 = {k_eff}; " if d > 1 else ""
    top = n + 2 * p - k_eff
    return (f"{span_text}O = ⌊(W + 2P − K̂)/S⌋ + 1 = ⌊({n} + 2·{p} − {k_eff})/{s}⌋ + 1 "
            f"= ⌊{top}/{s}⌋ + 1 = {top // s} + 1 = {out}.")


@register
class ConvOutputSize(Template):
    id = "conv_output_size"
    number = "T01"
    short = "conv_out"
    title = "Convolution output size"
    category = "output size"

    def sample(self, rng: Random, level: int, convention: str) -> Params:
        if convention == "keras":
            axis = _conv_axis(rng, max(level, 2), False)
            axis["p"] = pick(rng, "same", "valid")
            while axis["p"] == "valid" and axis["n"] < axis["k"]:
                axis = {**_conv_axis(rng, max(level, 2), False), "p": "valid"}
        else:
            axis = _conv_axis(rng, level, level >= 3 and rng.randrange(2) == 0,
                              True if level == 4 else None)
        return {**axis, "cin": pick(rng, 1, 3, 16, 32, 64), "cout": pick(rng, 6, 8, 16, 32, 64, 96, 128)}

    def build(self, p: Params, rng: Random, convention: str) -> Draft:
        n, k, s, d, cin, cout = p["n"], p["k"], p["s"], p["d"], p["cin"], p["cout"]
        facts = apply("conv2d", (1, cin, n, n), out=cout, kernel=k, stride=s, padding=p["p"], dilation=d)
        out = facts.output[2]
        pad_each = 0 if p["p"] in ("same", "valid") else int(p["p"])
        begin, end = same_padding(n, k, s, d) if p["p"] == "same" else (pad_each, pad_each)
        layer = conv_words(cin, cout, k, s, p["p"], d, convention)
        stem = (f"An input of size {volume(cin, n, n, convention=convention)} goes through {layer}. "
                "What is the height of the output?")
        if p["p"] == "same":
            total = begin + end
            solution = (f"TensorFlow/Keras 'same': O = ⌈W/S⌉ = ⌈{n}/{s}⌉ = {out}. It pads "
                        f"max((O − 1)·S + K − W, 0) = {total} rows: {begin} on top, {end} at the bottom.")
            wrongs = m.first(m.same_keeps_size(n, s), m.same_floored(n, s), m.depth_as_size(cout))
        else:
            axis = m.Axis(n, k, s, pad_each, d)
            solution = size_solution(n, k, s, pad_each, d, out)
            wrongs = _size_wrongs(axis, cout)
        solution += f" The output is {volume(cout, out, out, convention=convention)}."
        part = parts.numeric("h", "Output height", out, f"Correct: {out}.", wrongs)
        pads = (begin, end) if p["p"] == "same" else begin
        return Draft(
            title=self.title, stem=stem, parts=(part,), solution=solution,
            snippet=(IMPORT, f"conv = {torch_conv(cin, cout, k, s, pads, d)}",
                     f"conv(torch.zeros(1, {cin}, {n}, {n})).shape[2]"),
            expect=(out,), params=p,
        )


@register
class ConvOutputVolume(Template):
    id = "conv_output_volume"
    number = "T02"
    short = "conv_vol"
    title = "Convolution output volume"
    category = "output size"
    levels = (1, 2, 3)

    def sample(self, rng: Random, level: int, convention: str) -> Params:
        axis = _conv_axis(rng, level, False)
        cin = pick(rng, 3, 16, 32, 64, 192)
        cout = pick(rng, *(c for c in (6, 8, 16, 32, 64, 96, 128) if c != cin))
        return {**axis, "cin": cin, "cout": cout}

    def build(self, p: Params, rng: Random, convention: str) -> Draft:
        n, k, s, pad, cin, cout = p["n"], p["k"], p["s"], p["p"], p["cin"], p["cout"]
        facts = apply("conv2d", (1, cin, n, n), out=cout, kernel=k, stride=s, padding=pad)
        c, o = facts.output[1], facts.output[2]

        def shape(channels: int, side: int) -> tuple[int, ...]:
            return (side, side, channels) if convention == "keras" else (channels, side, side)

        key = shape(c, o)
        wrongs = m.first(
            m.depth_from_input(shape(cin, o), cin), m.depth_from_kernel(shape(k, o), k),
            m.layout_swapped((o, o, c) if convention != "keras" else (c, o, o)),
            m.no_plus_one_volume(shape(c, o - 1)),
        )
        stem = (f"A {volume(cin, n, n, convention=convention)} input goes through {cout} filters of size "
                f"{k}×{k} with stride {s} and padding {pad} ({conv_words(cin, cout, k, s, pad, 1, convention)}). "
                f"What is the output volume ({'H×W×C' if convention == 'keras' else 'C×H×W'})?")
        solution = (size_solution(n, k, s, pad, 1, o) + f" The depth is the number of filters, {cout}: "
                    f"the output is {volume(c, o, o, convention=convention)}.")
        part = parts.choice("shape", "Output volume", key, "Correct.", wrongs, rng)
        return Draft(
            title=self.title, stem=stem, parts=(part,), solution=solution,
            snippet=(IMPORT, f"y = {torch_conv(cin, cout, k, s, pad)}(torch.zeros(1, {cin}, {n}, {n}))",
                     "tuple(y.shape[2:]) + (y.shape[1],)" if convention == "keras" else "tuple(y.shape[1:])"),
            expect=(key,), params=p,
        )


@register
class SamePadding(Template):
    id = "same_padding"
    number = "T03"
    short = "same_pad"
    title = "Padding that keeps the size"
    category = "output size"

    def sample(self, rng: Random, level: int, convention: str) -> Params:
        k = pick(rng, 3, 5, 7) if level <= 2 else pick(rng, 3, 5, 7, 9)
        d = 1 if level <= 2 else pick(rng, 1, 2, 3)
        return {"n": span(rng, 8, 64), "k": k, "d": d, "c": pick(rng, 3, 16, 32, 64)}

    def build(self, p: Params, rng: Random, convention: str) -> Draft:
        n, k, d, c = p["n"], p["k"], p["d"], p["c"]
        begin, end = same_padding(n, k, 1, d)
        assert begin == end, "an odd span pads symmetrically"
        assert conv_output_size(n, k, 1, (begin, end), d) == n
        dil = f" and dilation {d}" if d > 1 else ""
        stem = (f"A {k}×{k} convolution with stride 1{dil} is applied to a {volume(c, n, n, convention=convention)} "
                "input. Which zero padding P (added on each side) keeps the output at "
                f"{n}×{n}?")
        k_eff = d * (k - 1) + 1
        solution = (f"With stride 1, O = W + 2P − K̂ + 1, so O = W needs 2P = K̂ − 1 with "
                    f"K̂ = {d}·({k} − 1) + 1 = {k_eff}: P = {k_eff - 1}/2 = {begin}.")
        wrongs = m.first(m.half_kernel_up(k), m.full_padding(k_eff), m.same_pad_no_dilation(k, d),
                         m.kernel_as_padding(k))
        part = parts.numeric("p", "Padding P", begin, f"Correct: P = {begin}.", wrongs)
        return Draft(
            title=self.title, stem=stem, parts=(part,), solution=solution,
            snippet=(IMPORT, f"conv = {torch_conv(c, c, k, 1, begin, d)}",
                     f"conv(torch.zeros(1, {c}, {n}, {n})).shape[2]  # == {n}: P = {begin} keeps the size"),
            expect=(n,), params=p,
        )


@register
class TfSamePadding(Template):
    id = "tf_same_padding"
    number = "T04"
    short = "tf_pad"
    title = "TensorFlow/Keras 'same' and 'valid' padding"
    category = "output size"
    levels = (2, 3, 4)

    def sample(self, rng: Random, level: int, convention: str) -> Params:
        while True:
            n, k, s = span(rng, 7, 64), span(rng, 2, 7), pick(rng, 2, 3) if level >= 3 else pick(rng, 1, 2)
            total = sum(same_padding(n, k, s))
            if k <= n and (level < 4 or total % 2 == 1):
                return {"n": n, "k": k, "s": s, "c": pick(rng, 3, 16, 32)}

    def build(self, p: Params, rng: Random, convention: str) -> Draft:
        n, k, s, c = p["n"], p["k"], p["s"], p["c"]
        same = apply("conv2d", (1, c, n, n), out=c, kernel=k, stride=s, padding="same").output[2]
        valid = apply("conv2d", (1, c, n, n), out=c, kernel=k, stride=s, padding="valid").output[2]
        top, bottom = same_padding(n, k, s)
        stem = (f"In Keras, Conv2D(filters={c}, kernel_size={k}, strides={s}) is applied to a {n}×{n}×{c} input "
                "(H×W×C), once with padding='same' and once with padding='valid'. Give the output height "
                "with 'same', the rows of zeros TensorFlow adds on top and at the bottom for 'same', and "
                "the output height with 'valid'.")
        solution = (f"'same': O = ⌈W/S⌉ = ⌈{n}/{s}⌉ = {same}; total padding max((O − 1)·S + K − W, 0) = "
                    f"max({same - 1}·{s} + {k} − {n}, 0) = {top + bottom}, split {top} on top and {bottom} at "
                    f"the bottom (the odd row goes to the bottom). 'valid': O = ⌈(W − K + 1)/S⌉ = "
                    f"⌈{n - k + 1}/{s}⌉ = {valid}.")
        a = m.Axis(n, k, s)
        all_parts = (
            parts.numeric("same", "Output height, 'same'", same, "Correct.",
                          m.first(m.same_keeps_size(n, s), m.same_floored(n, s))),
            parts.numeric("top", "Rows added on top", top, "Correct.", m.first(m.extra_row_on_top(top, bottom))),
            parts.numeric("bottom", "Rows added at the bottom", bottom, "Correct.",
                          m.first(m.extra_row_on_top(bottom, top))),
            parts.numeric("valid", "Output height, 'valid'", valid, "Correct.",
                          m.first(m.no_plus_one(a), m.ceil_instead_of_floor(a), m.ignore_stride(a))),
        )
        return Draft(
            title=self.title, stem=stem, parts=all_parts, solution=solution,
            snippet=(IMPORT, f"x = torch.zeros(1, {c}, {n}, {n})",
                     f"({torch_conv(c, c, k, s, (top, bottom))}(x).shape[2], {top}, {bottom}, "
                     f"{torch_conv(c, c, k, s, 0)}(x).shape[2])"),
            expect=(same, top, bottom, valid), params=p,
        )


@register
class InferStride(Template):
    id = "infer_stride"
    number = "T05"
    short = "inverse"
    title = "Inverse problem: which stride?"
    category = "configure"
    levels = (2, 3, 4)
    MAX_STRIDE = 6

    def solutions(self, n: int, k: int, p: int, d: int, out: int) -> list[int]:
        """Every stride in 1..MAX_STRIDE that maps n to out (the question states that range)."""
        return [s for s in range(1, self.MAX_STRIDE + 1) if conv_output_size(n, k, s, (p, p), d) == out]

    def sample(self, rng: Random, level: int, convention: str) -> Params:
        while True:
            axis = _conv_axis(rng, 2, level >= 4 and rng.randrange(2) == 0)
            if axis["s"] == 1 and rng.randrange(3):
                continue
            n, k, s, p, d = axis["n"], axis["k"], axis["s"], axis["p"], axis["d"]
            out = conv_output_size(n, k, s, (p, p), d)
            if self.solutions(n, k, p, d, out) == [s]:  # emitted only when the answer is unique
                return {"n": n, "k": k, "p": p, "d": d, "out": out, "c": pick(rng, 3, 16, 64)}

    def build(self, p: Params, rng: Random, convention: str) -> Draft:
        n, k, pad, d, out, c = p["n"], p["k"], p["p"], p["d"], p["out"], p["c"]
        (stride,) = self.solutions(n, k, pad, d, out)
        assert apply("conv2d", (1, c, n, n), out=c, kernel=k, stride=stride, padding=pad,
                     dilation=d).output[2] == out
        dil = f", dilation {d}" if d > 1 else ""
        stem = (f"A {k}×{k} convolution with padding {pad}{dil} maps a {n}×{n} input to a {out}×{out} "
                f"output. Its stride is an integer from 1 to {self.MAX_STRIDE}. What is it?")
        k_eff = d * (k - 1) + 1
        top = n + 2 * pad - k_eff
        solution = (f"O = ⌊(W + 2P − K̂)/S⌋ + 1 with W + 2P − K̂ = {n} + {2 * pad} − {k_eff} = {top}: "
                    f"⌊{top}/S⌋ = {out - 1}. Trying S = 1…{self.MAX_STRIDE}, only S = {stride} gives "
                    f"{out} (⌊{top}/{stride}⌋ + 1 = {top // stride + 1}), so the answer is unique.")
        wrongs = m.first(m.stride_from_ratio(n, out), m.stride_unfloored(top, out))
        part = parts.numeric("s", "Stride", stride, f"Correct: S = {stride}.", wrongs)
        return Draft(
            title=self.title, stem=stem, parts=(part,), solution=solution,
            snippet=(IMPORT, f"x = torch.zeros(1, {c}, {n}, {n})",
                     f"[s for s in range(1, {self.MAX_STRIDE + 1}) if "
                     f"nn.Conv2d({c}, {c}, {k}, stride=s, padding={pad}{', dilation=' + str(d) if d > 1 else ''})"
                     f"(x).shape[2] == {out}]"),
            expect=((stride,),), params=p,
        )


@register
class PoolOutputSize(Template):
    id = "pool_output_size"
    number = "T06"
    short = "pool_out"
    title = "Pooling output size (floor and ceil_mode)"
    category = "output size"
    levels = (2, 3, 4)

    def sample(self, rng: Random, level: int, convention: str) -> Params:
        while True:
            n = pick(rng, 55, 56, 112, 113, 224) if rng.randrange(3) == 0 else span(rng, 5, 64)
            k, s = pick(rng, 2, 3), pick(rng, 1, 2, 2, 3)
            pad = span(rng, 0, k // 2) if level >= 3 else 0
            if convention == "keras":
                pad = pick(rng, "valid", "same")
                ceil_mode = False
            else:
                ceil_mode = level >= 3 and rng.randrange(3) > 0
            if s > k or n < k:
                continue
            if isinstance(pad, int):
                a = m.Axis(n, k, s, pad)
                if level >= 3 and a.top % s == 0:
                    continue  # every level-3+ variant hits the floor/ceil difference
                naive = -(-a.top // s) + 1
                corrected = conv_output_size(n, k, s, (pad, pad), ceil_mode=True)
                if level == 4 and ceil_mode and naive == corrected:
                    continue  # level 4 exercises PyTorch's correction of the last window
            return {"n": n, "k": k, "s": s, "p": pad, "ceil": ceil_mode, "c": pick(rng, 16, 64, 96, 192)}

    def build(self, p: Params, rng: Random, convention: str) -> Draft:
        n, k, s, pad, ceil_mode, c = p["n"], p["k"], p["s"], p["p"], p["ceil"], p["c"]
        facts = apply("maxpool2d", (1, c, n, n), kernel=k, stride=s, padding=pad, ceil_mode=ceil_mode)
        out = facts.output[2]
        if convention == "keras":
            layer = f"MaxPooling2D(pool_size={k}, strides={s}, padding='{pad}')"
        else:
            layer = f"nn.MaxPool2d({k}, stride={s}, padding={pad}, ceil_mode={ceil_mode})"
        stem = f"A {volume(c, n, n, convention=convention)} feature map goes through {layer}. What is the output height?"
        if isinstance(pad, str):
            begin, end = same_padding(n, k, s) if pad == "same" else (0, 0)
            a = m.Axis(n, k, s)
            if pad == "same":
                solution = f"'same': O = ⌈W/S⌉ = ⌈{n}/{s}⌉ = {out} (TensorFlow pads {begin} + {end} with −∞)."
                wrongs = m.first(m.same_keeps_size(n, s), m.same_floored(n, s), m.halves(a))
            else:
                solution = f"'valid': O = ⌊(W − K)/S⌋ + 1 = ⌊{n - k}/{s}⌋ + 1 = {out}."
                wrongs = m.first(m.no_plus_one(a), m.ceil_instead_of_floor(a), m.halves(a))
            torch_layer = (f"nn.Sequential(nn.ConstantPad2d(({begin}, {end}, {begin}, {end}), float('-inf')), "
                           f"nn.MaxPool2d({k}, stride={s}))")
        else:
            a = m.Axis(n, k, s, pad)
            floor_out = a.top // s + 1
            if ceil_mode:
                naive = -(-a.top // s) + 1
                solution = (f"ceil_mode=True: O = ⌈(W + 2P − K)/S⌉ + 1 = ⌈{a.top}/{s}⌉ + 1 = {naive}")
                if naive != out:
                    solution += (f"; but the last window would start at ({naive} − 1)·{s} = {(naive - 1) * s} ≥ "
                                 f"W + P = {n + pad}, inside the right padding, so PyTorch drops it: O = {out}.")
                else:
                    solution += f" (the last window starts inside the input, so it is kept): O = {out}."
                wrongs = m.first(m.floor_when_ceil(a), m.naive_ceil(a), m.halves(a), m.no_plus_one(a))
            else:
                solution = f"O = ⌊(W + 2P − K)/S⌋ + 1 = ⌊{a.top}/{s}⌋ + 1 = {floor_out}."
                wrongs = m.first(m.ceil_instead_of_floor(a), m.halves(a), m.no_plus_one(a),
                                 m.p_instead_of_2p(a))
            torch_layer = f"nn.MaxPool2d({k}, stride={s}, padding={pad}, ceil_mode={ceil_mode})"
        solution += f" Pooling keeps the depth: {volume(c, out, out, convention=convention)}."
        part = parts.numeric("h", "Output height", out, f"Correct: {out}.", wrongs)
        return Draft(
            title=self.title, stem=stem, parts=(part,), solution=solution,
            snippet=(IMPORT, f"pool = {torch_layer}", f"pool(torch.zeros(1, {c}, {n}, {n})).shape[2]"),
            expect=(out,), params=p,
        )


@register
class TransposedOutputSize(Template):
    id = "transposed_output_size"
    number = "T07"
    short = "convt_out"
    title = "Transposed convolution output size"
    category = "output size"
    levels = (2, 3, 4)

    def sample(self, rng: Random, level: int, convention: str) -> Params:
        while True:
            n, k, s = span(rng, 2, 32), pick(rng, 2, 3, 4, 5), pick(rng, 1, 2, 2, 3)
            d = pick(rng, 1, 2) if level == 4 else 1
            pad = span(rng, 0, k - 1) if level >= 3 else span(rng, 0, 1)
            op = span(rng, 0, max(s, d) - 1) if level >= 3 else 0
            if (n - 1) * s - 2 * pad + d * (k - 1) + op + 1 > 0:
                return {"n": n, "k": k, "s": s, "p": pad, "op": op, "d": d, "cin": pick(rng, 16, 32, 64),
                        "cout": pick(rng, 3, 8, 16, 32)}

    def build(self, p: Params, rng: Random, convention: str) -> Draft:
        n, k, s, pad, op, d, cin, cout = (p[x] for x in ("n", "k", "s", "p", "op", "d", "cin", "cout"))
        facts = apply("conv_transpose2d", (1, cin, n, n), out=cout, kernel=k, stride=s, padding=pad,
                      output_padding=op, dilation=d)
        out = facts.output[2]
        extra = (f", output_padding={op}" if op else "") + (f", dilation={d}" if d > 1 else "")
        layer = f"nn.ConvTranspose2d({cin}, {cout}, kernel_size={k}, stride={s}, padding={pad}{extra})"
        stem = f"A {volume(cin, n, n, convention=convention)} input goes through {layer} (PyTorch). What is the output height?"
        solution = (f"O = (W − 1)·S − 2P + D(K − 1) + output_padding + 1 = ({n} − 1)·{s} − 2·{pad} + "
                    f"{d}·({k} − 1) + {op} + 1 = {out}.")
        a = m.TAxis(n, k, s, pad, op, d)
        wrongs = m.first(m.conv_formula_for_transposed(a), m.plus_2p_transposed(a), m.times_stride(a),
                         m.ignore_output_padding(a), m.forgot_minus_2p(a))
        part = parts.numeric("h", "Output height", out, f"Correct: {out}.", wrongs)
        torch_extra = (f", output_padding={op}" if op else "") + (f", dilation={d}" if d > 1 else "")
        return Draft(
            title=self.title, stem=stem, parts=(part,), solution=solution,
            snippet=(IMPORT, f"up = nn.ConvTranspose2d({cin}, {cout}, {k}, stride={s}, padding={pad}{torch_extra})",
                     f"up(torch.zeros(1, {cin}, {n}, {n})).shape[2]"),
            expect=(out,), params=p,
        )
