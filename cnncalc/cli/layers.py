"""`cnncalc layers [KIND]`: the layer catalogue."""

from __future__ import annotations

from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def layers(kind: Optional[str] = typer.Argument(None, help="Show one kind in full.")) -> None:
        """List the layer kinds with their attributes, or show one kind with its formulas."""
        from rich.markup import escape
        from rich.table import Table

        from cnncalc.cli.common import console
        from cnncalc.layers import REGISTRY, lookup

        out = console()
        if kind is None:
            table = Table(title="Layer kinds", header_style="bold")
            for column in ("Kind", "Family", "Attributes (default)", "Summary"):
                table.add_column(column)
            for entry in sorted(REGISTRY.values(), key=lambda k: (k.family, k.name)):
                attrs = ", ".join(
                    a.name + ("" if repr(a.default) == "required" else f"={_default(a.default)}")
                    for a in entry.attrs
                )
                name = entry.name + (f" ({', '.join(entry.aliases)})" if entry.aliases else "")
                table.add_row(name, entry.family, escape(attrs), escape(entry.summary))
            out.print(table)
            return
        entry = lookup(kind)
        out.print(f"[bold]{entry.name}[/] ({entry.family}): {entry.summary}")
        if entry.aliases:
            out.print(f"aliases: {', '.join(entry.aliases)}")
        table = Table(header_style="bold")
        for column in ("Attribute", "Type", "Default", "Meaning"):
            table.add_column(column)
        for a in entry.attrs:
            table.add_row(a.name, escape(a.type.label), escape(_default(a.default)), escape(a.doc))
        out.print(table)
        inputs = (f"{entry.min_inputs}" if entry.min_inputs == entry.max_inputs
                  else f"{entry.min_inputs}+" if entry.max_inputs is None
                  else f"{entry.min_inputs}-{entry.max_inputs}")
        out.print(f"inputs: {inputs}")
        for what, formula in entry.formulas.items():
            out.print(f"{what}: {escape(formula)}")


def _default(value: object) -> str:
    if repr(value) == "required":
        return "required"
    if isinstance(value, bool):
        return str(value).lower()
    return "null" if value is None else str(value)
