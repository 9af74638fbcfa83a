"""The validated top level of a spec: what each section holds, before expansion."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from cnncalc.dtypes import DTYPE_BYTES, canonical_dtype
from cnncalc.errors import Span, SpecError
from cnncalc.layers.base import suggest
from cnncalc.spec.loader import Node

TOP_LEVEL_KEYS = (
    "name", "description", "input", "inputs", "batch", "dtype", "vars", "defaults", "blocks",
    "layers", "outputs", "budgets", "lints",
)
BLOCK_KEYS = ("args", "layers", "output", "description")


@dataclass(frozen=True)
class BlockDef:
    name: str
    args: dict[str, Node]  # default values; a null default means the argument is required
    layers: Node
    output: Node | None
    node: Node


@dataclass
class ModelSpec:
    name: str
    root: Node
    inputs: dict[str, Node] = field(default_factory=dict)
    batch: Node | None = None
    dtype: str = "float32"
    vars: dict[str, Node] = field(default_factory=dict)
    defaults: dict[str, Node] = field(default_factory=dict)
    blocks: dict[str, BlockDef] = field(default_factory=dict)
    layers: Node | None = None
    outputs: Node | None = None
    budgets: Node | None = None


def expect_map(node: Node, what: str) -> dict[str, Node]:
    if not node.is_map:
        raise SpecError(f"`{what}` must be a mapping (key: value lines)", span=node.span)
    return node.value  # type: ignore[no-any-return]


def expect_list(node: Node, what: str) -> list[Node]:
    if not node.is_list:
        raise SpecError(f"`{what}` must be a list (lines starting with `- `)", span=node.span)
    return node.value  # type: ignore[no-any-return]


def check_keys(node: Node, allowed: tuple[str, ...], where: str) -> None:
    for key, span in node.key_spans.items():
        if key not in allowed:
            raise SpecError(
                f"unknown key `{key}` in {where}", span=span,
                hint=suggest(key, allowed) or f"allowed keys: {', '.join(allowed)}",
            )


def parse_model(root: Node, default_name: str) -> ModelSpec:
    """Check the top-level sections of a spec (their contents are checked during expansion)."""
    if not root.is_map:
        found = "a list" if root.is_list else f"the value {root.value!r}"
        raise SpecError(
            f"a spec is a mapping of sections, found {found}", span=root.span,
            hint="start with `name:`, `input:` and `layers:` lines (see docs/spec.md)",
        )
    check_keys(root, TOP_LEVEL_KEYS, "the spec")
    root = inline_notation(root)
    top: dict[str, Node] = root.value
    name = top["name"].value if "name" in top else default_name
    if not isinstance(name, str):
        raise SpecError("`name` must be a string", span=top["name"].span)
    model = ModelSpec(str(name), root)
    if "input" in top and "inputs" in top:
        raise SpecError(
            "give either `input` or `inputs`, not both", span=root.key_spans["inputs"],
            hint="`input: [3, 224, 224]` for one input, `inputs: {image: [...], mask: [...]}` for several",
        )
    if "input" in top:
        model.inputs = {"input": top["input"]}
    elif "inputs" in top:
        model.inputs = dict(expect_map(top["inputs"], "inputs"))
        if not model.inputs:
            raise SpecError("`inputs` is empty", span=top["inputs"].span)
    else:
        raise SpecError(
            "the spec has no `input`", span=root.span,
            hint="add the per-sample input shape, channels first, e.g. `input: [3, 224, 224]`",
        )
    if "layers" not in top:
        raise SpecError("the spec has no `layers`", span=root.span, hint="add a `layers:` list")
    model.layers = top["layers"]
    model.batch = top.get("batch")
    if "dtype" in top:
        model.dtype = parse_dtype(top["dtype"])
    if "vars" in top:
        model.vars = dict(expect_map(top["vars"], "vars"))
    if "defaults" in top:
        model.defaults = dict(expect_map(top["defaults"], "defaults"))
    if "blocks" in top:
        for block_name, body in expect_map(top["blocks"], "blocks").items():
            model.blocks[block_name] = parse_block(block_name, body)
    model.outputs = top.get("outputs")
    model.budgets = top.get("budgets")
    return model


def parse_dtype(node: Node) -> str:
    dtype = canonical_dtype(node.value) if isinstance(node.value, str) else None
    if dtype is None:
        raise SpecError(
            f"unknown dtype {node.value!r}", span=node.span,
            hint=suggest(str(node.value), list(DTYPE_BYTES)) or f"dtypes: {', '.join(DTYPE_BYTES)}",
        )
    return dtype


def parse_block(name: str, body: Node) -> BlockDef:
    if body.is_list:  # shorthand: a block with no arguments is just its layer list
        if not body.value:
            raise SpecError(f"block `{name}` has no layers", span=body.span)
        return BlockDef(name, {}, body, None, body)
    values = expect_map(body, f"blocks.{name}")
    check_keys(body, BLOCK_KEYS, f"block `{name}`")
    if "layers" not in values or values["layers"].value == []:
        raise SpecError(f"block `{name}` has no layers", span=values.get("layers", body).span,
                        hint="a block needs a `layers:` list with at least one layer")
    args = dict(expect_map(values["args"], f"blocks.{name}.args")) if "args" in values else {}
    return BlockDef(name, args, values["layers"], values.get("output"), body)


def inline_notation(root: Node) -> Node:
    """The spec with a `layers:` notation string (docs/notation.md) replaced by the layer list,
    blocks and vars it stands for; a spec with a `layers:` list is returned as it is.

    The notation's groups join the spec's `blocks`, each `X?` switch joins `vars` (true unless
    the spec sets it), and `INPUT(...)` may give the input shape, batch and dtype when the spec
    does not.
    """
    if not root.is_map:
        return root
    top: dict[str, Node] = root.value
    layers = top.get("layers")
    if layers is not None and layers.is_list:
        _check_unquoted(layers)
    if layers is None or not isinstance(layers.value, str):
        return root
    from cnncalc.spec.notation import Context, parse_embedded

    blocks, defaults = top.get("blocks"), top.get("defaults")
    shape = top.get("input")
    context = Context(
        blocks=frozenset(blocks.value if blocks is not None and blocks.is_map else ()),
        defaults=frozenset(defaults.value if defaults is not None and defaults.is_map else ()),
        flat_input=shape is not None and shape.is_list and len(shape.value) == 1,
        embedded=True,
    )
    parsed = parse_embedded(layers, context)
    values, key_spans = dict(top), dict(root.key_spans)
    values["layers"] = parsed.layers
    for key in ("input", "batch", "dtype"):
        node = getattr(parsed, key)
        if node is None:
            continue
        given = [k for k in ((key, "inputs") if key == "input" else (key,)) if k in top]
        if given:
            raise SpecError(
                f"the notation's INPUT gives `{key}`, and so does the spec", span=node.span,
                hint=f"remove it here or the spec's `{given[0]}:` (line {root.key_spans[given[0]].line})",
            )
        values[key], key_spans[key] = node, parsed.input_span or node.span
    _merge_section(values, key_spans, "blocks", parsed.blocks, parsed.block_spans, layers.span)
    switches = {k: v for k, v in parsed.vars.items() if not _has(top.get("vars"), k)}
    _merge_section(values, key_spans, "vars", switches, parsed.var_spans, layers.span)
    return replace(root, value=values, key_spans=key_spans)


def _check_unquoted(layers: Node) -> None:
    """`layers: [CONV(16, k=3) -> RELU]*2 -> FC(10)` is a YAML list (or a syntax error): a
    notation that starts with `[` must be quoted. No kind name has `(` or an arrow in it."""
    for item in layers.value:
        if isinstance(item.value, str) and re.search(r"[()]|->|→", item.value):
            raise SpecError(
                "YAML read this notation as a list, because it starts with `[`", span=item.span,
                hint="quote the notation: `layers: \"[CONV(16, k=3) -> RELU]*2 -> FC(10)\"`",
            )


def _has(section: Node | None, key: str) -> bool:
    return section is not None and section.is_map and key in section.value


def _merge_section(values: dict[str, Node], key_spans: dict[str, Span], section: str,
                   added: dict[str, Node], added_spans: dict[str, Span], span: Span) -> None:
    """Entries the notation adds to `blocks:` or `vars:` (the spec's own entries are kept)."""
    if not added:
        return
    old = values.get(section)
    if old is not None and not old.is_map:
        expect_map(old, section)
    base = old.value if old is not None else {}
    spans = old.key_spans if old is not None else {}
    merged = Node({**base, **added}, old.span if old is not None else span,
                  {**spans, **{k: added_spans[k] for k in added}})
    values[section] = merged
    key_spans.setdefault(section, span)
