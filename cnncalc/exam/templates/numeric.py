"""Numbers by hand: 1-D (T19) and 2-D (T20) convolution, the convolution matrix (T21),
transposed convolution (T22), pooling (T23) and unpooling (T24). Keys come from
cnncalc.calc.numeric (exact ints and Fractions); torch recomputes them on float64 tensors."""

from __future__ import annotations

from collections.abc import Sequence
from random import Random
from typing import Any

from cnncalc.calc import numeric
from cnncalc.errors import ShapeError
from cnncalc.exam import misconceptions as m
from cnncalc.exam import parts
from cnncalc.exam.model import Draft, Figure, Matrix, Number, Value
from cnncalc.exam.templates.base import Params, Template, pick, register, span
from cnncalc.exam.text import entry, matrix_text, vector_text

IMPORT_F = "import torch, torch.nn.functional as F"
KERNELS_2D = {
    "vertical edge": [[1, 0, -1], [1, 0, -1], [1, 0, -1]],
    "horizontal edge": [[1, 1, 1], [0, 0, 0], [-1, -1, -1]],
    "Sobel": [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
    "box (sum)": [[1, 1, 1], [1, 1, 1], [1, 1, 1]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "diagonal": [[1, 0], [0, -1]],
    "2×2 sum": [[1, 1], [1, 1]],
}


def as_matrix(rows: Sequence[Sequence[Number]]) -> Matrix:
    return tuple(tuple(row) for row in rows)


def tensor(rows: Sequence[Sequence[Number]]) -> str:
    """A float64 torch literal of a matrix, batch and channel axes added."""
    return f"torch.tensor([[{matrix_text(as_matrix(rows))}]], dtype=torch.float64)"


def tryit(function: Any, *args: Any, **kwargs: Any) -> Any:
    """A misconception's computation, or None where it does not apply (the shape does not fit)."""
    try:
        return function(*args, **kwargs)
    except ShapeError:
        return None


def image(rng: Random, rows: int, cols: int, low: int = 0, high: int = 9) -> list[list[int]]:
    return [[span(rng, low, high) for _ in range(cols)] for _ in range(rows)]


def factor(value: Number) -> str:
    """A number in a product: negatives in parentheses, (−1)·3."""
    return f"({entry(value)})" if value < 0 else entry(value)


def _expand(x: Sequence[Sequence[Number]], w: Sequence[Sequence[Number]], s: int, p: int) -> str:
    """Output (0, 0) written out term by term."""
    padded = numeric.pad2d(x, numeric.symmetric(p))
    terms = [f"{factor(w[a][b])}·{factor(padded[a][b])}" for a in range(len(w)) for b in range(len(w[0]))]
    value = sum(w[a][b] * padded[a][b] for a in range(len(w)) for b in range(len(w[0])))
    return " + ".join(terms) + f" = {entry(value)}"


@register
class Conv1dByHand(Template):
    id = "conv1d_by_hand"
    number = "T19"
    short = "conv1d_hand"
    title = "1-D convolution by hand"
    category = "numeric"

    def sample(self, rng: Random, level: int, convention: str) -> Params:
        k = pick(rng, 2, 3)
        w = pick(rng, [1, 0, -1], [-1, 2, -1], [1, 1, 1], [1, 2, 1], [2, -1, 1]) if k == 3 else pick(rng, [1, -1], [1, 1], [2, 1])
        return {"x": [span(rng, 0, 9) for _ in range(span(rng, 5, 9))], "w": w,
                "s": 1 if level == 1 else pick(rng, 1, 2), "p": 0 if level == 1 else pick(rng, 0, 1)}

    def build(self, p: Params, rng: Random, convention: str) -> Draft:
        x, w, s, pad = p["x"], p["w"], p["s"], p["p"]
        key = tuple(numeric.conv2d([x], [w], stride=(1, s), padding=(0, pad))[0])
        flipped = tuple(numeric.conv2d([x], [w[::-1]], stride=(1, s), padding=(0, pad))[0])
        wrongs = m.first(
            m.flipped_kernel(flipped if flipped != key else None),
            m.padding_omitted(tuple(numeric.conv2d([x], [w], stride=(1, s))[0]) if pad else None),
            m.stride_ignored_by_hand(tuple(numeric.conv2d([x], [w], padding=(0, pad))[0]) if s > 1 else None),
        )
        stem = (f"A 1-D convolution layer (PyTorch's Conv1d: cross-correlation, no kernel flip) with kernel "
                f"w = {vector_text(w)}, stride {s}, zero padding {pad} on each side and no bias is applied to "
                f"x = {vector_text(x)}. What is the output?")
        padded = [0] * pad + x + [0] * pad
        steps = [f"y[{i}] = " + " + ".join(f"{factor(w[j])}·{padded[i * s + j]}" for j in range(len(w))) + f" = {entry(v)}"
                 for i, v in enumerate(key)]
        solution = (f"Pad x with {pad} zero(s) on each side: {vector_text(padded)}. Slide w with stride {s}: "
                    + "; ".join(steps) + f". Output {vector_text(key)}.")
        part = parts.choice("y", "Output", key, "Correct.", wrongs, rng, render=lambda v: vector_text(v),  # type: ignore[arg-type]
                            filler=_perturb_vector(key))
        return Draft(
            title=self.title, stem=stem, parts=(part,), solution=solution,
            snippet=(IMPORT_F, f"x, w = torch.tensor([[{x}]], dtype=torch.float64), torch.tensor([[{w}]], dtype=torch.float64)",
                     f"F.conv1d(x, w, stride={s}, padding={pad})[0, 0]"),
            expect=(key,), params=p, device="cpu",
        )


def _perturb_vector(key: tuple[Number, ...]) -> Any:
    def draw(rng: Random) -> Value:
        index = rng.randrange(len(key))
        return tuple(v + (rng.choice((-2, -1, 1, 2)) if i == index else 0) for i, v in enumerate(key))
    return draw


def _perturb_matrix(key: Matrix) -> Any:
    def draw(rng: Random) -> Value:
        r, c = rng.randrange(len(key)), rng.randrange(len(key[0]))
        return tuple(tuple(v + (rng.choice((-2, -1, 1, 2)) if (i, j) == (r, c) else 0) for j, v in enumerate(row))
                     for i, row in enumerate(key))
    return draw


@register
class Conv2dByHand(Template):
    id = "conv2d_by_hand"
    number = "T20"
    short = "conv2d_hand"
    title = "2-D convolution by hand"
    category = "numeric"

    def sample(self, rng: Random, level: int, convention: str) -> Params:
        name = pick(rng, *KERNELS_2D)
        k = len(KERNELS_2D[name])
        size = span(rng, max(4, k + 1), 6)
        return {"x": image(rng, size, size), "kernel": name, "s": 1 if level == 1 else pick(rng, 1, 2),
                "p": 0 if level <= 2 else pick(rng, 0, 1)}

    def build(self, p: Params, rng: Random, convention: str) -> Draft:
        x, w, s, pad = p["x"], p.get("w") or KERNELS_2D[p["kernel"]], p["s"], p["p"]
        key = as_matrix(numeric.conv2d(x, w, stride=s, padding=pad))
        flipped = as_matrix(numeric.conv2d(x, [row[::-1] for row in w[::-1]], stride=s, padding=pad))
        wrongs = m.first(
            m.flipped_kernel(flipped if flipped != key else None),
            m.padding_omitted(as_matrix(numeric.conv2d(x, w, stride=s)) if pad else None),
            m.stride_ignored_by_hand(as_matrix(numeric.conv2d(x, w, padding=pad)) if s > 1 else None),
        )
        stem = (f"The {len(x)}×{len(x[0])} image X is filtered with the {len(w)}×{len(w[0])} kernel W "
                f"(cross-correlation, as nn.Conv2d computes it; stride {s}, zero padding {pad}, no bias). What "
                "is the output?")
        solution = (f"Output size ⌊({len(x)} + 2·{pad} − {len(w)})/{s}⌋ + 1 = {len(key)} per side. Output (0, 0) "
                    f"= {_expand(x, w, s, pad)}. All outputs: {matrix_text(key)}.")
        part = parts.choice("y", "Output", key, "Correct.", wrongs, rng, render=matrix_text,  # type: ignore[arg-type]
                            filler=_perturb_matrix(key))
        return Draft(
            title=self.title, stem=stem, parts=(part,), solution=solution,
            figures=(Figure("X", as_matrix(x)), Figure("W", as_matrix(w))),
            snippet=(IMPORT_F, f"x, w = {tensor(x)}, {tensor(w)}", f"F.conv2d(x, w, stride={s}, padding={pad})[0, 0]"),
            expect=(key,), params=p, device="cpu",
        )


@register
class ToeplitzMatrix(Template):
    id = "toeplitz"
    number = "T21"
    short = "toeplitz"
    title = "Convolution as a matrix product"
    category = "numeric"
    levels = (2, 3, 4)

    def sample(self, rng: Random, level: int, convention: str) -> Params:
        k = pick(rng, 2, 3)
        w = [pick(rng, 1, 2, 3, -1, -2) for _ in range(k)]
        while w == w[::-1]:  # a palindrome would make the flipped-kernel distractor the key
            w = [pick(rng, 1, 2, 3, -1, -2) for _ in range(k)]
        return {"n": span(rng, 4, 6), "w": w, "s": 1 if level == 2 else pick(rng, 1, 2)}

    def build(self, p: Params, rng: Random, convention: str) -> Draft:
        n, w, s = p["n"], p["w"], p["s"]
        matrix = as_matrix(numeric.toeplitz((1, n), [w], stride=(1, s)))
        rows, cols = len(matrix), len(matrix[0])
        taps = rows * len(w)  # every row holds the whole kernel (no padding)
        reversed_kernel = as_matrix(numeric.toeplitz((1, n), [w[::-1]], stride=(1, s)))
        stride_one = as_matrix(numeric.toeplitz((1, n), [w], stride=1))
        transposed = tuple(zip(*matrix))
        stem = (f"The 1-D convolution y = w ⋆ x with kernel w = {vector_text(w)}, stride {s}, no padding, on an input "
                f"of length {n} can be written y = C·x. How many rows and columns does C have, how many of its "
                "entries hold a kernel weight, and which matrix is C?")
        solution = (f"Output length ⌊({n} − {len(w)})/{s}⌋ + 1 = {rows}: C is {rows}×{cols}. Row i holds w at columns "
                    f"{s}·i … {s}·i + {len(w) - 1}, so {rows}·{len(w)} = {taps} entries are weights. C = "
                    f"{matrix_text(matrix)}. The transposed convolution multiplies by Cᵀ ({cols}×{rows}).")
        found = (
            parts.numeric("rows", "Rows of C", rows, "Correct.", m.first(m.transposed_matrix(cols))),
            parts.numeric("cols", "Columns of C", cols, "Correct.", m.first(m.transposed_matrix(rows))),
            parts.numeric("taps", "Entries holding a weight", taps, "Correct.", []),
            parts.choice("matrix", "The matrix C", matrix, "Correct.",
                         m.first(m.flipped_kernel(reversed_kernel if reversed_kernel != matrix else None),
                                 m.stride_ignored_by_hand(stride_one if s > 1 else None),
                                 m.transposed_matrix(transposed)),
                         rng, render=matrix_text, filler=_perturb_matrix(matrix)),  # type: ignore[arg-type]
        )
        return Draft(
            title=self.title, stem=stem, parts=found, solution=solution,
            snippet=(IMPORT_F, f"w = torch.tensor([[{w}]], dtype=torch.float64); "
                               f"C = torch.autograd.functional.jacobian(lambda x: F.conv1d(x.view(1, 1, -1), w, "
                               f"stride={s})[0, 0], torch.zeros({n}))",
                     "(C.shape[0], C.shape[1], int(C.ne(0).sum()), C)"),
            expect=(rows, cols, taps, matrix), params=p, device="cpu",
        )


@register
class TransposedByHand(Template):
    id = "transposed_by_hand"
    number = "T22"
    short = "convt_hand"
    title = "Transposed convolution by hand"
    category = "numeric"
    levels = (2, 3, 4)

    def sample(self, rng: Random, level: int, convention: str) -> Params:
        if level == 2 or rng.randrange(2):
            return {"x": [[span(rng, 1, 3) for _ in range(span(rng, 2, 3))]],
                    "w": [[span(rng, -1, 3) or 1 for _ in range(pick(rng, 2, 3))]], "s": pick(rng, 2, 2, 1)}
        return {"x": image(rng, 2, 2, 0, 3), "w": image(rng, 2, 2, 0, 3), "s": pick(rng, 1, 2)}

    def build(self, p: Params, rng: Random, convention: str) -> Draft:
        x, w, s = p["x"], p["w"], p["s"]
        one_d = len(x) == 1
        stride = (1, s) if one_d else s
        key = as_matrix(numeric.conv_transpose2d(x, w, stride=stride))
        wrongs = m.first(
            m.overlaps_overwritten(as_matrix(m.scatter_overwrite(x, w, stride if isinstance(stride, tuple) else (s, s)))
                                   if s < max(len(w), len(w[0])) else None),
            m.conv_instead_of_transpose(_maybe(tryit(numeric.conv2d, x, w)) or _maybe(tryit(numeric.conv2d, w, x))),
        )
        kind = "1-D" if one_d else "2-D"
        stem = (f"A {kind} transposed convolution (nn.ConvTranspose{'1' if one_d else '2'}d, no padding, no bias) with "
                f"stride {s} is applied to the input X with the kernel W. What is the output?")
        solution = ("Each input value scales a copy of the kernel, placed at stride × its position; overlapping "
                    f"copies add up. Output size (W − 1)·S + K = ({len(x[0])} − 1)·{s} + {len(w[0])} = {len(key[0])}"
                    f"{'' if one_d else ' per side'}. Output: {matrix_text(key) if not one_d else vector_text(key[0])}.")
        render = (lambda v: vector_text(v[0])) if one_d else matrix_text
        part = parts.choice("y", "Output", key, "Correct.", wrongs, rng, render=render,  # type: ignore[arg-type]
                            filler=_perturb_matrix(key))
        if one_d:
            snippet = (IMPORT_F, f"x, w = torch.tensor([{x}], dtype=torch.float64), torch.tensor([{w}], dtype=torch.float64)",
                       f"F.conv_transpose1d(x, w, stride={s})[0]")
            expect: tuple[Value, ...] = (key,)
        else:
            snippet = (IMPORT_F, f"x, w = {tensor(x)}, {tensor(w)}", f"F.conv_transpose2d(x, w, stride={s})[0, 0]")
            expect = (key,)
        return Draft(title=self.title, stem=stem, parts=(part,), solution=solution,
                     figures=(Figure("X", as_matrix(x)), Figure("W", as_matrix(w))),
                     snippet=snippet, expect=expect, params=p, device="cpu")


def _maybe(value: Any) -> Matrix | None:
    return None if value is None else as_matrix(value)


@register
class PoolByHand(Template):
    id = "pool_by_hand"
    number = "T23"
    short = "pool_hand"
    title = "Pooling by hand"
    category = "numeric"
    levels = (2, 3, 4)

    def sample(self, rng: Random, level: int, convention: str) -> Params:
        k = pick(rng, 2, 3)
        size = span(rng, 4, 6)
        low = -9 if level == 4 else 0
        return {"x": image(rng, size, size, low, 9), "k": k, "s": pick(rng, 1, 2) if level > 2 else k,
                "p": span(rng, 0, k // 2) if level >= 3 else 0, "mode": pick(rng, "max", "avg"),
                "include_pad": level < 4 or rng.randrange(2) == 0}

    def build(self, p: Params, rng: Random, convention: str) -> Draft:
        x, k, s, pad, mode, include = p["x"], p["k"], p["s"], p["p"], p["mode"], p["include_pad"]
        result, _ = numeric.pool2d(x, k, s, pad, mode=mode, count_include_pad=include)
        key = as_matrix(result)
        padded_zero = numeric.pad2d(x, numeric.symmetric(pad))
        zero_max = as_matrix(numeric.pool2d(padded_zero, k, s, 0, mode="max")[0]) if mode == "max" and pad else None
        other_divisor = (as_matrix(numeric.pool2d(x, k, s, pad, mode="avg", count_include_pad=not include)[0])
                         if mode == "avg" and pad else None)
        stride_one = as_matrix(numeric.pool2d(x, k, 1, pad, mode=mode, count_include_pad=include)[0]) if s > 1 else None
        wrongs = m.first(m.zero_padded_max(zero_max if zero_max != key else None),
                         m.wrong_divisor(other_divisor if other_divisor != key else None, include),
                         m.stride_ignored_by_hand(stride_one))
        if mode == "max":
            layer = f"nn.MaxPool2d({k}, stride={s}, padding={pad})"
            call = f"F.max_pool2d(x, {k}, stride={s}, padding={pad})[0, 0]"
        else:
            layer = f"nn.AvgPool2d({k}, stride={s}, padding={pad}, count_include_pad={include})"
            call = f"F.avg_pool2d(x, {k}, stride={s}, padding={pad}, count_include_pad={include})[0, 0]"
        stem = f"The {len(x)}×{len(x)} map X goes through {layer}. What is the output?"
        rule = ("max pooling pads with −∞, so padding never wins" if mode == "max" else
                "average pooling divides by " + ("the whole window, padding included" if include else
                                                 "the real inputs in the window"))
        solution = (f"Output size ⌊({len(x)} + 2·{pad} − {k})/{s}⌋ + 1 = {len(key)} per side; {rule}. "
                    f"Output: {matrix_text(key)}.")
        part = parts.choice("y", "Output", key, "Correct.", wrongs, rng, render=matrix_text,  # type: ignore[arg-type]
                            filler=_perturb_matrix(key))
        return Draft(title=self.title, stem=stem, parts=(part,), solution=solution,
                     figures=(Figure("X", as_matrix(x)),),
                     snippet=(IMPORT_F, f"x = {tensor(x)}", call), expect=(key,), params=p, device="cpu")


@register
class UnpoolByHand(Template):
    id = "unpool_by_hand"
    number = "T24"
    short = "unpool_hand"
    title = "Unpooling: nearest, bed of nails, max-unpooling"
    category = "numeric"
    levels = (2, 3)

    def sample(self, rng: Random, level: int, convention: str) -> Params:
        values = list(range(1, 17))
        rng.shuffle(values)  # distinct values: the argmax of every window is unambiguous
        return {"x": [values[i * 4:(i + 1) * 4] for i in range(4)],
                "variant": pick(rng, "max_unpool", "max_unpool", "nearest", "bed_of_nails")}

    def build(self, p: Params, rng: Random, convention: str) -> Draft:
        x, variant = p["x"], p["variant"]
        pooled, indices = numeric.pool2d(x, 2)
        assert indices is not None
        nearest = as_matrix(numeric.nearest_upsample2d(pooled, 2))
        nails = as_matrix(numeric.bed_of_nails2d(pooled, 2))
        unpooled = as_matrix(numeric.max_unpool2d(pooled, indices, 4))
        key = {"max_unpool": unpooled, "nearest": nearest, "bed_of_nails": nails}[variant]
        wrongs = m.first(
            m.bed_of_nails_for_unpool(nails if variant != "bed_of_nails" and nails != key else None),
            m.nearest_for_unpool(nearest if variant != "nearest" else None),
            m.max_unpool_elsewhere(unpooled if variant != "max_unpool" and unpooled != key else None),
        )
        what = {"max_unpool": "max-unpooling (nn.MaxUnpool2d(2) with the pooling's indices)",
                "nearest": "nearest-neighbour upsampling by 2",
                "bed_of_nails": "bed-of-nails unpooling by 2 (each value at the top-left of its 2×2 block)"}[variant]
        stem = (f"The 4×4 map X goes through a 2×2 max pooling with stride 2, giving {matrix_text(as_matrix(pooled))}. "
                f"That result is upsampled back to 4×4 with {what}. What is the 4×4 result?")
        solution = {
            "max_unpool": "Max-unpooling puts each pooled value where its maximum came from (flat indices "
                          f"{matrix_text(as_matrix(indices))}) and zeros elsewhere: {matrix_text(unpooled)}.",
            "nearest": f"Nearest-neighbour repeats each value over its 2×2 block: {matrix_text(nearest)}.",
            "bed_of_nails": f"Bed of nails puts each value at the top-left of its block: {matrix_text(nails)}.",
        }[variant]
        part = parts.choice("y", "Result", key, "Correct.", wrongs, rng, render=matrix_text,  # type: ignore[arg-type]
                            filler=_perturb_matrix(key))
        call = {
            "max_unpool": "F.max_unpool2d(*F.max_pool2d(x, 2, return_indices=True), 2)[0, 0]",
            "nearest": "F.interpolate(F.max_pool2d(x, 2), scale_factor=2, mode='nearest')[0, 0]",
            "bed_of_nails": "F.conv_transpose2d(F.max_pool2d(x, 2), torch.tensor([[[[1., 0.], [0., 0.]]]], "
                            "dtype=torch.float64), stride=2)[0, 0]",
        }[variant]
        return Draft(title=self.title, stem=stem, parts=(part,), solution=solution,
                     figures=(Figure("X", as_matrix(x)),), snippet=(IMPORT_F, f"x = {tensor(x)}", call),
                     expect=(key,), params=p, device="cpu")

