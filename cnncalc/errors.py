"""One exception family for everything cnncalc reports to a user, and the exit codes.

Inner code raises with the bare fact ("kernel 7 > padded input 5"); the boundary that knows
where the fact came from (a layer, a line of the spec) re-raises with `.located(...)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, documented in docs/cli.md."""

    OK = 0
    INTERNAL = 1
    USAGE = 2
    INVALID_SPEC = 3
    CHECK_FAILED = 4
    BACKEND_UNAVAILABLE = 5


@dataclass(frozen=True, eq=False)
class Source:
    """The text of one spec file (or command-line string), kept for error carets."""

    path: str
    text: str

    def line(self, number: int) -> str:
        lines = self.text.splitlines()
        return lines[number - 1] if 0 < number <= len(lines) else ""


@dataclass(frozen=True)
class Span:
    """A 1-based line/column range in a Source; `end_col` is exclusive."""

    source: Source
    line: int
    col: int
    end_line: int
    end_col: int

    @property
    def location(self) -> str:
        return f"{self.source.path}:{self.line}:{self.col}"

    def shifted(self, offset: int, length: int) -> Span:
        """The sub-span `length` characters long, `offset` characters into this one-line span."""
        col = self.col + offset
        return Span(self.source, self.line, col, self.line, col + max(length, 1))


class CnncalcError(Exception):
    """Base of every error cnncalc reports to a user."""

    exit_code = ExitCode.INTERNAL
    label = "error"

    def __init__(self, message: str, *, span: Span | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.span = span
        self.hint = hint
        #: the spec key this error is about, when inner code knows it (see LayerKind.make_attrs)
        self.key: str | None = None

    def located(
        self, span: Span | None, *, prefix: str = "", hint: str | None = None
    ) -> CnncalcError:
        """A copy of this error pointing at `span` (kept if it already has one)."""
        error = type(self)(
            prefix + self.message, span=self.span or span, hint=self.hint or hint
        )
        return error

    def render(self) -> str:
        """`file:line:col: error: message`, the source line with a caret, then the hint."""
        lines = []
        where = f"{self.span.location}: " if self.span else ""
        lines.append(f"{where}{self.label}: {self.message}")
        if self.span is not None:
            text = self.span.source.line(self.span.line)
            if text:
                number = str(self.span.line)
                width = len(number) + 1
                end = self.span.end_col if self.span.end_line == self.span.line else len(text) + 1
                carets = "^" * max(1, min(end, len(text) + 1) - self.span.col)
                lines.append(f"{number.rjust(width)} | {text}")
                lines.append(f"{' ' * width} | {' ' * (self.span.col - 1)}{carets}")
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)


class SpecError(CnncalcError):
    """The spec is not valid: syntax, unknown names, wrong types, bad references."""

    exit_code = ExitCode.INVALID_SPEC


class GraphError(SpecError):
    """The layers do not form a valid graph (references, cycles, recursion)."""


class ShapeError(SpecError):
    """A layer cannot be applied to the shape it receives."""


class UsageError(CnncalcError):
    """A command-line option is wrong."""

    exit_code = ExitCode.USAGE


class CheckFailed(CnncalcError):
    """A budget was exceeded or a verification found a mismatch."""

    exit_code = ExitCode.CHECK_FAILED


class BackendUnavailable(CnncalcError):
    """torch, fvcore or CUDA is needed and missing."""

    exit_code = ExitCode.BACKEND_UNAVAILABLE
