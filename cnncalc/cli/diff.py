"""`cnncalc diff A B`: what changed between two specs (or stored summary JSON files)."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Optional

import typer


class DiffFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"


def register(app: typer.Typer) -> None:
    @app.command()
    def diff(
        a: str = typer.Argument(..., help="The old spec, bundled spec name, or summary JSON."),
        b: str = typer.Argument(..., help="The new spec, bundled spec name, or summary JSON."),
        format: DiffFormat = typer.Option(DiffFormat.table, "--format", "-f", help="Output format."),
        show_all: bool = typer.Option(False, "--all", help="List unchanged layers too."),
        output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write to a file instead of stdout."),
        input: Optional[list[str]] = typer.Option(None, "--input", "-i", help="Input shape for both specs."),
        batch: Optional[int] = typer.Option(None, "--batch", "-b", min=1, help="Batch size for both specs."),
        dtype: Optional[str] = typer.Option(None, "--dtype", help="float32, float16, bfloat16, ..."),
        sets: Optional[list[str]] = typer.Option(None, "--set", help="Override a spec var in both: NAME=VALUE."),
    ) -> None:
        """Per-layer and total deltas of parameters, MACs, memory and receptive field; layers are
        matched by name (added, removed and changed ones are listed)."""
        from cnncalc.check.diff import diff as compare
        from cnncalc.check.diff import diff_dict, render_diff_markdown, render_diff_text, summary_of
        from cnncalc.cli.common import emit, parse_dtype, parse_inputs, parse_vars
        from cnncalc.spec import Overrides

        overrides = Overrides(inputs=parse_inputs(input), batch=batch, dtype=parse_dtype(dtype),
                              vars=parse_vars(sets))
        result = compare(summary_of(a, overrides), summary_of(b, overrides))
        if format is DiffFormat.json:
            text = json.dumps(diff_dict(result), indent=2) + "\n"
        elif format is DiffFormat.markdown:
            text = render_diff_markdown(result, show_all)
        else:
            text = render_diff_text(result, show_all)
        emit(text, output)
