"""The template registry: one class per question template of EXAM.md §3.

A template draws its parameters (`sample`: plain JSON values, recorded in the manifest) and
builds the question from them (`build`): the stem, the answer parts with their misconceptions,
the worked solution, and a short PyTorch snippet whose last line evaluates to `Draft.expect`
(torch_backend/exam_check.py runs it). Keys come from the layer registry (cnncalc.exam.engine)
and cnncalc.window only. `build` given the same parameters and RNG state gives the same draft,
which is how published examples are reproduced in the tests.
"""

from __future__ import annotations

from random import Random
from typing import Any, ClassVar

from cnncalc.exam.model import Draft

Params = dict[str, Any]

IMPORT = "import torch, torch.nn as nn"
IMPORT_FLOPS = "import torch, torch.nn as nn; from torch.utils.flop_counter import FlopCounterMode"


class Template:
    id: ClassVar[str]
    number: ClassVar[str]  # EXAM.md's catalogue number, e.g. "T01"
    short: ClassVar[str]  # used in item names: conv_out_s42_q1
    title: ClassVar[str]
    category: ClassVar[str]
    version: ClassVar[int] = 1
    #: difficulty levels (EXAM.md §3: L1 recall … L4 edge cases) this template can draw
    levels: ClassVar[tuple[int, ...]] = (1, 2, 3, 4)

    def sample(self, rng: Random, level: int, convention: str) -> Params:
        raise NotImplementedError

    def build(self, p: Params, rng: Random, convention: str) -> Draft:
        raise NotImplementedError


TEMPLATES: dict[str, Template] = {}


def register(cls: type[Template]) -> type[Template]:
    template = cls()
    if cls.id in TEMPLATES or any(t.short == cls.short for t in TEMPLATES.values()):
        raise RuntimeError(f"exam template {cls.id!r} registered twice")
    TEMPLATES[cls.id] = template
    return cls


def pick(rng: Random, *choices: Any) -> Any:
    return rng.choice(list(choices))


def span(rng: Random, low: int, high: int) -> int:
    """An integer in [low, high], both included."""
    return rng.randrange(low, high + 1)
