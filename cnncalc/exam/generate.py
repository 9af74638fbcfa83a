"""Generate an exam: which template each item uses, its seed, its draft, and the torch check.

Reproducibility: item i's seed is the first 8 bytes of SHA-256 over the master seed, i, the
template id and its version; its parameters are drawn from `random.Random(seed)` (Mersenne
Twister, whose stream for an int seed and for randrange/choice/shuffle is fixed across Python
versions and machines). Nothing reads Python's hash(), the global RNG, the clock or dict order
of anything but literals, so the same config gives the same exam anywhere.

The torch check: when torch is importable (or `check="on"`), every item's snippet runs and must
reproduce its keys; an item that disagrees is refused by raising CheckFailed — never skipped,
since skipping would make the exam depend on whether torch is installed.
"""

from __future__ import annotations

import hashlib
import importlib.util
from random import Random
from typing import Literal

from cnncalc.errors import BackendUnavailable, CheckFailed, UsageError
from cnncalc.exam.model import Exam, ExamConfig, Item
from cnncalc.exam.templates import TEMPLATES, Template
from cnncalc.layers.base import suggest

Check = Literal["auto", "on", "off"]
CONVENTIONS = ("pytorch", "keras")
MAX_COUNT = 1000


def derive_seed(master: int, index: int, template: str, version: int) -> int:
    """A 64-bit seed for one item, stable across machines and Python versions.

    >>> derive_seed(42, 0, "conv_output_size", 1) == derive_seed(42, 0, "conv_output_size", 1)
    True
    """
    text = f"cnncalc.exam/{master}/{index}/{template}/{version}".encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "big")


def select(config: ExamConfig) -> list[Template]:
    """The templates an exam draws from: the named ones (each must support the difficulty), or
    every template that supports it."""
    if not 1 <= config.difficulty <= 4:
        raise UsageError(f"--difficulty {config.difficulty}: expected 1, 2, 3 or 4",
                         hint="1 recall, 2 apply, 3 analyse, 4 edge cases and conventions")
    if config.convention not in CONVENTIONS:
        raise UsageError(f"--convention {config.convention!r}: expected pytorch or keras",
                         hint=suggest(config.convention, CONVENTIONS))
    if not 1 <= config.count <= MAX_COUNT:
        raise UsageError(f"--count {config.count}: expected 1 to {MAX_COUNT}")
    if not config.templates:
        return [t for t in TEMPLATES.values() if config.difficulty in t.levels]
    chosen = []
    for name in config.templates:
        template = TEMPLATES.get(name) or next((t for t in TEMPLATES.values() if name in (t.short, t.number)),
                                               None)
        if template is None:
            raise UsageError(f"--templates: unknown template `{name}`",
                             hint=suggest(name, list(TEMPLATES)) or "`cnncalc exam templates` lists them")
        if config.difficulty not in template.levels:
            raise UsageError(
                f"--templates: `{template.id}` has no difficulty {config.difficulty}",
                hint=f"its levels: {', '.join(map(str, template.levels))}",
            )
        chosen.append(template)
    return chosen


def plan(config: ExamConfig) -> list[Template]:
    """The template of each item: the selection cycled to `count` items, in an order shuffled
    by the master seed."""
    chosen = select(config)
    order = [chosen[i % len(chosen)] for i in range(config.count)]
    Random(derive_seed(config.seed, -1, "order", 1)).shuffle(order)
    return order


def make_item(config: ExamConfig, index: int, template: Template) -> Item:
    seed = derive_seed(config.seed, index, template.id, template.version)
    rng = Random(seed)
    params = template.sample(rng, config.difficulty, config.convention)
    draft = template.build(params, rng, config.convention)
    return Item(
        id=f"{template.short}_s{config.seed}_q{index + 1}",
        idnumber=f"cnncalc-{config.seed}-{template.id}-{index + 1}",
        index=index, template=template.id, template_number=template.number,
        template_version=template.version, category=template.category, seed=seed,
        difficulty=config.difficulty, convention=config.convention, draft=draft,
    )


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


def generate(config: ExamConfig, check: Check = "auto") -> Exam:
    """Every item of the exam, checked against torch when it can be."""
    items = tuple(make_item(config, i, t) for i, t in enumerate(plan(config)))
    if check == "off":
        return Exam(config, items, "disabled")
    if not torch_available():
        if check == "on":
            raise BackendUnavailable("the torch check needs torch", hint="pip install 'cnncalc[torch]'")
        return Exam(config, items, "skipped (torch is not installed)")
    from cnncalc.torch_backend.exam_check import check as torch_check

    for item in items:
        problem = torch_check(item.draft)
        if problem is not None:
            raise CheckFailed(
                f"item {item.index + 1} ({item.template}, seed {item.seed}) refused: {problem}",
                hint="this is a bug in the template; report it with the command line",
            )
    return Exam(config, items, "passed")
