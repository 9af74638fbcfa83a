"""Spec language: load YAML with source spans, validate, expand into a layer graph.

>>> graph = load_graph("lenet5")          # a zoo name, or a path to a .yaml or .cnn file
>>> graph.nodes["conv1"].kind.name
'conv2d'
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from cnncalc.errors import Source, SpecError
from cnncalc.graph import LayerGraph
from cnncalc.spec.expand import Overrides, expand
from cnncalc.spec.inherit import resolve_extends
from cnncalc.spec.loader import Node, load, read_source
from cnncalc.spec.model import parse_model
from cnncalc.spec.notation import parse_notation

__all__ = [
    "Overrides", "load_graph", "load_notation", "load_tree", "notation_tree", "resolve_spec",
    "zoo_dir", "zoo_names",
]

#: a spec file in the compact notation (docs/notation.md)
NOTATION_SUFFIX = ".cnn"
#: how a `--notation` string is named in messages: `<notation>:1:12: error: ...`
NOTATION_DISPLAY = "<notation>"


def zoo_dir() -> Path:
    """The bundled specs: inside the installed package, or beside it in a source checkout."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "specs", here.parent / "specs"):
        if candidate.is_dir():
            return candidate
    return here / "specs"


def zoo_names() -> list[str]:
    """Bundled spec names in natural order (resnet18 before resnet101)."""

    def key(name: str) -> list[Any]:
        return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]

    return sorted((p.stem for p in zoo_dir().glob("*.yaml")), key=key)


def resolve_spec(name: str) -> Path:
    """A path as given if it exists, else the zoo spec of that name (`vgg16` or `vgg16.yaml`)."""
    path = Path(name)
    if path.is_file():
        return path
    stem = name[:-5] if name.endswith(".yaml") else name
    bundled = zoo_dir() / f"{stem}.yaml"
    if "/" not in name and bundled.is_file():
        return bundled
    from cnncalc.layers.base import suggest

    if path.exists():
        raise SpecError(f"{name}: is not a file")
    raise SpecError(
        f"{name}: no such file, and no zoo spec of that name",
        hint=suggest(stem, zoo_names()) or "`cnncalc zoo` lists the bundled specs",
    )


def load_graph(name: str, overrides: Overrides | None = None) -> LayerGraph:
    """The expanded graph of a spec file (`.yaml`, or `.cnn` in the compact notation) or zoo name."""
    root, stem = load_tree(name, overrides)
    model = parse_model(root, default_name=stem)
    return expand(model, overrides)


def load_tree(name: str, overrides: Overrides | None = None) -> tuple[Node, str]:
    """The source tree of a spec (its `extends:` folded in) and the name it defaults to;
    `parse_model(...).root` is the tree with a `layers:` notation string expanded."""
    path = resolve_spec(name)
    source = read_source(path, name if Path(name).is_file() else str(path))
    if path.suffix.lower() == NOTATION_SUFFIX:
        return with_input(parse_notation(source, path.stem), overrides), path.stem
    return resolve_extends(load(source), path), path.stem


def load_notation(text: str, overrides: Overrides | None = None, name: str = "notation") -> LayerGraph:
    """The expanded graph of a notation string (`cnncalc summary --notation "..."`).

    >>> graph = load_notation("INPUT(3x32x32) -> [CONV(16, k=3, p=1) -> RELU]*2 -> POOL -> FC(10)")
    >>> [node.kind.name for node in graph][-3:]
    ['maxpool2d', 'flatten', 'linear']
    """
    root = notation_tree(text, overrides, name)
    return expand(parse_model(root, default_name=name), overrides)


def notation_tree(text: str, overrides: Overrides | None = None, name: str = "notation") -> Node:
    """The spec tree of a notation string, shown as `<notation>` in messages."""
    return with_input(parse_notation(Source(NOTATION_DISPLAY, text), name), overrides)


def with_input(root: Node, overrides: Overrides | None) -> Node:
    """A notation without `INPUT(shape)` takes its shape from `--input`, or is an error."""
    if "input" in root.value:
        return root
    given = overrides.inputs if overrides is not None else {}
    span = root.value["layers"].span
    if not given:
        raise SpecError(
            "the notation gives no input shape", span=span,
            hint="start the chain with `INPUT(3x224x224)`, or pass `--input 3x224x224`",
        )
    shape = next(iter(given.values()))
    node = Node([Node(size, span) for size in shape], span)
    return replace(root, value={"input": node, **root.value}, key_spans={"input": span, **root.key_spans})
