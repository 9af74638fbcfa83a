"""Spec language: load YAML with source spans, validate, expand into a layer graph.

>>> graph = load_graph("lenet5")          # a zoo name, or a path to a .yaml file
>>> graph.nodes["conv1"].kind.name
'conv2d'
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cnncalc.errors import SpecError
from cnncalc.graph import LayerGraph
from cnncalc.spec.expand import Overrides, expand
from cnncalc.spec.inherit import resolve_extends
from cnncalc.spec.loader import load, read_source
from cnncalc.spec.model import parse_model

__all__ = ["Overrides", "load_graph", "resolve_spec", "zoo_dir", "zoo_names"]


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
    path = resolve_spec(name)
    display = name if Path(name).is_file() else f"{path.name}"
    source = read_source(path, display if Path(name).is_file() else str(path))
    root = resolve_extends(load(source), path)
    model = parse_model(root, default_name=path.stem)
    return expand(model, overrides)
