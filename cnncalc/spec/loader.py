"""Load a YAML spec into a tree of `Node`s that remember where they came from.

YAML pitfalls are rejected rather than guessed at: duplicate keys are an error, only
`true`/`false` are booleans (`yes`, `no`, `on`, `off` stay strings), anchors may not expand into
more than MAX_NODES nodes (alias bombs), and empty or binary files get a clear message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cnncalc.errors import Source, Span, SpecError

MAX_NODES = 200_000
MAX_BYTES = 10_000_000


@dataclass(eq=False)
class Node:
    """A YAML value with its span; mappings keep the span of each key too."""

    value: Any  # dict[str, Node] | list[Node] | str | int | float | bool | None
    span: Span
    key_spans: dict[str, Span] = field(default_factory=dict)

    @property
    def is_map(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_list(self) -> bool:
        return isinstance(self.value, list)

    def plain(self) -> Any:
        """The value with every nested Node unwrapped."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value


class _Resolver(yaml.resolver.BaseResolver):
    """YAML 1.2 core-schema scalars: no yes/no/on/off booleans, no sexagesimal numbers."""


_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?[0-9][0-9_]*|0x[0-9a-fA-F_]+|0o[0-7_]+)$"),
    list("-+0123456789"),
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)

_Parser: Any = getattr(yaml, "CParser", None)
if _Parser is None:  # pragma: no cover - libyaml missing

    class _PyParser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer):
        def __init__(self, stream: str):
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)

    _Parser = _PyParser


class _Composer(_Parser, _Resolver):  # type: ignore[misc, valid-type]
    def __init__(self, stream: str):
        _Parser.__init__(self, stream)
        _Resolver.__init__(self)


def read_source(path: str | Path, display: str | None = None) -> Source:
    """Read a spec file as UTF-8 text, refusing binary and oversized files."""
    path = Path(path)
    name = display or str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SpecError(f"{name}: no such file", hint="zoo names are listed by `cnncalc zoo`") from None
    except IsADirectoryError:
        raise SpecError(f"{name}: is a directory, not a spec file") from None
    except OSError as error:
        raise SpecError(f"{name}: cannot read ({error.strerror})") from None
    return source_from_bytes(data, name)


