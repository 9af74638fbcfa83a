"""Answer parts from a key and its misconceptions.

Distractors equal to the key, or to an earlier distractor, are dropped: for numbers, "equal"
means closer than twice the tolerance (two intervals that touch would grade one response two
ways). A choice part short of options is topped up with fillers near the key, tagged "filler".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from random import Random

from cnncalc.exam.misconceptions import Wrong
from cnncalc.exam.model import Number, Option, Part, Value
from cnncalc.exam.text import answer, value_text

FILLER_FEEDBACK = "This value comes from no common mistake: recheck each step of the calculation."


def _close(a: Value, b: Value, tolerance: Fraction) -> bool:
    if isinstance(a, (int, Fraction)) and isinstance(b, (int, Fraction)):
        return abs(Fraction(a) - Fraction(b)) <= 2 * tolerance
    return a == b


def distinct(key: Value, wrongs: Sequence[Wrong], tolerance: Fraction = Fraction(0),
             scale: int = 1, allow_negative: bool = False) -> list[Wrong]:
    """`wrongs` without those equal to the key or to an earlier one (within 2×tolerance, in
    displayed units), nor negative numbers unless allowed."""
    kept: list[Wrong] = []
    shown = (lambda v: Fraction(v) / scale) if isinstance(key, (int, Fraction)) else (lambda v: v)
    for wrong in wrongs:
        value = wrong.value
        if isinstance(value, (int, Fraction)) and value < 0 and not allow_negative:
            continue
        if _close(shown(value), shown(key), tolerance):
            continue
        if any(_close(shown(value), shown(k.value), tolerance) for k in kept):
            continue
        kept.append(wrong)
    return kept


def numeric(name: str, label: str, key: Number, correct: str, wrongs: Sequence[Wrong], *,
            tolerance: Fraction = Fraction(0), scale: int = 1, unit: str = "") -> Part:
    """A numeric blank: the key first, then each distinct misconception value with its feedback."""
    options = [Option(key, answer(key, scale), "key", correct)]
    options += [Option(w.value, answer(w.value, scale), w.tag, w.feedback)  # type: ignore[arg-type]
                for w in distinct(key, wrongs, tolerance, scale)]
    return Part(name, label, "numeric", key, tuple(options), tolerance, scale, unit)


def choice(name: str, label: str, key: Value, correct: str, wrongs: Sequence[Wrong], rng: Random, *,
           render: Callable[[Value], str] = value_text, size: int = 4,
           filler: Callable[[Random], Value] | None = None) -> Part:
    """A single-answer multiple choice: the key and up to `size - 1` distinct misconceptions
    (fillers from `filler` if fewer apply), shuffled by the item's RNG."""
    kept = distinct(key, wrongs)[: size - 1]
    options = [Option(key, render(key), "key", correct)]
    options += [Option(w.value, render(w.value), w.tag, w.feedback) for w in kept]
    tries = 0
    while filler is not None and len(options) < size and tries < 50:
        tries += 1
        value = filler(rng)
        if all(not _close(value, o.value, Fraction(0)) for o in options) and render(value) not in {
            o.text for o in options
        }:
            options.append(Option(value, render(value), "filler", FILLER_FEEDBACK))
    texts = [o.text for o in options]
    if len(set(texts)) != len(texts):  # two values written alike would be one option twice
        options = [o for i, o in enumerate(options) if o.text not in texts[:i]]
    rng.shuffle(options)
    return Part(name, label, "choice", key, tuple(options))


def near(key: int, spread: int = 3, minimum: int = 1) -> Callable[[Random], Value]:
    """Fillers: integers within ±spread of the key (never below `minimum`)."""

    def draw(rng: Random) -> Value:
        offset = rng.choice([d for d in range(-spread, spread + 1) if d])
        return max(minimum, key + offset)

    return draw
