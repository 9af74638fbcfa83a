"""Expand a ModelSpec into a LayerGraph: evaluate expressions, instantiate blocks and repeats,
resolve `from` references, convert every layer's attributes through its kind.

Every node keeps the span of the spec entry it came from, so errors found later still point at
the right line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cnncalc.dtypes import DTYPE_BYTES, canonical_dtype
from cnncalc.errors import GraphError, Span, SpecError, UsageError
from cnncalc.graph import LayerGraph, LayerNode
from cnncalc.layers import REGISTRY, lookup
from cnncalc.layers.base import REQUIRED, Name, suggest, to_int
from cnncalc.spec.expr import FUNCTIONS, YAML11_BOOLEANS, ExpressionError, evaluate
from cnncalc.spec.loader import Node
from cnncalc.spec.model import BlockDef, ModelSpec, expect_list, expect_map

META_KEYS = ("name", "from", "repeat", "share", "trainable", "when")
MAX_LAYERS = 1_000_000
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


@dataclass(frozen=True)
class Overrides:
    """Command-line values that replace the spec's."""

    inputs: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    batch: int | None = None
    dtype: str | None = None
    vars: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class _Entry:
    kind: str
    kind_span: Span
    attrs: dict[str, Node]
    meta: dict[str, Node]
    node: Node


@dataclass
class _Scope:
    prefix: str
    env: dict[str, Any]
    names: dict[str, str]
    inputs: list[str]
    stack: tuple[str, ...]
    scopes: tuple[str, ...]
    last: str | None
    top: bool
    trainable: bool = True
    pending: set[str] = field(default_factory=set)
    counters: dict[str, int] = field(default_factory=dict)
    spans: dict[str, Span] = field(default_factory=dict)


def expand(model: ModelSpec, overrides: Overrides | None = None) -> LayerGraph:
    return _Expander(model, overrides or Overrides()).run()