def source_from_bytes(data: bytes, name: str) -> Source:
    empty = Source(name, "")
    if len(data) > MAX_BYTES:
        raise SpecError(f"spec is larger than {MAX_BYTES // 1_000_000} MB", span=Span(empty, 1, 1, 1, 1))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SpecError(
            "the spec is UTF-16 encoded", span=Span(empty, 1, 1, 1, 1),
            hint="save the spec as UTF-8",
        )
    if b"\x00" in data:
        raise SpecError(
            "this is a binary file, not a YAML spec", span=Span(empty, 1, 1, 1, 1),
            hint="a spec is a UTF-8 text file (see docs/spec.md)",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        line_start = data.rfind(b"\n", 0, error.start) + 1
        col = len(data[line_start: error.start].decode("utf-8", "replace")) + 1
        raise SpecError(
            f"invalid UTF-8 byte 0x{data[error.start]:02x}",
            span=Span(Source(name, data.decode("utf-8", "replace")), line, col, line, col + 1),
            hint="save the spec as UTF-8",
        ) from None
    return Source(name, text)


def load(source: Source) -> Node:
    """Parse one YAML document into Nodes."""
    if not source.text.strip() or all(
        not line.strip() or line.lstrip().startswith("#") for line in source.text.splitlines()
    ):
        raise SpecError(
            "the spec is empty", span=Span(source, 1, 1, 1, 1),
            hint="a spec needs at least `input:` and `layers:` (see docs/spec.md)",
        )
    composer = _Composer(source.text)
    try:
        root = composer.get_single_node()
    except yaml.MarkedYAMLError as error:
        raise _syntax_error(source, error) from None
    except yaml.YAMLError as error:
        raise SpecError(f"YAML syntax: {error}", span=Span(source, 1, 1, 1, 1)) from None
    finally:
        composer.dispose()
    if root is None:
        raise SpecError("the spec is empty", span=Span(source, 1, 1, 1, 1))
    return _Converter(source).convert(root)


def _syntax_error(source: Source, error: yaml.MarkedYAMLError) -> SpecError:
    problem = error.problem or error.context or "invalid YAML"
    mark, opened = error.problem_mark or error.context_mark, error.context_mark
    if opened is not None and ("end of stream" in problem or "<stream end>" in problem):
        # the file ended inside something (a quote, a bracket): point at where it opened
        char = _char_at(source, opened)
        closing = {"{": "}", "[": "]", '"': '"', "'": "'"}.get(char)
        if closing is None:
            return SpecError(f"YAML syntax: {problem} {error.context}",
                             span=_mark_span(source, opened), hint=_syntax_hint(problem))
        return SpecError(
            f"YAML syntax: the file ends before this `{char}` is closed",
            span=_mark_span(source, opened), hint=f"add the closing `{closing}`",
        )
    if opened is not None and mark is not None and opened.line < mark.line and (
        "flow" in (error.context or "")
    ):
        return SpecError(
            f"YAML syntax: {problem}", span=_mark_span(source, mark),
            hint=f"the `{_char_at(source, opened)}` at line {opened.line + 1}, column "
            f"{opened.column + 1} is not closed before this point (or a comma is missing)",
        )
    if "another document" in problem:
        problem = "a second YAML document starts here"
    span = _mark_span(source, mark) if mark else None
    return SpecError(f"YAML syntax: {problem}", span=span, hint=_syntax_hint(problem))


def _char_at(source: Source, mark: Any) -> str:
    return source.line(mark.line + 1)[mark.column: mark.column + 1]


def _syntax_hint(problem: str) -> str | None:
    if "tab" in problem or "\\t" in problem:
        return "indent with spaces, not tabs"
    if "mapping values" in problem:
        return "a `key: value` needs a space after the colon, and nested mappings need indentation"
    if "expected ',' or ']'" in problem or "expected ',' or '}'" in problem:
        return "separate the items of a `[...]` list or `{...}` mapping with commas"
    if "<block end>" in problem:
        return "check the indentation: this line is indented differently from the lines above"
    if "second YAML document" in problem:
        return "a spec is one YAML document: remove this `---` line and what follows, or split the file"
    if "undefined alias" in problem:
        return "an alias `*name` needs an anchor `&name` earlier in the file"
    return None


def _mark_span(source: Source, mark: Any, end: Any = None) -> Span:
    line, col = mark.line + 1, mark.column + 1
    if end is not None and end.line == mark.line and end.column > mark.column:
        return Span(source, line, col, line, end.column + 1)
    return Span(source, line, col, line, col + 1)


class _Converter:
    def __init__(self, source: Source):
        self.source = source
        self.count = 0
        self.active: list[yaml.Node] = []  # the collections being converted (recursion guard)

    def span(self, node: yaml.Node) -> Span:
        return _mark_span(self.source, node.start_mark, node.end_mark)

    def convert(self, node: yaml.Node) -> Node:
        self.count += 1
        if self.count > MAX_NODES:
            # blame the top-level value being expanded, not whichever scalar tipped the count
            culprit = self.active[1] if len(self.active) > 1 else node
            raise SpecError(
                f"the spec expands to more than {MAX_NODES:,} YAML nodes",
                span=self.span(culprit), hint="anchors and aliases nest too deeply (an alias bomb?)",
            )
        if isinstance(node, yaml.ScalarNode):
            return Node(self.scalar(node), self.span(node))
        if any(node is open_node for open_node in self.active):
            raise self.recursion_error(node)
        if len(self.active) > 100:
            raise SpecError("YAML nesting is deeper than 100 levels", span=self.span(node))
        if node.tag not in ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"):
            raise _tag_error(node.tag, self.span(node))
        self.active.append(node)
        try:
            if isinstance(node, yaml.MappingNode):
                return self.mapping(node)
            return Node([self.convert(item) for item in node.value], self.span(node))
        finally:
            self.active.pop()

    def recursion_error(self, node: yaml.Node) -> SpecError:
        """The node is its own ancestor: point at its anchor (`&name`), which the text still has."""
        message = "an alias refers to the collection that contains it (a recursive structure)"
        line = self.source.line(node.start_mark.line + 1)[node.start_mark.column:]
        anchor = re.match(r"&([^\s,\[\]{}]+)", line)
        if anchor is None:
            return SpecError(message, span=self.span(node))
        name = anchor.group(1)
        return SpecError(
            message, span=_mark_span(self.source, node.start_mark).shifted(0, len(anchor.group(0))),
            hint=f"`*{name}` is used inside the value of its own anchor `&{name}`",
        )

    def mapping(self, node: yaml.MappingNode) -> Node:
        values: dict[str, Node] = {}
        key_spans: dict[str, Span] = {}
        for key_node, value_node in node.value:
            key_span = self.span(key_node)
            if not isinstance(key_node, yaml.ScalarNode):
                raise SpecError("mapping keys must be plain names", span=key_span)
            key = key_node.value
            if key in values:
                first = key_spans[key]
                where = f"line {first.line}" + (
                    f", column {first.col}" if first.line == key_span.line else ""
                )
                raise SpecError(
                    f"duplicate key `{key}`", span=key_span,
                    hint=f"`{key}` is already set at {where}; YAML would silently "
                    "keep only the last one",
                )
            key_spans[key] = key_span
            values[key] = self.convert(value_node)
        return Node(values, self.span(node), key_spans)

    def scalar(self, node: yaml.ScalarNode) -> Any:
        if node.style in ("'", '"', "|", ">"):
            return node.value
        tag, text = node.tag, node.value
        if tag == "tag:yaml.org,2002:bool":
            return text.lower() == "true"
        if tag == "tag:yaml.org,2002:int":
            return int(text.replace("_", ""), 0)
        if tag == "tag:yaml.org,2002:float":
            return float(text.replace("_", "").replace("inf", "Infinity").replace("Inf", "Infinity").replace("INF", "Infinity"))
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag not in ("tag:yaml.org,2002:str", "!"):
            raise _tag_error(tag, self.span(node))
        return text


def _tag_error(tag: str, span: Span) -> SpecError:
    shown = tag.replace("tag:yaml.org,2002:", "!!")
    return SpecError(
        f"YAML tag `{shown}` is not supported", span=span,
        hint="a spec holds plain values only: numbers, strings, true/false, lists and mappings",
    )
