"""`cnncalc explain` renderers: the gap between two conventions as a table, JSON, CSV or
Markdown. The category rows and the layer rows each add up to the total difference (the
table folds the smallest layers into one "other layers" row, which keeps the sum)."""

from __future__ import annotations

import csv
import io
import json
from fractions import Fraction
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cnncalc.conventions.base import CATEGORY_LABELS, Number
from cnncalc.conventions.explain import EXPLANATIONS, Gap, LayerGap
from cnncalc.report.units import plain_number

SCHEMA = "cnncalc.explain/1"


def signed(value: Number) -> str:
    """+1,234 / -56 / 0, exact (a fraction as a decimal)."""
    if isinstance(value, Fraction) and value.denominator != 1:
        return f"{float(value):+,.2f}"
    return f"{int(value):+,}" if value else "0"


def count_text(value: Number) -> str:
    if isinstance(value, Fraction) and value.denominator != 1:
        return f"{float(value):,.2f}"
    return f"{int(value):,}"


def headline(gap: Gap) -> str:
    source, target = gap.source, gap.target
    share = f" ({float(gap.difference) / float(source.total):+.2%})" if source.total else ""
    return (f"{source.profile} {count_text(source.total)} {source.unit} -> {target.profile} "
            f"{count_text(target.total)} {target.unit}: {signed(gap.difference)}{share}")


def top_layers(gap: Gap, top: int | None) -> tuple[list[LayerGap], Number, int]:
    """The `top` layers with the largest differences (in execution order), and the sum and
    number of the others."""
    if top is None or len(gap.layers) <= top:
        return gap.layers, 0, 0
    chosen = set(sorted(range(len(gap.layers)), key=lambda i: -abs(Fraction(gap.layers[i].difference)))[:top])
    shown = [layer for i, layer in enumerate(gap.layers) if i in chosen]
    rest = [layer for i, layer in enumerate(gap.layers) if i not in chosen]
    return shown, sum((layer.difference for layer in rest), 0), len(rest)


def where(layer: LayerGap) -> str:
    return ", ".join(f"{category} {signed(value)}" for category, value in layer.by_category.items())


def flag_groups(gap: Gap) -> list[tuple[str, str, list[str], str]]:
    """(profile, code, layers, first message) per kind of known error, in order of appearance."""
    groups: dict[tuple[str, str], tuple[list[str], str]] = {}
    for name, flag in gap.flags:
        layers, message = groups.setdefault((name, flag.code), ([], flag.message))
        layers.append(flag.layer)
    return [(name, code, layers, message) for (name, code), (layers, message) in groups.items()]


def _more(count: int) -> str:
    return f" (and {count} more layer{'s' if count > 1 else ''})" if count else ""


def render_table(gap: Gap, console: Console, top: int | None = 15) -> None:
    source, target = gap.source.profile, gap.target.profile
    console.print(f"[bold]{escape(gap.model)}[/]: {escape(headline(gap))}")
    console.print(escape(f"  {source}: {gap.source_tool}\n  {target}: {gap.target_tool}"), style="dim")
    categories = Table(title="By category", title_justify="left", show_footer=True, header_style="bold",
                       footer_style="bold")
    categories.add_column("Category", footer="Total")
    categories.add_column(source, justify="right", footer=count_text(gap.source.total))
    categories.add_column(target, justify="right", footer=count_text(gap.target.total))
    categories.add_column("Difference", justify="right", footer=signed(gap.difference))
    for category, (before, after) in gap.categories.items():
        categories.add_row(CATEGORY_LABELS.get(category, category), count_text(before), count_text(after),
                           signed(after - before))
    console.print(categories)
    shown, rest, hidden = top_layers(gap, top)
    title = f"By layer ({len(gap.layers)} of {gap.layer_count} layers differ"
    title += f"; the {len(shown)} largest shown)" if hidden else ")"
    layers = Table(title=title, title_justify="left", show_footer=True, header_style="bold", footer_style="bold")
    layers.add_column("Layer", footer="Total")
    layers.add_column("Kind")
    layers.add_column(source, justify="right")
    layers.add_column(target, justify="right")
    layers.add_column("Difference", justify="right", footer=signed(gap.difference))
    layers.add_column("Where")
    flagged = {flag.layer for _, flag in gap.flags}
    for layer in shown:
        mark = " !" if layer.name in flagged else ""
        layers.add_row(layer.name + mark, layer.kind, count_text(layer.source), count_text(layer.target),
                       signed(layer.difference), where(layer))
    if hidden:
        layers.add_row(f"({hidden} other layers)", "", "", "", signed(rest), "")
    if gap.layers:
        console.print(layers)
    for name, code, names, message in flag_groups(gap):
        more = _more(len(names) - 1)
        console.print(f"[yellow]! {name} is known to count wrong[/] " + escape(f"[{code}]: {message}{more}"))
        console.print(escape(f"  why: {EXPLANATIONS.get(code, '')}"), style="dim")
    for note in gap.notes:
        console.print(escape(f"note: {note}"), style="dim")


