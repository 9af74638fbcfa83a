"""Regression gates against a stored summary: `check --baseline base.json --max-growth macs=5%`.

A baseline is the JSON of `cnncalc summary -f json` (one model) or of `cnncalc check -f json`
(every file it checked); models are matched by name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from cnncalc.check.results import Result
from cnncalc.errors import UsageError
from cnncalc.report.units import binary, parse_quantity, si

#: totals that can be gated, and how to print them
GATED = {
    "params": si, "trainable_params": si, "non_trainable_params": si, "buffers": si,
    "macs": si, "flops": si, "backward_flops": si,
    "param_bytes": binary, "buffer_bytes": binary, "input_bytes": binary, "activation_bytes": binary,
    "inference_peak_bytes": binary, "training_peak_bytes": binary,
}
#: totals only computed when asked for (the memory walk)
PEAKS = ("inference_peak_bytes", "training_peak_bytes")


@dataclass(frozen=True)
class Growth:
    key: str
    percent: Fraction | None = None
    absolute: int | None = None

    def allowed(self, base: int) -> Fraction:
        if self.percent is not None:
            return base * (1 + self.percent / 100)
        assert self.absolute is not None
        return Fraction(base + self.absolute)

    @property
    def text(self) -> str:
        if self.percent is not None:
            return f"{float(self.percent):g}%"
        return f"{self.absolute:,}"


def parse_growth(values: list[str]) -> dict[str, Growth]:
    """`macs=5%`, `params=0`, `activation_bytes=10MiB` (repeatable)."""
    growth = {}
    for value in values:
        key, sep, amount = value.partition("=")
        key = key.strip()
        if not sep or key not in GATED:
            from cnncalc.layers.base import suggest

            raise UsageError(f"--max-growth {value!r}: expected TOTAL=LIMIT, e.g. macs=5%",
                             hint=suggest(key, list(GATED)) or f"totals: {', '.join(GATED)}")
        amount = amount.strip()
        try:
            if amount.endswith("%"):
                growth[key] = Growth(key, percent=Fraction(amount[:-1]))
            else:
                unit = "bytes" if GATED[key] is binary else "count"
                growth[key] = Growth(key, absolute=parse_quantity(amount, unit))
        except (ValueError, ZeroDivisionError):
            raise UsageError(f"--max-growth {value!r}: {amount!r} is not a percentage or an amount",
                             hint="e.g. macs=5% or params=100K") from None
    return growth


def load_baseline(path: Path) -> dict[str, dict[str, Any]]:
    """Model name -> totals, from a summary or check JSON file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--baseline {path}: no such file",
                         hint="write one with `cnncalc summary SPEC -f json -o base.json`") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageError(f"--baseline {path}: not a JSON file ({error})") from None
    schema = data.get("schema") if isinstance(data, dict) else None
    if schema == "cnncalc.summary/1":
        return {data["model"]: data["totals"]}
    if schema == "cnncalc.check/1":
        return {f["model"]: f["totals"] for f in data["files"] if f.get("model") and f.get("totals")}
    raise UsageError(f"--baseline {path}: not a cnncalc summary or check JSON (schema {schema!r})",
                     hint="write one with `cnncalc summary SPEC -f json -o base.json`")


def gate(model: str, totals: dict[str, Any], baseline: dict[str, dict[str, Any]],
         growth: dict[str, Growth]) -> list[Result]:
    base = baseline.get(model)
    if base is None and len(baseline) == 1:
        base = next(iter(baseline.values()))
    if base is None:
        return [Result("baseline", False, "error", f"the baseline has no model named `{model}`",
                       hint=f"it has: {', '.join(sorted(baseline)) or 'none'}")]
    results = []
    for key, limit in growth.items():
        old, new = base.get(key), totals.get(key)
        show = GATED[key]
        if old is None or new is None:
            results.append(Result(f"baseline.{key}", False, "error",
                                  f"{key}: not in the {'baseline' if old is None else 'new summary'}"))
            continue
        change = new - old
        relative = f" ({change / old:+.2%})" if old else ""
        message = f"{key} {show(old)} -> {show(new)}{relative}"
        ok = new <= limit.allowed(old)
        results.append(Result(
            f"baseline.{key}", ok, "error",
            message + ("" if ok else f", more than the allowed growth {limit.text}"),
            value=new, limit={"baseline": old, "max_growth": limit.text},
        ))
    return results
