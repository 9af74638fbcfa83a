"""What `cnncalc check` finds: one `Result` per budget, lint finding or baseline gate, per file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cnncalc.errors import CnncalcError, Span

#: a failed result of this severity fails the file; warnings do too under --strict; notes never
SEVERITIES = ("error", "warning", "note")


@dataclass(frozen=True)
class Result:
    """One check on one spec: a budget, a lint finding, an input size, a baseline gate."""

    #: what was checked: `budget.params`, `lint.floor-loss`, `baseline.macs`, ...
    rule: str
    passed: bool
    #: how much a failure matters (a passed result keeps its rule's severity)
    severity: str
    message: str
    span: Span | None = None
    layer: str | None = None
    hint: str | None = None
    #: the measured value and the limit, for budgets and gates (JSON and SARIF properties)
    value: Any = None
    limit: Any = None
    #: why a spec silenced this lint finding (`lints:` section), if it did
    suppressed: str | None = None

    @property
    def counts(self) -> bool:
        """A failure that is shown as one (not passed, not silenced)."""
        return not self.passed and self.suppressed is None


@dataclass
class FileResult:
    """Everything `check` found in one spec file."""

    path: str
    model: str | None = None
    results: list[Result] = field(default_factory=list)
    #: the spec could not be read or analyzed: nothing else was checked
    error: CnncalcError | None = None
    #: the summary totals (JSON keys of `cnncalc.summary/1`), kept as the next run's baseline
    totals: dict[str, Any] = field(default_factory=dict)

    def failures(self, strict: bool = False) -> list[Result]:
        failing = ("error", "warning") if strict else ("error",)
        return [r for r in self.results if r.counts and r.severity in failing]

    def warnings(self, strict: bool = False) -> list[Result]:
        if strict:
            return []
        return [r for r in self.results if r.counts and r.severity == "warning"]

    def status(self, strict: bool = False) -> str:
        """`invalid`, `fail` or `pass`."""
        if self.error is not None:
            return "invalid"
        return "fail" if self.failures(strict) else "pass"

    def effective_severity(self, result: Result, strict: bool) -> str:
        return "error" if strict and result.severity == "warning" else result.severity
