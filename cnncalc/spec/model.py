"""The validated top level of a spec: what each section holds, before expansion."""

from __future__ import annotations

from dataclasses import dataclass, field

from cnncalc.dtypes import DTYPE_BYTES, canonical_dtype
from cnncalc.errors import SpecError
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
    top: dict[str, Node] = root.value
    check_keys(root, TOP_LEVEL_KEYS, "the spec")
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
