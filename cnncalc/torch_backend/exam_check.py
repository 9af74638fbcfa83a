"""Each exam item's key, computed a second time by the real torch layers.

An item carries a short PyTorch snippet (the one its worked solution prints) whose last line
evaluates to what the item's keys say (`Draft.expect`). This module runs it — on the `meta`
device when it only needs shapes and counts (no memory is allocated, so a 100M-parameter layer
costs nothing), on the CPU when it needs values (gradients, numbers by hand) — and compares.
The generator refuses an item whose snippet disagrees with its formula keys.
"""

from __future__ import annotations

from contextlib import nullcontext
from fractions import Fraction
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from cnncalc.exam.model import Draft

#: relative tolerance for results torch returns as floats (ratios, MiB, pooled averages)
RELATIVE = 1e-9


def run(lines: tuple[str, ...], device: str = "meta") -> Any:
    """Execute every line but the last, then evaluate the last; float64 by default so that
    values computed by hand compare exactly."""
    namespace: dict[str, Any] = {"torch": torch, "nn": nn, "F": F, "FlopCounterMode": FlopCounterMode}
    body, last = "\n".join(lines[:-1]), lines[-1].split("  #")[0]
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        with torch.device("meta") if device == "meta" else nullcontext(), \
                torch.no_grad() if device == "meta" else nullcontext():
            exec(compile(body, "<exam snippet>", "exec"), namespace)  # noqa: S102 - our own code
            return eval(compile(last, "<exam snippet>", "eval"), namespace)  # noqa: S307
    finally:
        torch.set_default_dtype(previous)


def normalize(value: Any) -> Any:
    """Tensors, sizes and lists as nested tuples of Python numbers."""
    if isinstance(value, torch.Tensor):
        value = value.tolist()
    if isinstance(value, (list, tuple, torch.Size)):
        return tuple(normalize(v) for v in value)
    if isinstance(value, bool):
        return value
    return value


def agrees(expected: Any, measured: Any) -> bool:
    """Exact for integers and structure, within RELATIVE for floats torch computes."""
    if isinstance(expected, tuple):
        return (isinstance(measured, tuple) and len(expected) == len(measured)
                and all(agrees(e, m) for e, m in zip(expected, measured)))
    if isinstance(expected, (int, Fraction)) and not isinstance(expected, bool):
        if isinstance(measured, bool) or not isinstance(measured, (int, float)):
            return False
        if isinstance(measured, int) and isinstance(expected, int):
            return expected == measured
        return abs(float(expected) - measured) <= RELATIVE * max(1.0, abs(float(expected)))
    return bool(expected == measured)


def check(draft: Draft) -> str | None:
    """None when torch reproduces the draft's keys, else what differs."""
    try:
        measured = normalize(run(draft.snippet, draft.device))
    except Exception as error:  # noqa: BLE001 - a snippet that fails is a disagreement
        return f"the torch snippet failed: {type(error).__name__}: {error}"
    if not isinstance(measured, tuple) or len(draft.expect) == 1:
        measured = (measured,)
    if agrees(tuple(draft.expect), measured):
        return None
    return f"torch gives {measured!r}, the formulas {draft.expect!r}"
