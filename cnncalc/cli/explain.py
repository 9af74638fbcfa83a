"""`cnncalc explain SPEC --from A --to B`: why two FLOP counters disagree on one model."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cnncalc.cli.common import Format
from cnncalc.cli.summary import NOTATION_HELP, SPEC_HELP
from cnncalc.conventions import Convention


def register(app: typer.Typer) -> None:
    @app.command()
    def explain(
        spec: Optional[str] = typer.Argument(None, help=SPEC_HELP),
        source: Convention = typer.Option(..., "--from", help="The convention (tool) to start from."),
        target: Convention = typer.Option(..., "--to", help="The convention (tool) to arrive at."),
        notation: Optional[str] = typer.Option(None, "--notation", help=NOTATION_HELP),
        input: Optional[list[str]] = typer.Option(None, "--input", "-i", help="Input shape, e.g. 3x512x512 (or NAME=3x512x512)."),
        batch: Optional[int] = typer.Option(None, "--batch", "-b", min=1, help="Batch size."),
        sets: Optional[list[str]] = typer.Option(None, "--set", help="Override a spec var: NAME=VALUE."),
        top: int = typer.Option(15, "--top", min=0, help="Layers shown in the table (the rest summed in one row)."),
        format: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
        output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write to a file instead of stdout."),
    ) -> None:
        """The difference between two counting conventions (macs, flops, fvcore, torchinfo,
        ptflops, thop, torchscan, flopcounter, ...), split by category and by layer, with the
        places where a tool is known to count wrong. The rows add up to the difference."""
        from cnncalc.cli.common import console, emit
        from cnncalc.cli.summary import load
        from cnncalc.conventions.explain import explain as explain_gap
        from cnncalc.report import explain as render

        gap = explain_gap(load(spec, input, batch, None, sets, notation), source.value, target.value)
        if format is Format.json:
            emit(render.render_json(gap), output)
        elif format is Format.csv:
            emit(render.render_csv(gap), output)
        elif format is Format.markdown:
            emit(render.render_markdown(gap, top), output)
        else:
            out = console()
            if output is None:
                render.render_table(gap, out, top)
            else:
                with out.capture() as captured:
                    render.render_table(gap, out, top)
                emit(captured.get(), output)
