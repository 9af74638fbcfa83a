"""Option parsing shared by commands; output written whole or not at all."""

from __future__ import annotations

import os
import re
import sys
import tempfile
from enum import Enum
from pathlib import Path
from typing import Any

from cnncalc.errors import UsageError


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


def parse_shape(text: str) -> tuple[int, ...]:
    parts = re.split(r"[x×,]", text.strip().strip("[]()"))
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        raise UsageError(
            f"--input {text!r}: expected a shape like 3x224x224", hint="channels first: CxHxW"
        ) from None
    if not shape or min(shape) < 1:
        raise UsageError(f"--input {text!r}: dimensions must be positive")
    return shape


def parse_inputs(values: list[str] | None) -> dict[str, tuple[int, ...]]:
    """`3x224x224` (the only input) or `name=3x224x224`, repeatable."""
    inputs: dict[str, tuple[int, ...]] = {}
    for value in values or []:
        name, _, shape = value.rpartition("=")
        inputs[name] = parse_shape(shape)
    return inputs


def parse_vars(values: list[str] | None) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for value in values or []:
        name, sep, text = value.partition("=")
        if not sep or not name.isidentifier():
            raise UsageError(f"--set {value!r}: expected NAME=VALUE", hint="e.g. --set width=0.5")
        lowered = text.strip().lower()
        parsed: Any
        if lowered in ("true", "false"):
            parsed = lowered == "true"
        else:
            try:
                parsed = int(text)
            except ValueError:
                try:
                    parsed = float(text)
                except ValueError:
                    raise UsageError(f"--set {value!r}: the value must be a number, true or false") from None
        result[name] = parsed
    return result


def parse_dtype(text: str | None) -> str | None:
    if text is None:
        return None
    from cnncalc.dtypes import DTYPE_BYTES, canonical_dtype

    dtype = canonical_dtype(text)
    if dtype is None:
        raise UsageError(f"--dtype {text!r}: unknown dtype", hint=f"dtypes: {', '.join(DTYPE_BYTES)}")
    return dtype


def emit(text: str, output: Path | None) -> None:
    """Print `text`, or write it to `output` atomically (a temp file renamed into place)."""
    if output is None:
        sys.stdout.write(text)
        return
    directory = output.parent if str(output.parent) else Path(".")
    handle, temp = tempfile.mkstemp(dir=directory, prefix=f".{output.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temp, output)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def console(output: Path | None = None) -> Any:
    from rich.console import Console

    width = None if sys.stdout.isatty() else int(os.environ.get("COLUMNS", "140"))
    return Console(width=width, highlight=False, soft_wrap=False)
