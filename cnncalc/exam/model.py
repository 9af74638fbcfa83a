"""Plain values of an exam: options, answer parts, items, and the exam itself.

Every number is exact (`int` or `Fraction`) from the template to the exporter; a part's key is
shown divided by its `scale` ("in millions") and graded with an absolute `tolerance` in those
displayed units. Exporters never compute: they only render these values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal, Union

Number = Union[int, Fraction]
Matrix = tuple[tuple[Number, ...], ...]
#: what a key (or an option's value) can be: a number, a matrix, or a tuple of them (a shape,
#: a configuration), or a statement (text)
Value = Union[Number, Matrix, tuple[Any, ...], str]

PartKind = Literal["numeric", "choice"]


@dataclass(frozen=True)
class Option:
    """One answer offered (choice) or anticipated (numeric): the key, a misconception's value,
    or a filler. `tag` is "key", a misconception's name (see misconceptions.py) or "filler"."""

    value: Value
    text: str
    tag: str
    feedback: str

    @property
    def correct(self) -> bool:
        return self.tag == "key"


@dataclass(frozen=True)
class Part:
    """One blank of an item.

    numeric: `options[0]` is the key, the others are wrong values with misconception feedback
    (Moodle grades a response by the first option whose tolerance interval holds it).
    choice: `options` in the order shown, exactly one of them the key.
    """

    name: str
    label: str
    kind: PartKind
    key: Value
    options: tuple[Option, ...]
    tolerance: Fraction = Fraction(0)
    scale: int = 1
    unit: str = ""

    @property
    def key_option(self) -> Option:
        return next(option for option in self.options if option.correct)

    @property
    def wrong(self) -> tuple[Option, ...]:
        return tuple(option for option in self.options if not option.correct)


@dataclass(frozen=True)
class Figure:
    """A small matrix shown with the question (an input image, a kernel)."""

    label: str
    matrix: Matrix


@dataclass(frozen=True)
class Draft:
    """What a template makes from its parameters; the generator adds identity and seeds."""

    title: str
    stem: str
    parts: tuple[Part, ...]
    solution: str
    snippet: tuple[str, ...]
    #: what the snippet's last line evaluates to, compared with torch's result (exam_check)
    expect: tuple[Value, ...]
    params: Mapping[str, Any]
    figures: tuple[Figure, ...] = ()
    #: "meta" when the snippet only needs shapes and counts, "cpu" when it needs values
    device: Literal["meta", "cpu"] = "meta"


@dataclass(frozen=True)
class Item:
    """One generated question."""

    id: str
    idnumber: str
    index: int
    template: str
    template_number: str
    template_version: int
    category: str
    seed: int
    difficulty: int
    convention: str
    draft: Draft

    @property
    def title(self) -> str:
        return self.draft.title

    @property
    def parts(self) -> tuple[Part, ...]:
        return self.draft.parts


@dataclass(frozen=True)
class ExamConfig:
    """Everything that determines an exam: the same config gives the same bytes anywhere."""

    seed: int = 0
    count: int = 10
    templates: tuple[str, ...] = ()
    difficulty: int = 2
    convention: str = "pytorch"
    title: str = "CNN shape arithmetic"


@dataclass(frozen=True)
class Exam:
    config: ExamConfig
    items: tuple[Item, ...]
    #: "passed", "skipped (torch is not installed)", or "disabled"
    torch_check: str = "skipped"
    notes: tuple[str, ...] = field(default_factory=tuple)
