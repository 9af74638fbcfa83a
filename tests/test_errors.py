"""Every user-facing spec error, pinned verbatim.

tests/errors/NN_what.yaml is a bad spec; NN_what.expected is exactly what `cnncalc` prints on
stderr for it (`CnncalcError.render()` plus a newline), with the path as given on the command
line from the repository root. To rewrite the expected files after a deliberate change of wording:

    CNNCALC_UPDATE_GOLDEN=1 pytest tests/test_errors.py

then read every diff as a user would before committing it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from cnncalc.analysis import analyze
from cnncalc.errors import CnncalcError, ExitCode
from cnncalc.spec import load_graph

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "errors"
CASES = sorted(CORPUS.glob("*.yaml"))
UPDATE = os.environ.get("CNNCALC_UPDATE_GOLDEN") == "1"

#: whole-file problems: there is no source line to show a caret under
NO_SOURCE_LINE = {"10_empty", "12_binary", "62_utf16"}
#: messages that say all there is to say; every other one must end with a hint
NO_HINT = {"30_expr_division_by_zero", "77_float_overflow", "79_compare_string"}

LOCATION = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): error: (?P<message>.+)$")
SOURCE_LINE = re.compile(r"^ +(?P<number>\d+) \| ")
CARET_LINE = re.compile(r"^ +\| (?P<indent> *)\^+$")


def expected_path(spec: Path) -> Path:
    return spec.with_suffix(".expected")


def first_message(spec: Path) -> str | None:
    """The message part of the pinned first line, for `pytest.raises(match=...)`."""
    expected = expected_path(spec)
    if UPDATE or not expected.exists():
        return None
    found = LOCATION.match(expected.read_text(encoding="utf-8").splitlines()[0])
    assert found, f"{expected.name}: the first line is not `file:line:col: error: ...`"
    return "^" + re.escape(found["message"]) + "$"


def render(spec: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[CnncalcError, str]:
    monkeypatch.chdir(REPO)  # relative path: the message does not depend on where the repo is
    relative = spec.relative_to(REPO).as_posix()
    with pytest.raises(CnncalcError, match=first_message(spec)) as caught:
        analyze(load_graph(relative))
    return caught.value, caught.value.render() + "\n"


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 35
    assert not [p.name for p in CORPUS.glob("*.expected") if not p.with_suffix(".yaml").exists()]


@pytest.mark.parametrize("spec", CASES, ids=[p.stem for p in CASES])
def test_message_is_pinned(spec: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    error, text = render(spec, monkeypatch)
    assert error.exit_code == ExitCode.INVALID_SPEC == 3
    expected = expected_path(spec)
    if UPDATE:
        expected.write_bytes(text.encode("utf-8"))
    assert expected.exists(), f"no {expected.name}: run with CNNCALC_UPDATE_GOLDEN=1"
    assert text.encode("utf-8") == expected.read_bytes()


@pytest.mark.parametrize("spec", CASES, ids=[p.stem for p in CASES])
def test_message_layout(spec: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`file:line:col: error: ...`, the numbered line, a caret under the column, then `hint:`."""
    error, text = render(spec, monkeypatch)
    lines = text.rstrip("\n").split("\n")
    head = LOCATION.match(lines[0])
    assert head, lines[0]
    assert head["path"] == f"tests/errors/{spec.name}"
    assert error.span is not None
    assert (int(head["line"]), int(head["col"])) == (error.span.line, error.span.col)
    if spec.stem in NO_SOURCE_LINE:
        assert not any(CARET_LINE.match(line) for line in lines)
    else:
        source, caret = SOURCE_LINE.match(lines[1]), CARET_LINE.match(lines[2])
        assert source and caret, text
        assert source["number"] == head["line"]
        assert len(caret["indent"]) == int(head["col"]) - 1
        shown = lines[1][source.end():]
        assert shown == error.span.source.line(error.span.line)
    hints = [line for line in lines if line.startswith("hint: ")]
    if spec.stem in NO_HINT:
        assert not hints
    else:
        assert len(hints) == 1 and lines[-1] == hints[0], text
