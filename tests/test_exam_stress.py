"""Stress test (EXAM.md §6.2.8): 1,000 seeds per template, every key computed twice — by the
formulas (layer registry, window arithmetic, cnncalc.calc.numeric) and by running the real
torch layers in the item's own snippet — and the two must agree. Seeds cycle through the
template's difficulty levels and both conventions. Also checked: no exception, distinct variants,
and keys that vary (a template stuck on one answer would pass the rest)."""

from __future__ import annotations

from random import Random

import pytest

from cnncalc.exam.generate import derive_seed
from cnncalc.exam.templates import TEMPLATES
from tests.conftest import needs_torch

SEEDS = 1000


@needs_torch
@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_formula_keys_equal_torch_keys(template):
    from cnncalc.torch_backend.exam_check import check

    t = TEMPLATES[template]
    variants, keys, failures = set(), set(), []
    for i in range(SEEDS):
        level = t.levels[i % len(t.levels)]
        convention = ("pytorch", "keras")[(i // len(t.levels)) % 2]
        rng = Random(derive_seed(2024, i, t.id, t.version))
        params = t.sample(rng, level, convention)
        draft = t.build(params, rng, convention)
        problem = check(draft)
        if problem is not None:
            failures.append((level, convention, params, problem))
        variants.add(repr(sorted(params.items())))
        keys.add(repr([p.key for p in draft.parts]))
    assert not failures, failures[:3]
    assert len(variants) >= 15, f"only {len(variants)} distinct variants"
    assert len(keys) >= 3, f"only {len(keys)} distinct keys"
