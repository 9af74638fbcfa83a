"""`extends:` — a spec that starts from another one and changes what it names.

    extends: resnet50            # a zoo name, or a path relative to this file
    vars: {width: 128}           # merged into the parent's vars (this file wins)

`vars`, `defaults` (per kind, then per attribute) and `blocks` are merged, the child's entries
winning; every other section the child gives replaces the parent's, and `name` is never
inherited (it defaults to the child's file name). Nodes keep the spans of the file they come
from, so an error inside the parent points into the parent.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from cnncalc.errors import SpecError
from cnncalc.layers.base import suggest
from cnncalc.spec.loader import Node, load, read_source

MERGED = ("vars", "blocks")
INPUT_KEYS = ("input", "inputs")
MAX_DEPTH = 16


def resolve_extends(root: Node, path: Path, seen: tuple[Path, ...] = ()) -> Node:
    """The spec tree with its `extends:` chain folded in (root itself when it extends nothing)."""
    if not root.is_map or "extends" not in root.value:
        return root
    target = root.value["extends"]
    if not isinstance(target.value, str) or not target.value:
        raise SpecError(
            "`extends` must name a spec", span=target.span,
            hint="a zoo name (`extends: resnet50`) or a path relative to this file",
        )
    parent_path = _locate(target, path)
    chain = (*seen, path.resolve())
    if parent_path.resolve() in chain:
        cycle = " -> ".join(p.name for p in (*chain, parent_path))
        raise SpecError(f"`extends` goes round in a circle: {cycle}", span=target.span,
                        hint="a spec cannot extend itself, directly or through the specs it extends")
    if len(chain) > MAX_DEPTH:
        raise SpecError(f"`extends` nests deeper than {MAX_DEPTH} specs", span=target.span)
    parent = load(read_source(parent_path, str(parent_path)))
    if not parent.is_map:
        raise SpecError(f"{target.value}: the spec it extends is not a mapping of sections",
                        span=target.span)
    parent = resolve_extends(parent, parent_path, chain)
    _check_vars(parent, root, target)
    return _merge(parent, root)


def _locate(target: Node, path: Path) -> Path:
    from cnncalc.spec import resolve_spec

    name = str(target.value)
    beside = path.parent / name
    for candidate in (beside, beside.with_name(beside.name + ".yaml")):
        if candidate.is_file():
            return candidate
    try:
        return resolve_spec(name)
    except SpecError as error:
        raise replace_span(error, target) from None


def replace_span(error: SpecError, node: Node) -> SpecError:
    return SpecError(error.message, span=node.span, hint=error.hint)


def _check_vars(parent: Node, child: Node, target: Node) -> None:
    """A var the parent lacks is a typo unless this spec brings layers or blocks that may use it."""
    if "vars" not in child.value or not child.value["vars"].is_map or {"layers", "blocks"} & set(child.value):
        return
    known = parent.value["vars"].value if "vars" in parent.value and parent.value["vars"].is_map else {}
    for name, span in child.value["vars"].key_spans.items():
        if name not in known:
            raise SpecError(
                f"`{name}` is not a var of {target.value}", span=span,
                hint=suggest(name, list(known)) or (f"its vars: {', '.join(known)}" if known else "it has no vars"),
            )


def _merge(parent: Node, child: Node) -> Node:
    values = {k: v for k, v in parent.value.items() if k != "name"}
    key_spans = {k: s for k, s in parent.key_spans.items() if k != "name"}
    for key, node in child.value.items():
        if key == "extends":
            continue
        if key in INPUT_KEYS:
            for other in INPUT_KEYS:
                values.pop(other, None)
                key_spans.pop(other, None)
        if key == "defaults" and key in values and node.is_map and values[key].is_map:
            node = _merge_maps(values[key], node, depth=2)
        elif key in MERGED and key in values and node.is_map and values[key].is_map:
            node = _merge_maps(values[key], node, depth=1)
        values[key] = node
        key_spans[key] = child.key_spans[key]
    return replace(child, value=values, key_spans=key_spans)


def _merge_maps(base: Node, top: Node, depth: int) -> Node:
    values = dict(base.value)
    key_spans = dict(base.key_spans)
    for key, node in top.value.items():
        if depth > 1 and key in values and node.is_map and values[key].is_map:
            node = _merge_maps(values[key], node, depth - 1)
        values[key] = node
        key_spans[key] = top.key_spans[key]
    return replace(top, value=values, key_spans=key_spans)
