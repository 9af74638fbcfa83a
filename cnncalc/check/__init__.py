"""`cnncalc check`: budgets, lints and regression gates over spec files, for CI.

>>> from cnncalc.check import CheckOptions, check_file
>>> check_file("lenet5", CheckOptions()).status()
'pass'
"""

from __future__ import annotations

import glob
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cnncalc.check.baseline import PEAKS, Growth, gate
from cnncalc.check.budgets import Budgets, Context, evaluate, override, parse_budgets
from cnncalc.check.lints import parse_silences, run_lints
from cnncalc.check.results import FileResult, Result
from cnncalc.errors import CnncalcError, UsageError

__all__ = ["CheckOptions", "FileResult", "Result", "check_file", "expand_paths"]


@dataclass(frozen=True)
class CheckOptions:
    inputs: dict[str, tuple[int, ...]] = field(default_factory=dict)
    batch: int | None = None
    dtype: str | None = None
    vars: dict[str, Any] = field(default_factory=dict)
    #: --max-params 26M ...: budget key -> limit text, replacing the spec's
    limits: dict[str, str] = field(default_factory=dict)
    #: --memory-batch, --optimizer, --amp, --device: conditions for the memory budgets
    budget_options: dict[str, Any] = field(default_factory=dict)
    input_sizes: list[tuple[int, ...]] | None = None
    lints: bool = True
    baseline: dict[str, dict[str, Any]] | None = None
    growth: dict[str, Growth] = field(default_factory=dict)


def expand_paths(patterns: list[str]) -> list[str]:
    """Each argument as a file, a glob (quoted globs from CI configs), or a zoo name."""
    paths: list[str] = []
    for pattern in patterns:
        if any(ch in pattern for ch in "*?[") and not Path(pattern).exists():
            matches = sorted(glob.glob(pattern, recursive=True))
            if not matches:
                raise UsageError(f"{pattern}: no file matches", hint="quote the pattern or check the path")
            paths.extend(m for m in matches if Path(m).is_file())
        else:
            paths.append(pattern)
    return list(dict.fromkeys(paths))


def check_file(name: str, options: CheckOptions) -> FileResult:
    """Check one spec; an invalid spec gives a FileResult with `error` set, never an exception."""
    result = FileResult(path=name)
    try:
        _check(name, options, result)
    except CnncalcError as error:
        if isinstance(error, UsageError):
            raise
        result.error = error
        result.results.clear()
    return result


def _check(name: str, options: CheckOptions, result: FileResult) -> None:
    from cnncalc.analysis import analyze
    from cnncalc.report.to_json import summary_dict
    from cnncalc.spec import Overrides, load_tree
    from cnncalc.spec.expand import expand
    from cnncalc.spec.model import parse_model

    base = Overrides(inputs=options.inputs, batch=options.batch, dtype=options.dtype, vars=options.vars)
    root, stem = load_tree(name, base)
    model = parse_model(root, default_name=stem)  # read once, expanded per input size below
    graph = expand(model, base)
    result.model = graph.name
    budgets = parse_budgets(graph.sections.get("budgets"))
    silences = parse_silences(graph.sections.get("lints"))
    budgets = override(budgets, options.limits, options.budget_options)
    if options.input_sizes is not None:
        budgets = Budgets(budgets.limits, budgets.fields, budgets.output_shapes, options.input_sizes, None)

    peaks = any(key in PEAKS for key in options.growth)
    report = analyze(graph, peaks=peaks)
    totals = summary_dict(report)["totals"]
    result.totals = {k: v for k, v in totals.items() if not isinstance(v, dict)}

    def variant(inputs: dict[str, tuple[int, ...]]) -> Any:
        return expand(model, replace(base, inputs=inputs))

    result.results.extend(evaluate(budgets, Context(graph, report, variant)))
    if options.lints:
        shapes = {**report.inputs, **{row.name: row.output_shape for row in report.rows}}
        fields = {row.name: row.rf for row in report.rows}
        result.results.extend(run_lints(graph, shapes, fields, silences))
    if options.baseline is not None and options.growth:
        result.results.extend(gate(graph.name, result.totals, options.baseline, options.growth))
