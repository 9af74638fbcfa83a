"""`cnncalc summary SPEC`: the per-layer table and totals."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from cnncalc.cli.common import Format
from cnncalc.conventions import Convention

if TYPE_CHECKING:
    from cnncalc.graph import LayerGraph

SPEC_HELP = "A spec file (.yaml, or .cnn in the compact notation), or the name of a bundled spec (see `cnncalc zoo`)."
NOTATION_HELP = 'The spec as a compact notation string instead of SPEC, e.g. "INPUT(3x32x32) -> [CONV(32, k=3, p=1) -> RELU]*2 -> POOL -> FC(10)" (docs/notation.md).'


def load(spec: str | None, inputs: list[str] | None, batch: int | None, dtype: str | None,
         sets: list[str] | None, notation: str | None = None) -> LayerGraph:
    """The analyzed graph for a spec (or a --notation string) and the command-line overrides."""
    from cnncalc.cli.common import parse_dtype, parse_inputs, parse_vars
    from cnncalc.spec import Overrides, load_graph, load_notation

    check_source(spec, notation)
    overrides = Overrides(
        inputs=parse_inputs(inputs), batch=batch, dtype=parse_dtype(dtype), vars=parse_vars(sets)
    )
    if notation is not None:
        return load_notation(notation, overrides)
    assert spec is not None
    return load_graph(spec, overrides)


def check_source(spec: str | None, notation: str | None) -> None:
    """Exactly one of SPEC and --notation."""
    from cnncalc.errors import UsageError

    if spec is None and notation is None:
        raise UsageError("give a SPEC (a file or a zoo name) or --notation TEXT",
                         hint='e.g. `cnncalc summary vgg16` or `cnncalc summary --notation "INPUT(3x32x32) -> CONV(16, k=3) -> FC(10)"`')
    if spec is not None and notation is not None:
        raise UsageError(f"give either SPEC ({spec}) or --notation, not both",
                         hint="a notation string is a whole spec; a `.cnn` file holds one too")


def register(app: typer.Typer) -> None:
    @app.command()
    def summary(
        spec: Optional[str] = typer.Argument(None, help=SPEC_HELP),
        notation: Optional[str] = typer.Option(None, "--notation", help=NOTATION_HELP),
        input: Optional[list[str]] = typer.Option(None, "--input", "-i", help="Input shape, e.g. 3x512x512 (or NAME=3x512x512)."),
        batch: Optional[int] = typer.Option(None, "--batch", "-b", min=1, help="Batch size."),
        dtype: Optional[str] = typer.Option(None, "--dtype", help="float32, float16, bfloat16, ..."),
        sets: Optional[list[str]] = typer.Option(None, "--set", help="Override a spec var: NAME=VALUE."),
        format: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
        depth: Optional[int] = typer.Option(None, "--depth", "-d", min=0, help="Collapse blocks nested deeper than N."),
        output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write to a file instead of stdout."),
        convention: Optional[Convention] = typer.Option(
            None, "--convention", help="Also count every layer as this tool does (docs/conventions.md); "
            "the default MACs column is the `macs` convention."),
    ) -> None:
        """Shapes, parameters, MACs, memory and receptive field of every layer."""
        from cnncalc.analysis import analyze

        report = analyze(load(spec, input, batch, dtype, sets, notation),
                         convention=convention.value if convention else None).collapsed(depth)
        render(report, format, output)


def render(report, format: Format, output: Path | None) -> None:  # type: ignore[no-untyped-def]
    from cnncalc.cli.common import console, emit

    if format is Format.json:
        from cnncalc.report.to_json import render_json

        emit(render_json(report), output)
    elif format is Format.csv:
        from cnncalc.report.to_csv import render_csv

        emit(render_csv(report), output)
    elif format is Format.markdown:
        from cnncalc.report.to_markdown import render_markdown

        emit(render_markdown(report), output)
    else:
        from cnncalc.report.table import render_table

        out = console()
        if output is None:
            render_table(report, out)
        else:
            with out.capture() as captured:
                render_table(report, out)
            emit(captured.get(), output)
