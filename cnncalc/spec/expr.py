"""A safe arithmetic evaluator for spec expressions (`2*width`, `c // 4`, `2 if i == 0 else 1`).

Python's own parser reads the expression; only a whitelist of node types is evaluated, never
`eval`. Names come from the spec's vars, block arguments and the repeat index `i`.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from cnncalc.errors import SpecError

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_COMPARE: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
}


def _make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """MobileNet/EfficientNet channel rounding (torchvision's `_make_divisible`)."""
    minimum = divisor if min_value is None else min_value
    rounded = max(minimum, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "min": min, "max": max, "abs": abs, "int": int, "round": round, "float": float,
    "ceil": math.ceil, "floor": math.floor, "sqrt": math.sqrt,
    "make_divisible": _make_divisible,
}


GRAMMAR = (
    "expressions use numbers, names, + - * / // % **, comparisons, `a if cond else b`, "
    f"and {', '.join(FUNCTIONS)}"
)
#: words YAML 1.1 reads as booleans; a spec keeps them as strings (DESIGN: YAML pitfalls)
YAML11_BOOLEANS = frozenset({"yes", "no", "on", "off"})


class ExpressionError(SpecError):
    """A bad expression; `offset`/`length` locate the culprit inside the expression text."""

    def __init__(self, message: str, *, offset: int = 0, length: int = 0, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.offset = offset
        self.length = length


@lru_cache(maxsize=4096)
def _parse(text: str) -> ast.expr:
    if len(text) > 500:
        raise ExpressionError("expression longer than 500 characters")
    stripped = text.strip()
    try:
        return ast.parse(stripped, mode="eval").body
    except SyntaxError as error:
        # offset 0 means "at the end" (e.g. `w +`): point at the last character
        offset = (error.offset or 0) - 1 if error.offset else len(stripped) - 1
        offset = min(max(offset, 0), max(len(stripped) - 1, 0)) + len(text) - len(text.lstrip())
        # Python's own words for unbalanced brackets are clear ("'(' was never closed")
        detail = f": {error.msg}" if error.msg.startswith("'") else ""
        raise ExpressionError(
            f"invalid expression {stripped!r}{detail}", offset=offset, length=1, hint=GRAMMAR,
        ) from None


def evaluate(text: str, names: Mapping[str, Any] | None = None) -> Any:
    """Evaluate `text` with `names` bound.

    >>> evaluate("2*width + 1", {"width": 8})
    17
    """
    tree = _parse(text)
    lead = len(text) - len(text.lstrip())
    return _Evaluator(names or {}, lead).visit(tree)


class _Evaluator:
    def __init__(self, names: Mapping[str, Any], lead: int):
        self.names = names
        self.lead = lead

    def fail(self, node: ast.AST, message: str, hint: str | None = None) -> ExpressionError:
        offset = getattr(node, "col_offset", 0) + self.lead
        end = getattr(node, "end_col_offset", None)
        length = (end + self.lead - offset) if end is not None else 1
        return ExpressionError(message, offset=offset, length=length, hint=hint)

    def visit(self, node: ast.AST) -> Any:
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            raise self.fail(node, f"`{ast.unparse(node)}` is not allowed in an expression", GRAMMAR)
        return method(node)

    def visit_Constant(self, node: ast.Constant) -> Any:
        if isinstance(node.value, (int, float, str)) or node.value is None:
            return node.value
        raise self.fail(node, f"constant {node.value!r} is not allowed")

    def visit_Name(self, node: ast.Name) -> Any:
        if node.id in self.names:
            return self.names[node.id]
        if node.id in ("true", "True"):
            return True
        if node.id in ("false", "False"):
            return False
        from cnncalc.layers.base import suggest

        known = sorted(self.names)
        if node.id.lower() in YAML11_BOOLEANS:
            hint = "write `true` or `false`: cnncalc does not read yes/no/on/off as booleans"
        else:
            hint = suggest(node.id, known) or (
                f"names defined here: {', '.join(known)}" if known
                else f"write a number, or define `{node.id}` under `vars:`"
            )
        raise self.fail(node, f"unknown name `{node.id}`", hint=hint)

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        op = _BINARY.get(type(node.op))
        if op is None:
            raise self.fail(node, "operator not allowed")
        left, right = self.visit(node.left), self.visit(node.right)
        self._number(node.left, left)
        self._number(node.right, right)
        if isinstance(node.op, ast.Pow) and (abs(right) > 64 or abs(left) > 1e6):
            raise self.fail(node, "exponent too large")
        if isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)) and right == 0:
            divisor = ast.unparse(node.right)
            raise self.fail(
                node.right, "division by zero" + ("" if divisor == "0" else f": `{divisor}` is 0")
            )
        try:
            result = op(left, right)
        except ZeroDivisionError:  # 0 ** -1
            raise self.fail(node, "division by zero") from None
        except OverflowError:  # float ** float beyond 1e308
            raise self.fail(node, "the result is too large") from None
        if isinstance(node.op, ast.Div) and isinstance(result, float) and result.is_integer():
            return int(result)
        return result

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        value = self.visit(node.operand)
        if isinstance(node.op, ast.Not):
            return not value
        self._number(node.operand, value)
        return -value if isinstance(node.op, ast.USub) else +value

    def visit_BoolOp(self, node: ast.BoolOp) -> Any:
        values = [self.visit(v) for v in node.values]
        return all(values) if isinstance(node.op, ast.And) else any(values)

    def visit_Compare(self, node: ast.Compare) -> bool:
        left = self.visit(node.left)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            compare = _COMPARE.get(type(op))
            if compare is None:
                raise self.fail(node, "comparison not allowed")
            right = self.visit(comparator)
            try:
                holds = compare(left, right)
            except TypeError:
                raise self.fail(node, f"cannot compare {left!r} with {right!r}") from None
            if not holds:
                return False
            left = right
        return True

    def visit_IfExp(self, node: ast.IfExp) -> Any:
        return self.visit(node.body) if self.visit(node.test) else self.visit(node.orelse)

    def visit_Call(self, node: ast.Call) -> Any:
        if node.keywords:
            keyword = node.keywords[0]
            raise self.fail(
                keyword, f"`{ast.unparse(node.func)}` takes no keyword arguments",
                hint=f"write the arguments in order: `{ast.unparse(node.func)}(a, b)`",
            )
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            from cnncalc.layers.base import suggest

            name = ast.unparse(node.func)
            raise self.fail(
                node.func, f"unknown function `{name}`",
                hint=suggest(name, sorted(FUNCTIONS)) or f"functions: {', '.join(FUNCTIONS)}",
            )
        args = [self.visit(a) for a in node.args]
        try:
            return FUNCTIONS[node.func.id](*args)
        except (TypeError, ValueError, OverflowError) as error:
            raise self.fail(node, f"{node.func.id}(): {error}") from None

    def visit_List(self, node: ast.List) -> list[Any]:
        return [self.visit(e) for e in node.elts]

    visit_Tuple = visit_List

    def _number(self, node: ast.AST, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(node, f"expected a number, found {value!r}")
