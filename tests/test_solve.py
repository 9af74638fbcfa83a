"""`cnncalc solve`: the inverse problem, complete and correct within its bounds.

Completeness is checked against a brute-force oracle that shares no code with cnncalc: it slides
a window along the padded input (or scatters a transposed one) for every candidate in the bounds.
Each solution is re-checked by torch (Conv1d, ConvTranspose1d, MaxPool1d), and the published
values of shared/reference/EXAM.md (T05, T28) are reproduced.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.calc.solve import Bounds, Fixed, Problem, determined, solve
from cnncalc.cli.app import main
from tests.conftest import needs_torch


def slide(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """Window positions by sliding: a window counts when all its taps lie in the padded input;
    with ceil_mode one more, partial window counts when the last full one leaves padded positions
    uncovered and it starts inside the input or the left padding (PyTorch's rule). A window that
    never fits counts nothing."""
    span = d * (k - 1) + 1
    starts = list(range(0, n + 2 * p - span + 1, s))
    following = starts[-1] + s if starts else None
    if ceil_mode and following is not None and starts[-1] + span < n + 2 * p and following < n + p:
        starts.append(following)
    return len(starts)


def scatter(n: int, k: int, s: int, p: int, d: int, op: int) -> int:
    """Transposed output length by scattering: input i writes i*s + d*j, crop p each side, add op."""
    return max(i * s + d * j for i in range(n) for j in range(k)) + 1 - 2 * p + op


def oracle(problem: Problem) -> set[tuple[int, int, int, int, int]]:
    b = problem.bounds
    found = set()
    for k in range(1, b.max_kernel + 1):
        for d in range(1, b.max_dilation + 1):
            half = (d * (k - 1) + 1) // 2
            for s in range(1, b.max_stride + 1):
                for p in range(0, min(half, b.max_padding if b.max_padding is not None else half) + 1):
                    if problem.transposed:
                        for op in range(max(s, d)):
                            if scatter(problem.size_in, k, s, p, d, op) == problem.size_out:
                                found.add((k, s, p, d, op))
                    elif slide(problem.size_in, k, s, p, d, problem.ceil_mode) == problem.size_out:
                        found.add((k, s, p, d, 0))
    return found


def test_the_slide_oracle_knows_pytorchs_ceil_rule():
    # shared/reference/EXAM.md T06: 112, K3, S2 -> 55 / 56 (ceil); 5, K2, S2 -> 2 / 3; 5, K3, S3, P1, ceil -> 2
    assert (slide(112, 3, 2, 0, 1, False), slide(112, 3, 2, 0, 1, True)) == (55, 56)
    assert (slide(5, 2, 2, 0, 1, False), slide(5, 2, 2, 0, 1, True)) == (2, 3)
    assert slide(5, 3, 3, 1, 1, True) == 2


bounds = st.builds(Bounds, st.integers(1, 7), st.integers(1, 4), st.integers(1, 3),
                   st.one_of(st.none(), st.integers(0, 3)))


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.booleans(), st.booleans(), bounds)
def test_solutions_are_exactly_the_brute_force_set(n, m, transposed, ceil_mode, limits):
    problem = Problem(n, m, transposed, ceil_mode and not transposed, bounds=limits)
    solutions = solve(problem)
    assert {s.key for s in solutions} == oracle(problem)
    for s in solutions:
        assert s.check.value == m


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 30), st.integers(1, 16), st.integers(1, 5), st.integers(0, 3))
def test_fixed_attributes_are_taken_as_given(n, m, k, p):
    # a fixed padding is used even beyond the half-kernel rule of the search
    narrowed = {s.key for s in solve(Problem(n, m, fixed=Fixed(kernel=k, padding=p)))}
    assert narrowed == {(k, s, p, 1, 0) for s in range(1, 5) if slide(n, k, s, p, 1, False) == m}


def test_exam_t05_eleven_configurations_map_32_to_16():
    # EXAM.md T05: K <= 7, S <= 3, P <= 3, D <= 2, P <= floor(K̂/2): 11 configurations
    problem = Problem(32, 16, bounds=Bounds(max_kernel=7, max_stride=3, max_dilation=2, max_padding=3))
    keys = {s.key[:4] for s in solve(problem)}
    assert len(keys) == 11
    assert {(1, 2, 0, 1), (2, 2, 0, 1), (3, 2, 1, 1), (4, 2, 1, 1), (5, 2, 2, 1), (7, 2, 3, 1), (3, 2, 2, 2)} <= keys


def test_exam_t05_a_3x3_conv_with_padding_1_has_a_unique_stride():
    problem = Problem(32, 16, fixed=Fixed(kernel=3, padding=1), bounds=Bounds(max_dilation=2))
    solutions = solve(problem)
    assert [s.key for s in solutions] == [(3, 2, 1, 1, 0)]
    assert determined(problem, solutions) == {"stride": 2, "dilation": 1}


def test_exam_t28_doubling_16_to_32():
    keys = {s.key[:3] + s.key[4:] for s in solve(Problem(16, 32, transposed=True, bounds=Bounds(max_stride=2)))}
    assert {(4, 2, 1, 0), (3, 2, 1, 1), (2, 2, 0, 0)} <= keys
    assert (3, 2, 1, 0) not in keys  # -> 31, the published distractor


@needs_torch
@pytest.mark.parametrize("problem", [
    Problem(32, 16, bounds=Bounds(max_dilation=2)),
    Problem(224, 112, bounds=Bounds(max_kernel=7, max_dilation=2)),
    Problem(7, 3, ceil_mode=True, bounds=Bounds(max_kernel=5, max_stride=3)),
    Problem(16, 32, transposed=True, bounds=Bounds(max_kernel=6, max_dilation=2)),
    Problem(3, 6, transposed=True),
], ids=["32to16", "224to112", "7to3-ceil", "16to32-transposed", "3to6-transposed"])
def test_every_solution_checked_by_torch(problem):
    import torch
    import torch.nn as nn

    solutions = solve(problem)
    assert solutions
    x = torch.zeros(1, 1, problem.size_in)
    for s in solutions:
        if problem.transposed:
            layer: nn.Module = nn.ConvTranspose1d(1, 1, s.kernel, s.stride, s.padding, s.output_padding,
                                                  dilation=s.dilation)
        elif problem.ceil_mode:
            layer = nn.MaxPool1d(s.kernel, s.stride, s.padding, s.dilation, ceil_mode=True)
        else:
            layer = nn.Conv1d(1, 1, s.kernel, s.stride, s.padding, s.dilation)
        with torch.no_grad():
            assert layer(x).shape[-1] == problem.size_out, s


def run(capsys, *args: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


def test_cli_table_says_when_unique(capsys):
    code, out, _ = run(capsys, "solve", "--input", "32", "--output", "16", "--kernel", "3", "--padding", "1")
    assert code == 0
    assert "⌊(32 + 2·1 − 3)/2⌋ + 1 = 16" in out
    assert out.rstrip().endswith("the answer is unique within these bounds")


def test_cli_table_lists_the_solutions(capsys):
    code, out, _ = run(capsys, "solve", "-i", "32", "-o", "16")
    assert code == 0
    assert "11 configurations: the answer is not unique within these bounds" in out
    assert "the same in all of them: stride=2" in out


def test_cli_json(capsys):
    code, out, _ = run(capsys, "solve", "-i", "16", "-o", "32", "--transposed", "--max-kernel", "4", "-f", "json")
    data = json.loads(out)
    assert code == 0 and data["schema"] == "cnncalc.solve/1"
    assert data["count"] == len(data["solutions"]) == 4 and not data["unique"]
    assert {"kernel": 4, "stride": 2, "padding": 1, "dilation": 1, "output_padding": 0,
            "check": "(16 − 1)·2 − 2·1 + 4 = 32"} in data["solutions"]


def test_cli_none_found_is_not_an_error(capsys):
    code, out, _ = run(capsys, "solve", "-i", "4", "-o", "40")
    assert code == 0 and "no configuration within these bounds" in out


@pytest.mark.parametrize("args, message", [
    (["--output-padding", "1"], "error: --output-padding needs --transposed"),
    (["--transposed", "--ceil-mode"], "error: --ceil-mode is a pooling option"),
    (["--max-kernel", "0"], "error: --max-kernel must be at least 1, found 0"),
])
def test_cli_usage_errors(capsys, args, message):
    code, _, err = run(capsys, "solve", "-i", "32", "-o", "16", *args)
    assert code == 2
    assert err.startswith(message)
