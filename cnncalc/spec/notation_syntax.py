"""The compact notation's tokens and syntax tree (docs/notation.md has the grammar in EBNF).

The parser is recursive descent over a token list; every token keeps its offsets into the text,
and a Locator turns offsets into spans of the source (the notation may sit inside a YAML file),
so an error points at the column with a caret and says what would fix it: "expected `]` to close
the group opened at column 12". cnncalc.spec.notation turns the tree into spec nodes.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Any

from cnncalc.errors import Source, Span, SpecError

SYNTAX_HINT = "join layers with `->` (or `→`), repeat a group with `[...]*N`, give arguments in `(...)`"
VALUE_HINT = "a value is a number, a size such as `3x3`, a name, a quoted expression or a `[...]` list"


# -- tokens ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: str  # NAME NUMBER DIMS STRING ARROW EOF, or the punctuation character itself
    text: str
    start: int
    end: int


_TOKEN = re.compile(
    r"(?P<space>(?:\s|\#[^\n]*)+)"
    r"|(?P<ARROW>->|→)"
    r"|(?P<DIMS>\d+(?:[x×]\d+)+)"
    r"|(?P<NUMBER>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
    r"|(?P<NAME>[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*)"
    r"|(?P<STRING>\"[^\"\n]*\"|'[^'\n]*')"
    r"|(?P<punct>[\[\](),=*?;-])"
)


class Locator:
    """Spans in the source for offsets into the notation text (which may sit inside a YAML file)."""

    def __init__(self, source: Source, offsets: list[int] | None = None, fallback: Span | None = None):
        self.source = source
        self.offsets = offsets
        self.fallback = fallback
        self.starts = [0] + [i + 1 for i, c in enumerate(source.text) if c == "\n"]

    def point(self, offset: int) -> tuple[int, int]:
        """(line, column) of an offset into the notation text, both from 1."""
        if self.offsets is None and self.fallback is not None:
            return self.fallback.line, self.fallback.col
        if self.offsets is not None:
            offset = self.offsets[min(offset, len(self.offsets) - 1)]
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1

    def span(self, start: int, end: int) -> Span:
        if self.offsets is None and self.fallback is not None:
            return self.fallback
        line, col = self.point(start)
        end_line, end_col = self.point(max(start, end - 1))
        return Span(self.source, line, col, end_line, end_col + 1)


def tokenize(text: str, loc: Locator) -> list[Token]:
    """The tokens of `text`, ending with EOF; white space and `#` comments are dropped."""
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            char = text[position]
            if char in "\"'":
                raise SpecError("this string is not closed", span=loc.span(position, position + 1),
                                hint=f"add the closing `{char}` (on the same line)")
            raise SpecError(f"unexpected character `{char}`", span=loc.span(position, position + 1),
                            hint=SYNTAX_HINT)
        kind = match.lastgroup or ""
        if kind in ("DIMS", "NUMBER") and match.end() < len(text) and re.match(r"[\w×.]", text[match.end()]):
            word = re.match(r"[\w×.]*", text[match.end():])
            end = match.end() + (len(word.group(0)) if word else 0)
            raise SpecError(f"malformed number `{text[position:end]}`", span=loc.span(position, end),
                            hint="sizes are written `3x224x224`, numbers `64` or `0.5`")
        if kind != "space":
            kind = match.group(0) if kind == "punct" else kind
            tokens.append(Token(kind, match.group(0), position, match.end()))
        position = match.end()
    end = tokens[-1].end if tokens else 0  # the end: just after the last token
    tokens.append(Token("EOF", "", end, end + 1))
    return tokens


# -- syntax tree ----------------------------------------------------------------------------------


@dataclass
class Value:
    data: Any  # int | float | str | bool | None | list[Value]
    start: int
    end: int
    quoted: bool = False


@dataclass
class Arg:
    key: Token | None
    value: Value


@dataclass
class Layer:
    name: Token
    args: list[Arg]
    start: int
    end: int
    parens: tuple[int, int] | None = None


@dataclass
class Group:
    items: list[Item]
    number: int  # order of its `[` in the text, from 1
    start: int
    end: int


@dataclass
class Item:
    body: Layer | Group
    count: Value | None = None
    star: Token | None = None
    optional: Token | None = None
    end: int = 0


class Parser:
    """program = {NAME "=" value [";"]} chain [";"]; chain = item {"->" item};
    item = (layer | "[" chain "]") {"*" count | "?"}; layer = NAME ["(" [arg {"," arg}] ")"]."""

    def __init__(self, tokens: list[Token], loc: Locator):
        self.tokens = tokens
        self.loc = loc
        self.index = 0
        self.groups = 0

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def next(self) -> Token:
        token = self.peek()
        self.index += 1
        return token

    def accept(self, kind: str) -> Token | None:
        return self.next() if self.peek().kind == kind else None

    def error(self, token: Token, message: str, hint: str | None = None) -> SpecError:
        return SpecError(message, span=self.loc.span(token.start, token.end), hint=hint)

    def where(self, opened: Token, at: Token) -> str:
        """`column 12`, or `line 3, column 12` when the error is on another line."""
        line, col = self.loc.point(opened.start)
        return f"column {col}" if line == self.loc.point(at.start)[0] else f"line {line}, column {col}"

    def program(self) -> tuple[list[tuple[Token, Value]], list[Item]]:
        if self.peek().kind == "EOF":
            raise self.error(self.peek(), "the notation is empty",
                             "e.g. `INPUT(3x32x32) -> CONV(16, k=3) -> RELU -> FC(10)` (docs/notation.md)")
        statements = []
        while self.peek().kind == "NAME" and self.peek(1).kind == "=":
            name = self.next()
            self.next()
            statements.append((name, self.value()))
            self.accept(";")
        items = self.chain(None)
        self.accept(";")
        end = self.peek()
        if end.kind != "EOF":
            raise self.unexpected(end, None)
        return statements, items

    def chain(self, opened: Token | None) -> list[Item]:
        items = [self.item(opened, None)]
        while True:
            arrow = self.accept("ARROW")
            if arrow is None:
                return items
            items.append(self.item(opened, arrow))

    def item(self, opened: Token | None, arrow: Token | None) -> Item:
        token = self.peek()
        if token.kind == "[":
            body: Layer | Group = self.group()
        elif token.kind == "NAME":
            body = self.layer()
        else:
            raise self.missing_layer(token, opened, arrow)
        item = Item(body, end=body.end)
        while self.peek().kind in ("*", "?"):
            mark = self.next()
            if mark.kind == "?":
                if item.optional is not None:
                    raise self.error(mark, "this layer is already marked optional", "write `?` once")
                item.optional = mark
            else:
                if item.star is not None:
                    raise self.error(mark, "the repeat count is given twice",
                                     "nest a group to multiply counts: `[[...]*2]*3`")
                item.star, item.count = mark, self.count(mark)
            item.end = self.tokens[self.index - 1].end
        return item

    def missing_layer(self, token: Token, opened: Token | None, arrow: Token | None) -> SpecError:
        after = "after `->`" if arrow is not None else "here"
        if token.kind == "EOF":
            if opened is not None and arrow is None:
                return self.error(token, "the notation ends inside a group",
                                  f"expected `]` to close the group opened at {self.where(opened, token)}")
            return self.error(token, f"the notation ends where a layer is expected {after}",
                              "remove the trailing `->`, or add the layer" if arrow else None)
        if token.kind == "]" and opened is not None and arrow is None:
            return self.error(token, "this group is empty", "a group holds layers: `[CONV(64, k=3) -> RELU]*2`")
        if token.kind == "ARROW":
            return self.error(token, f"expected a layer {after}, found `{token.text}`",
                              "write one `->` between two layers")
        return self.error(token, f"expected a layer {after}, found `{token.text}`",
                          "a layer is a name such as `CONV(64, k=3)` or `RELU`; a group is `[...]`")

    def unexpected(self, token: Token, opened: Token | None) -> SpecError:
        """The token that follows a complete item where `->`, `]` or the end was expected."""
        if token.kind == "NAME" and self.peek(1).kind == "=" and opened is None:
            message, hint = f"var `{token.text}` is set after the chain", \
                f"set vars before the chain: `{token.text} = ...; INPUT(...) -> ...`"
        elif token.kind == "NAME" or token.kind == "[":
            message, hint = f"expected `->` between layers, found `{token.text}`", \
                "write `->` (or `→`) between two layers"
        elif token.kind == "]" and opened is None:
            message, hint = "`]` closes no group", "remove it, or open the group with `[`"
        elif token.kind == "EOF":
            message, hint = "the notation ends inside a group", None
        else:
            message, hint = f"unexpected `{token.text}`", SYNTAX_HINT
        if opened is not None:
            hint = f"expected `]` to close the group opened at {self.where(opened, token)}"
        return self.error(token, message, hint)

    def group(self) -> Group:
        opened = self.next()
        self.groups += 1
        number = self.groups
        items = self.chain(opened)
        close = self.peek()
        if close.kind != "]":
            raise self.unexpected(close, opened)
        self.next()
        return Group(items, number, opened.start, close.end)

    def layer(self) -> Layer:
        name = self.next()
        layer = Layer(name, [], name.start, name.end)
        if self.peek().kind != "(":
            return layer
        opened = self.next()
        if self.accept(")") is None:
            layer.args = self.arguments(name, opened)
        layer.end = self.tokens[self.index - 1].end
        layer.parens = (opened.start, layer.end)
        return layer

    def arguments(self, name: Token, opened: Token) -> list[Arg]:
        """The arguments up to and including the closing `)`."""
        args = [self.argument()]
        while True:
            token = self.next()
            if token.kind == ")":
                return args
            if token.kind == ",":
                args.append(self.argument())
                continue
            hint = f"expected `)` to close the arguments opened at {self.where(opened, token)}"
            if token.kind == "EOF":
                raise self.error(token, f"the notation ends inside the arguments of `{name.text}`", hint)
            if token.kind in ("*", "-"):  # `CONV(2 * width)`: an expression needs quotes
                hint = 'quote an expression: `CONV("2 * width", k=3)`'
            raise self.error(token, f"expected `,` or `)` in the arguments of `{name.text}`, "
                             f"found `{token.text}`", hint)

    def argument(self) -> Arg:
        if self.peek().kind == "NAME" and self.peek(1).kind == "=":
            key = self.next()
            self.next()
            return Arg(key, self.value())
        return Arg(None, self.value())

    def value(self) -> Value:
        token = self.next()
        if token.kind == "-" and self.peek().kind == "NUMBER" and self.peek().start == token.end:
            number = self.value()
            return Value(-number.data, token.start, number.end)
        if token.kind == "NUMBER":
            text = token.text
            return Value(float(text) if any(c in text for c in ".eE") else int(text), token.start, token.end)
        if token.kind == "DIMS":
            parts = [Value(int(m.group(0)), token.start + m.start(), token.start + m.end())
                     for m in re.finditer(r"\d+", token.text)]
            return Value(parts, token.start, token.end)
        if token.kind == "NAME":
            words: dict[str, Any] = {"true": True, "false": False, "null": None, "none": None}
            lowered = token.text.lower()
            return Value(words[lowered] if lowered in words else token.text, token.start, token.end)
        if token.kind == "STRING":
            return Value(token.text[1:-1], token.start, token.end, quoted=True)
        if token.kind == "[":
            items: list[Value] = []
            if self.accept("]") is None:
                while True:
                    items.append(self.value())
                    close = self.next()
                    if close.kind == "]":
                        break
                    if close.kind != ",":
                        raise self.error(close, f"expected `,` or `]` in this list, found `{close.text or 'the end'}`",
                                         f"expected `]` to close the list opened at {self.where(token, close)}")
            return Value(items, token.start, self.tokens[self.index - 1].end)
        raise self.error(token, f"expected a value, found `{token.text or 'the end'}`", VALUE_HINT)

    def count(self, star: Token) -> Value:
        token = self.peek()
        if token.kind == "NUMBER" and token.text.isdigit():
            self.next()
            return Value(int(token.text), token.start, token.end)
        if token.kind in ("NAME", "STRING"):
            return self.value()
        raise self.error(token if token.kind != "EOF" else star,
                         f"expected a repeat count after `*`, found `{token.text or 'the end'}`",
                         "a count is a whole number or a var: `[CONV(64, k=3) -> RELU]*3`, `*N`")