def gap_dict(gap: Gap) -> dict[str, Any]:
    def side(counts: Any, tool: str) -> dict[str, Any]:
        return {"convention": counts.profile, "unit": counts.unit, "tool": tool,
                "total": plain_number(counts.total),
                "by_category": {k: plain_number(v) for k, v in counts.by_category.items()}}

    return {
        "schema": SCHEMA,
        "model": gap.model,
        "from": side(gap.source, gap.source_tool),
        "to": side(gap.target, gap.target_tool),
        "difference": plain_number(gap.difference),
        "by_category": [
            {"category": category, "from": plain_number(before), "to": plain_number(after),
             "difference": plain_number(after - before)}
            for category, (before, after) in gap.categories.items()
        ],
        "layers": [
            {"name": layer.name, "kind": layer.kind, "from": plain_number(layer.source),
             "to": plain_number(layer.target), "difference": plain_number(layer.difference),
             "by_category": {k: plain_number(v) for k, v in layer.by_category.items()}}
            for layer in gap.layers
        ],
        "flags": [{"convention": name, "code": flag.code, "layer": flag.layer, "message": flag.message}
                  for name, flag in gap.flags],
        "explanations": {code: EXPLANATIONS[code] for code in dict.fromkeys(f.code for _, f in gap.flags)
                         if code in EXPLANATIONS},
        "notes": list(gap.notes),
    }


def render_json(gap: Gap) -> str:
    return json.dumps(gap_dict(gap), indent=2) + "\n"


def render_csv(gap: Gap) -> str:
    """One row per layer that differs: name, kind, from, to, difference, then one column per
    category's difference."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    categories = list(gap.categories)
    writer.writerow(["name", "kind", gap.source.profile, gap.target.profile, "difference", *categories])
    for layer in gap.layers:
        writer.writerow([layer.name, layer.kind, plain_number(layer.source), plain_number(layer.target),
                         plain_number(layer.difference),
                         *(plain_number(layer.by_category.get(c, 0)) for c in categories)])
    return out.getvalue()


def render_markdown(gap: Gap, top: int | None = 15) -> str:
    source, target = gap.source.profile, gap.target.profile
    lines = [f"## {gap.model}: {source} -> {target}", "", headline(gap), "",
             f"| category | {source} | {target} | difference |", "|---|---:|---:|---:|"]
    for category, (before, after) in gap.categories.items():
        lines.append(f"| {CATEGORY_LABELS.get(category, category)} | {count_text(before)} | "
                     f"{count_text(after)} | {signed(after - before)} |")
    lines += [f"| **total** | {count_text(gap.source.total)} | {count_text(gap.target.total)} | "
              f"{signed(gap.difference)} |", ""]
    shown, rest, hidden = top_layers(gap, top)
    if gap.layers:
        lines += [f"| layer | kind | {source} | {target} | difference |", "|---|---|---:|---:|---:|"]
        lines += [f"| {layer.name} | {layer.kind} | {count_text(layer.source)} | {count_text(layer.target)} | "
                  f"{signed(layer.difference)} |" for layer in shown]
        if hidden:
            lines.append(f"| ({hidden} other layers) | | | | {signed(rest)} |")
        lines += [f"| **total** | | | | {signed(gap.difference)} |", ""]
    for name, code, names, message in flag_groups(gap):
        more = _more(len(names) - 1)
        lines += [f"- **{name} is known to count wrong** (`{code}`): {message}{more}. "
                  f"{EXPLANATIONS.get(code, '')}"]
    lines += [f"- note: {note}" for note in gap.notes]
    return "\n".join(lines) + "\n"