class _Expander:
    def __init__(self, model: ModelSpec, overrides: Overrides):
        self.model = model
        self.overrides = overrides
        self.graph = LayerGraph(model.name, dtype=self.checked_overrides() or model.dtype)
        for name in model.blocks:
            if name in REGISTRY:
                raise SpecError(
                    f"block `{name}` has the name of a layer kind",
                    span=model.root.value["blocks"].key_spans[name], hint="rename the block",
                )
        self.check_defaults()

    def checked_overrides(self) -> str | None:
        """Command-line values a spec cannot vouch for; returns the canonical dtype override."""
        unknown = [n for n in self.overrides.inputs if n not in self.model.inputs
                   and not (n == "" and len(self.model.inputs) == 1)]
        if unknown:
            name = unknown[0]
            raise UsageError(
                f"--input {name}: the spec has no input `{name}`" if name
                else "--input: the spec has several inputs; say which one (NAME=SHAPE)",
                hint=f"its inputs: {', '.join(self.model.inputs)}",
            )
        if self.overrides.batch is not None and self.overrides.batch < 1:
            raise UsageError(f"--batch must be at least 1, found {self.overrides.batch}")
        if self.overrides.dtype is None:
            return None
        dtype = canonical_dtype(self.overrides.dtype)
        if dtype is None:
            raise UsageError(
                f"--dtype {self.overrides.dtype}: unknown dtype",
                hint=suggest(self.overrides.dtype, list(DTYPE_BYTES)) or f"dtypes: {', '.join(DTYPE_BYTES)}",
            )
        return dtype

    def check_defaults(self) -> None:
        """Defaults name a kind and its attributes; a typo here must not be silently ignored."""
        if not self.model.defaults:
            return
        key_spans = self.model.root.value["defaults"].key_spans
        for kind_name, node in self.model.defaults.items():
            try:
                kind = lookup(kind_name)
            except SpecError as error:  # suggest kind names only: an alias is refused below
                raise SpecError(
                    f"defaults: {error.message}", span=key_spans[kind_name],
                    hint=suggest(kind_name, list(REGISTRY)) or error.hint,
                ) from None
            if kind.name != kind_name:
                raise SpecError(
                    f"defaults: write the kind's name `{kind.name}`, not its alias `{kind_name}`",
                    span=key_spans[kind_name],
                )
            expect_map(node, f"defaults.{kind_name}")
            known = [attr.name for attr in kind.attrs]
            for key, span in node.key_spans.items():
                if key not in known:
                    raise SpecError(
                        f"{kind.name} has no attribute `{key}`", span=span,
                        hint=suggest(key, known) or f"its attributes: {', '.join(known)}",
                    )

    # -- top level ----------------------------------------------------------------------------

    def run(self) -> LayerGraph:
        env = self.global_vars()
        self.env = env
        self.graph.batch = self.batch(env)
        scope = _Scope("", dict(env), {}, [], (), (), None, top=True)
        for name, shape_node in self.model.inputs.items():
            self.add_input(name, shape_node, env, scope)
        first = self.graph.inputs[0].name
        scope.last = first if len(self.model.inputs) == 1 else None
        assert self.model.layers is not None
        self.expand_list(self.model.layers, scope, "layers")
        if not any(not n.is_input for n in self.graph):
            if not self.model.layers.value:
                raise SpecError("`layers` is empty", span=self.model.layers.span)
            raise SpecError(
                "no layer is left after expansion", span=self.model.layers.span,
                hint="every layer was skipped by `when:` or repeated 0 times",
            )
        self.graph.outputs = self.outputs(scope)
        top = self.model.root.value
        self.graph.sections = {key: top[key] for key in ("budgets", "lints") if key in top}
        return self.graph

    def global_vars(self) -> dict[str, Any]:
        env: dict[str, Any] = {}
        for name, node in self.model.vars.items():
            span = self.model.root.value["vars"].key_spans[name]
            if not name.isidentifier() or name in FUNCTIONS or name == "i":
                raise SpecError(
                    f"`{name}` cannot be a var name", span=span,
                    hint="`i` is the index of `repeat:`; choose another name" if name == "i"
                    else "use a Python-style identifier that is not a function name",
                )
            if name in self.overrides.vars:
                env[name] = self.overrides.vars[name]
            else:
                env[name] = self.value(node, env)
        for name in self.overrides.vars:
            if name not in env:
                raise UsageError(
                    f"--set {name}: the spec has no var `{name}`",
                    hint=suggest(name, list(env)) or (f"its vars: {', '.join(env)}" if env else "it has no vars"),
                )
        return env

    def batch(self, env: dict[str, Any]) -> int:
        if self.overrides.batch is not None:
            return self.overrides.batch
        if self.model.batch is None:
            return 1
        return self.checked_int(
            self.model.batch, env, "batch", minimum=1,
            hint="`batch` is the number of samples per step, a whole number >= 1",
        )

    def add_input(self, name: str, shape_node: Node, env: dict[str, Any], scope: _Scope) -> None:
        if not _NAME.match(name):
            raise SpecError(f"`{name}` is not a valid input name", span=shape_node.span)
        override = self.overrides.inputs.get(name) or (
            self.overrides.inputs.get("") if len(self.model.inputs) == 1 else None
        )
        if override is not None:
            shape = tuple(override)
        else:
            items = expect_list(shape_node, f"input {name}") if shape_node.is_list else None
            if not items:
                raise SpecError(
                    f"input `{name}` must be a per-sample shape list, channels first",
                    span=shape_node.span, hint="e.g. `[3, 224, 224]` (C, H, W) or `[1, 40]` (C, L)",
                )
            shape = tuple(
                self.checked_int(item, env, "an input dimension", minimum=1,
                                 hint="sizes are whole numbers >= 1, channels first: `[3, 224, 224]`")
                for item in items
            )
        kind = lookup("input")
        attrs = kind.make_attrs({"shape": list(shape), "batch": self.graph.batch})
        self.graph.add(LayerNode(name, kind, attrs, (), shape_node.span))
        scope.names[name] = name
        scope.spans[name] = shape_node.span

    def outputs(self, scope: _Scope) -> list[str]:
        node = self.model.outputs
        if node is None:
            assert scope.last is not None
            return [scope.last]
        items = node.value if node.is_list else [node]
        if not items:
            raise SpecError("`outputs` is empty", span=node.span)
        # an output skipped by `when:` resolves to the layer it passes through: list it once
        return list(dict.fromkeys(self.resolve(item, scope) for item in items))

    # -- lists and entries --------------------------------------------------------------------

    def expand_list(self, layers: Node, scope: _Scope, what: str) -> None:
        if isinstance(layers.value, str) and layers.value.strip():
            raise SpecError(
                f"`{what}` must be a list of layers", span=layers.span,
                hint="one layer per line, each starting with `- `",
            )
        entries = [self.parse_entry(item) for item in expect_list(layers, what)]
        scope.pending = {e.meta["name"].value for e in entries if "name" in e.meta
                         and isinstance(e.meta["name"].value, str)}
        for entry in entries:
            self.expand_entry(entry, scope)

    def parse_entry(self, item: Node) -> _Entry:
        if isinstance(item.value, str):
            return _Entry(item.value, item.span, {}, {}, item)
        if not item.is_map:
            raise SpecError(
                "a layer is a kind name (`- relu`) or `- kind: {attributes}`", span=item.span,
            )
        kinds = [k for k in item.value if k not in META_KEYS]
        if len(kinds) != 1:
            self.entry_kinds_error(item, kinds)
        kind = kinds[0]
        meta = {k: v for k, v in item.value.items() if k in META_KEYS}
        body = item.value[kind]
        attrs: dict[str, Node] = {}
        if body.is_map:
            for key, value in body.value.items():
                if key in META_KEYS:
                    if key in meta:
                        raise SpecError(f"`{key}` is given twice", span=body.key_spans[key])
                    meta[key] = value
                else:
                    attrs[key] = value
        elif body.value is not None:
            raise SpecError(
                f"the attributes of `{kind}` must be a mapping", span=body.span,
                hint=f"e.g. `- {kind}: {{attribute: value}}`",
            )
        return _Entry(kind, item.key_spans[kind], attrs, meta, item)

    def entry_kinds_error(self, item: Node, kinds: list[str]) -> None:
        if not kinds:
            raise SpecError(
                "this layer entry names no kind or block", span=item.span,
                hint="e.g. `- conv2d: {out: 64, kernel: 3}` or `- relu`",
            )
        first, extra = kinds[0], kinds[1]
        span = item.key_spans[extra]
        block = self.model.blocks.get(first)
        kind = REGISTRY.get(first)
        params = list(block.args) if block else [a.name for a in kind.attrs] if kind else []
        if extra in params:
            raise SpecError(
                f"`{extra}` is an attribute of `{first}`, not a layer kind", span=span,
                hint=f"indent it under `{first}:`, or write `- {first}: {{{extra}: ...}}`",
            )
        raise SpecError(
            f"a layer entry names exactly one kind or block, found `{first}` and `{extra}`",
            span=span, hint=f"start each layer on its own line with `- ` (`- {extra}`)",
        )

    def expand_entry(self, entry: _Entry, scope: _Scope) -> None:
        env = scope.env
        if "when" in entry.meta and not self.checked_bool(entry.meta["when"], env, "when"):
            # a skipped layer is an identity: it passes its (first) input through
            # (under a name an active alternative may hold too: the active layer keeps it)
            through = self.inputs_of(entry, scope)[0]
            if "name" in entry.meta:
                local = self.local_name(entry, scope, unique=False)
                if local not in scope.spans:
                    scope.names[local] = through
                scope.pending.discard(local)
            scope.last = through
            return
        local = self.local_name(entry, scope)
        if "repeat" in entry.meta:
            count = self.checked_int(
                entry.meta["repeat"], env, "repeat", minimum=0,
                hint="`repeat: N` stacks N copies of the layer; N is a whole number >= 0",
            )
            group = scope.scopes + (scope.prefix + local,)
            inputs = self.inputs_of(entry, scope)
            for index in range(count):
                instance = _Scope(**{**scope.__dict__, "env": {**env, "i": index}, "scopes": group})
                self.instantiate(entry, instance, f"{local}.{index}", inputs)
                inputs = [instance.last] if instance.last else inputs
                scope.names.update(instance.names)
                scope.counters = instance.counters
            scope.last = inputs[0]
            scope.names[local] = inputs[0]
        else:
            self.instantiate(entry, scope, local, self.inputs_of(entry, scope))
        scope.pending.discard(local)
        scope.spans[local] = entry.node.span

    def local_name(self, entry: _Entry, scope: _Scope, unique: bool = True) -> str:
        if "name" not in entry.meta:
            count = scope.counters.get(entry.kind, 0) + 1
            scope.counters[entry.kind] = count
            return f"{entry.kind}_{count}"
        node = entry.meta["name"]
        if not isinstance(node.value, str) or not _NAME.match(node.value):
            raise SpecError(
                f"invalid layer name {node.value!r}" if isinstance(node.value, str)
                else f"a layer name must be a string, found {_found(node)}", span=node.span,
                hint="names use letters, digits, `_`, `.` and `-`, starting with a letter",
            )
        if unique and node.value in scope.names and node.value in scope.spans:
            first = scope.spans[node.value]
            raise SpecError(
                f"layer name `{node.value}` is already used", span=node.span,
                hint=f"first used at line {first.line}",
            )
        return node.value

    def inputs_of(self, entry: _Entry, scope: _Scope) -> list[str]:
        if "from" in entry.meta:
            node = entry.meta["from"]
            items = node.value if node.is_list else [node]
            if not items:
                raise SpecError("`from` is empty", span=node.span)
            return [self.resolve(item, scope) for item in items]
        if scope.last is None:
            names = ", ".join(n.name for n in self.graph.inputs)
            raise SpecError(
                f"`{entry.kind}` has no input: the spec has several inputs ({names})",
                span=entry.kind_span, hint="say which with `from:`",
            )
        return [scope.last]

    def resolve(self, ref: Node, scope: _Scope) -> str:
        text = ref.value
        if not isinstance(text, str):
            raise SpecError(
                f"expected a layer name, found {_found(ref)}", span=ref.span,
                hint="refer to a layer by its name, e.g. `conv1` (several: `[conv1, conv2]`)",
            )
        if text in scope.names:
            return scope.names[text]
        if not scope.top:
            match = re.fullmatch(r"input(?:\.(\d+))?", text)
            if match:
                index = int(match.group(1) or 0)
                if index < len(scope.inputs):
                    return scope.inputs[index]
                raise GraphError(
                    f"`{text}`: the block has {len(scope.inputs)} input(s)", span=ref.span
                )
        elif text in self.graph.nodes:
            return text
        if text in scope.pending:
            raise GraphError(
                f"`{text}` is defined after this layer", span=ref.span,
                hint="a layer can only read layers above it (cycles are not allowed)",
            )
        candidates = list(scope.names) + ([] if scope.top else ["input"])
        raise GraphError(
            f"unknown layer `{text}`", span=ref.span,
            hint=suggest(text, candidates) or "refer to a layer by its `name:`",
        )

    # -- instantiation ------------------------------------------------------------------------

    def instantiate(self, entry: _Entry, scope: _Scope, local: str, inputs: list[str]) -> None:
        if len(self.graph) > MAX_LAYERS:
            raise SpecError(f"the spec expands to more than {MAX_LAYERS:,} layers", span=entry.kind_span)
        block = self.model.blocks.get(entry.kind)
        if block is not None:
            self.expand_block(block, entry, scope, local, inputs)
        else:
            self.add_layer(entry, scope, local, inputs)

    def expand_block(self, block: BlockDef, entry: _Entry, scope: _Scope, local: str, inputs: list[str]) -> None:
        if "share" in entry.meta:
            raise SpecError(
                f"`share:` works on single layers, not on block `{block.name}`",
                span=entry.node.key_spans.get("share") or entry.meta["share"].span,
                hint="put `share:` on the layers inside the block",
            )
        if block.name in scope.stack:
            chain = " → ".join((*scope.stack[scope.stack.index(block.name):], block.name))
            raise GraphError(
                f"block `{block.name}` instantiates itself ({chain})", span=entry.kind_span,
                hint="blocks cannot be recursive; use `repeat:` for repetition",
            )
        for key in entry.attrs:
            if key not in block.args:
                raise SpecError(
                    f"block `{block.name}` has no argument `{key}`",
                    span=entry.node.value[entry.kind].key_spans[key],
                    hint=suggest(key, list(block.args)) or (
                        f"its arguments: {', '.join(block.args)}" if block.args else "it takes no arguments"),
                )
        env = dict(self.env)
        for key, default in block.args.items():
            if key in entry.attrs:
                env[key] = self.value(entry.attrs[key], scope.env)
            elif default.value is None:
                raise SpecError(
                    f"block `{block.name}` needs argument `{key}`", span=entry.kind_span,
                    hint=f"pass it: `- {block.name}: {{{key}: ...}}`",
                )
            else:
                env[key] = self.value(default, env)
        trainable = scope.trainable and self.trainable(entry, scope)
        inner = _Scope(
            prefix=scope.prefix + local + ".", env=env, names={}, inputs=inputs,
            stack=scope.stack + (block.name,), scopes=scope.scopes + (scope.prefix + local,),
            last=inputs[0], top=False, trainable=trainable,
        )
        self.expand_list(block.layers, inner, f"blocks.{block.name}.layers")
        output = self.resolve(block.output, inner) if block.output is not None else inner.last
        assert output is not None
        for name, target in inner.names.items():
            scope.names[f"{local}.{name}"] = target
        scope.names[local] = output
        scope.last = output

    def trainable(self, entry: _Entry, scope: _Scope) -> bool:
        if "trainable" not in entry.meta:
            return True
        return self.checked_bool(entry.meta["trainable"], scope.env, "trainable")

    def add_layer(self, entry: _Entry, scope: _Scope, local: str, inputs: list[str]) -> None:
        try:
            kind = lookup(entry.kind)
        except SpecError as error:
            hint = error.hint
            close = suggest(entry.kind, list(self.model.blocks))
            raise SpecError(error.message, span=entry.kind_span, hint=close or hint) from None
        if not kind.min_inputs <= len(inputs) <= (
            len(inputs) if kind.max_inputs is None else kind.max_inputs
        ):
            self.arity_error(kind, entry, len(inputs))
        attrs = self.attrs(kind, entry, scope.env)
        name = scope.prefix + local
        if name in self.graph.nodes:
            raise SpecError(f"layer name `{name}` is already used", span=entry.node.span)
        refs = tuple(
            self.resolve(entry.attrs[a.name], scope)
            for a in kind.attrs if isinstance(a.type, Name) and a.name in entry.attrs
        )
        share = self.resolve(entry.meta["share"], scope) if "share" in entry.meta else None
        if share is not None:
            self.check_share(entry.meta["share"], self.graph.nodes[share], kind, attrs)
        node = LayerNode(
            name, kind, attrs, tuple(inputs), entry.kind_span, scope.scopes, refs, share,
            scope.trainable and self.trainable(entry, scope),
        )
        self.graph.add(node)
        scope.names[local] = name
        scope.last = name

    def check_share(self, ref: Node, target: LayerNode, kind: Any, attrs: Any) -> None:
        if target.kind is not kind:
            raise SpecError(
                f"`share: {ref.value}` needs a {kind.name}, but `{ref.value}` is "
                f"{'an' if target.kind.name[0] in 'aeiou' else 'a'} {target.kind.name}",
                span=ref.span, hint="a layer can only share the weights of a layer of its own kind",
            )
        differ = [key for key in attrs if attrs[key] != target.attrs[key]]
        if differ:
            key = differ[0]
            raise SpecError(
                f"`share: {ref.value}` needs the attributes of `{ref.value}`, but `{key}` differs",
                span=ref.span,
                hint=f"`{key}` is {_show(attrs[key])} here and {_show(target.attrs[key])} "
                f"in `{ref.value}`",
            )

    def arity_error(self, kind: Any, entry: _Entry, count: int) -> None:
        if kind.max_inputs == 0:
            raise SpecError(f"`{kind.name}` cannot be used in `layers`", span=entry.kind_span,
                            hint="declare inputs under `input:` or `inputs:`")
        want = (
            f"exactly {kind.min_inputs}" if kind.min_inputs == kind.max_inputs
            else f"at least {kind.min_inputs}" if kind.max_inputs is None
            else f"{kind.min_inputs} to {kind.max_inputs}"
        )
        span = entry.meta["from"].span if "from" in entry.meta else entry.kind_span
        raise SpecError(
            f"{kind.name} takes {want} input{'s' if kind.min_inputs != 1 else ''}, found {count}",
            span=span, hint="list them with `from: [a, b]`" if kind.min_inputs > 1
            else "to combine several layers, use add, multiply or concat",
        )

    def attrs(self, kind: Any, entry: _Entry, env: dict[str, Any]) -> Any:
        defaults_node = self.model.defaults.get(kind.name)
        defaults = expect_map(defaults_node, f"defaults.{kind.name}") if defaults_node else {}
        nodes = {**defaults, **entry.attrs}
        raw = {key: node.plain() for key, node in nodes.items()}
        try:
            return kind.make_attrs(raw, self.evaluator(env, list(nodes.values())))
        except SpecError as error:
            if error.span is not None:
                raise
            span, hint = entry.kind_span, error.hint
            # "attribute `k`: <bad value>" points at the value, "no attribute `k`" at the key
            on_value = error.message.startswith("attribute `")
            if error.key in entry.attrs:
                body = entry.node.value[entry.kind]
                span = entry.attrs[error.key].span if on_value else body.key_spans[error.key]
            elif error.key in defaults and defaults_node is not None:
                span = defaults[error.key].span if on_value else defaults_node.key_spans[error.key]
            missing = [a.name for a in kind.attrs if a.default is REQUIRED and a.name not in raw]
            attr = kind.attr(error.key) if on_value and error.key else None
            if hint is None and attr is not None:
                hint = f"`{attr.name}` takes {attr.type.label}"
            elif hint is None and error.key is None and missing:
                hint = f"add it: `- {entry.kind}: {{{', '.join(f'{m}: ...' for m in missing)}}}`"
            raise SpecError(error.message, span=span, hint=hint) from None

    # -- values -------------------------------------------------------------------------------

    def evaluator(self, env: dict[str, Any], nodes: list[Node]) -> Any:
        def run(text: str) -> Any:
            try:
                return evaluate(text, env)
            except ExpressionError as error:
                node = _find_scalar(nodes, text)
                span = _expression_span(node, error) if node else None
                raise SpecError(error.message, span=span, hint=error.hint) from None
        return run

    def value(self, node: Node, env: dict[str, Any]) -> Any:
        """A var or block argument: numbers as written, strings evaluated, lists elementwise."""
        if node.is_list:
            return [self.value(item, env) for item in node.value]
        if node.is_map:
            raise SpecError("expected a number, expression or list, found a mapping", span=node.span)
        if isinstance(node.value, str):
            return self.evaluator(env, [node])(node.value)
        return node.value

    def checked_int(
        self, node: Node, env: dict[str, Any], what: str, minimum: int = 0, hint: str | None = None
    ) -> int:
        try:
            number = to_int(node.plain(), self.evaluator(env, [node]), f"an integer for {what}")
        except SpecError as error:
            raise error.located(node.span, hint=hint) from None
        if number < minimum:
            raise SpecError(
                f"{what} must be at least {minimum}, found {number}", span=node.span, hint=hint
            )
        return number

    def checked_bool(self, node: Node, env: dict[str, Any], what: str) -> bool:
        if isinstance(node.value, str) and node.value.lower() in YAML11_BOOLEANS:
            raise SpecError(
                f"`{what}` must be true or false, found `{node.value}`", span=node.span,
                hint="write `true` or `false`: cnncalc does not read yes/no/on/off as booleans",
            )
        value = self.value(node, env)
        if not isinstance(value, bool):
            number = isinstance(value, (int, float)) and isinstance(node.value, str)
            raise SpecError(
                f"`{what}` must be true or false, found {value!r}", span=node.span,
                hint=f"use a comparison, e.g. `{what}: {node.value} > 0`" if number
                else "only `true` and `false` are booleans (not yes/no/on/off)",
            )
        return value


def _found(node: Node) -> str:
    """A spec value for a message, without dumping nested Nodes."""
    if node.is_map:
        return "a mapping"
    if node.is_list:
        return "a list"
    return repr(node.value)


def _show(value: Any) -> str:
    """An attribute value as a spec would write it: tuples as lists."""
    if isinstance(value, tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value).lower() if isinstance(value, bool) else str(value)


def _find_scalar(nodes: list[Node], text: str) -> Node | None:
    for node in nodes:
        if node.value == text:
            return node
        if node.is_list:
            found = _find_scalar(node.value, text)
            if found:
                return found
    return None


def _expression_span(node: Node, error: ExpressionError) -> Span:
    span = node.span
    if span.line != span.end_line:
        return span
    quoted = span.source.line(span.line)[span.col - 1: span.col] in ("'", '"')
    return span.shifted(error.offset + (1 if quoted else 0), error.length)
