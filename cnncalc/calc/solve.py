"""The inverse problem: which (kernel, stride, padding, dilation) map an input size to an output
size along one axis (exam template T05, and T28 for transposed convolutions).

Every candidate within the bounds is run through the forward arithmetic of cnncalc.window, the
same functions the analyzer uses, so a listed solution is right by construction and the list is
complete within the bounds. The bounds are "sensible" ones: a padding of at most half the
effective kernel ⌊k̂/2⌋ (more makes border windows read mostly padding, and PyTorch's pools
refuse it), and for transposed convolutions the output_padding torch accepts (< max(s, d)).
A fixed attribute is taken as given, bounds or not.

>>> [s.key for s in solve(Problem(32, 16, fixed=Fixed(kernel=3, padding=1)))]
[(3, 2, 1, 1, 0)]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from cnncalc.errors import ShapeError, UsageError
from cnncalc.window import Worked, effective_kernel, explain_output_size, explain_transposed_output_size

ATTRIBUTES = ("kernel", "stride", "padding", "dilation", "output_padding")


@dataclass(frozen=True)
class Fixed:
    """Attributes the question gives; None: unknown, searched within the bounds."""

    kernel: int | None = None
    stride: int | None = None
    padding: int | None = None
    dilation: int | None = None
    output_padding: int | None = None


@dataclass(frozen=True)
class Bounds:
    max_kernel: int = 11
    max_stride: int = 4
    max_dilation: int = 1
    #: None: only the half-kernel rule ⌊k̂/2⌋
    max_padding: int | None = None

    def check(self) -> None:
        for name in ("max_kernel", "max_stride", "max_dilation"):
            if getattr(self, name) < 1:
                raise UsageError(f"--{name.replace('_', '-')} must be at least 1, found {getattr(self, name)}")
        if self.max_padding is not None and self.max_padding < 0:
            raise UsageError(f"--max-padding must be at least 0, found {self.max_padding}")


@dataclass(frozen=True)
class Problem:
    size_in: int
    size_out: int
    transposed: bool = False
    ceil_mode: bool = False
    fixed: Fixed = field(default_factory=Fixed)
    bounds: Bounds = field(default_factory=Bounds)


@dataclass(frozen=True)
class Solution:
    kernel: int
    stride: int
    padding: int
    dilation: int
    output_padding: int
    #: the forward formula with these numbers, which gives the output size
    check: Worked

    @property
    def key(self) -> tuple[int, int, int, int, int]:
        return self.kernel, self.stride, self.padding, self.dilation, self.output_padding


def _values(given: int | None, low: int, high: int) -> range:
    return range(given, given + 1) if given is not None else range(low, high + 1)


def candidates(problem: Problem) -> Iterator[tuple[int, int, int, int, int]]:
    """Every (k, s, p, d, op) within the bounds, fixed attributes as given."""
    fixed, bounds = problem.fixed, problem.bounds
    for kernel in _values(fixed.kernel, 1, bounds.max_kernel):
        for dilation in _values(fixed.dilation, 1, bounds.max_dilation):
            half = effective_kernel(kernel, dilation) // 2
            top = half if bounds.max_padding is None else min(half, bounds.max_padding)
            for stride in _values(fixed.stride, 1, bounds.max_stride):
                for padding in _values(fixed.padding, 0, top):
                    legal = max(stride, dilation) - 1 if problem.transposed else 0
                    for output_padding in _values(fixed.output_padding, 0, legal):
                        yield kernel, stride, padding, dilation, output_padding


def forward(problem: Problem, kernel: int, stride: int, padding: int, dilation: int,
            output_padding: int) -> Worked | None:
    """The output size of one candidate with its working, or None where the window does not fit."""
    if not problem.transposed and effective_kernel(kernel, dilation) > problem.size_in + 2 * padding:
        return None  # never fits (PyTorch's ceil_mode would still count one window for some strides)
    try:
        if problem.transposed:
            return explain_transposed_output_size(
                problem.size_in, kernel, stride, (padding, padding), dilation, output_padding
            )
        if output_padding:
            return None
        return explain_output_size(problem.size_in, kernel, stride, (padding, padding), dilation,
                                   problem.ceil_mode)
    except ShapeError:
        return None


def solve(problem: Problem) -> list[Solution]:
    """All candidates whose forward size is the wanted output size, ordered by (k, s, p, d, op)."""
    if problem.size_in < 1 or problem.size_out < 1:
        raise UsageError(f"sizes must be positive, found input {problem.size_in} and output {problem.size_out}")
    if problem.transposed and problem.ceil_mode:
        raise UsageError("--ceil-mode is a pooling option; a transposed convolution has no rounding")
    problem.bounds.check()
    solutions = []
    for candidate in candidates(problem):
        worked = forward(problem, *candidate)
        if worked is not None and worked.value == problem.size_out:
            solutions.append(Solution(*candidate, check=worked))
    return sorted(solutions, key=lambda s: s.key)


def determined(problem: Problem, solutions: list[Solution]) -> dict[str, int]:
    """The unknown attributes that take one value in every solution (the question's answer
    when it asked for only those)."""
    searched = [set(values) for values in zip(*candidates(problem))]
    result = {}
    for index, name in enumerate(ATTRIBUTES):
        if not searched or len(searched[index]) < 2:  # given, or a bound of one value
            continue
        values = {s.key[index] for s in solutions}
        if len(values) == 1:
            result[name] = values.pop()
    return result
