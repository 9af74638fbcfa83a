"""`cnncalc rf SPEC`: theoretical receptive field of every layer, effective RF of one."""

from __future__ import annotations

import json
from enum import Enum
from typing import Any, Optional

import typer

from cnncalc.cli.summary import NOTATION_HELP, SPEC_HELP, load

BARS = " ▁▂▃▄▅▆▇█"


class RfFormat(str, Enum):
    table = "table"
    json = "json"


def register(app: typer.Typer) -> None:
    @app.command()
    def rf(
        spec: Optional[str] = typer.Argument(None, help=SPEC_HELP),
        notation: Optional[str] = typer.Option(None, "--notation", help=NOTATION_HELP),
        layer: Optional[str] = typer.Option(None, "--layer", "-l", help="Layer whose effective RF to compute (default: the last with spatial axes)."),
        input: Optional[list[str]] = typer.Option(None, "--input", "-i", help="Input shape, e.g. 3x512x512."),
        sets: Optional[list[str]] = typer.Option(None, "--set", help="Override a spec var: NAME=VALUE."),
        format: RfFormat = typer.Option(RfFormat.table, "--format", "-f"),
    ) -> None:
        """Receptive field (size, jump, start per axis) of every layer, and the effective RF."""
        from cnncalc.analysis.erf import effective_field
        from cnncalc.analysis.receptive_field import receptive_fields
        from cnncalc.analysis.shapes import infer_shapes
        from cnncalc.errors import UsageError
        from cnncalc.layers.base import suggest

        graph = load(spec, input, None, None, sets, notation)
        shapes = infer_shapes(graph)
        fields = receptive_fields(graph, shapes)
        spatial = [n.name for n in graph if not n.is_input and fields[n.name] is not None]
        target = layer or (spatial[-1] if spatial else None)
        if target is not None and target not in spatial:
            raise UsageError(
                f"--layer {target}: " + ("no such layer" if target not in graph.nodes
                                         else "that layer has no spatial axes"),
                hint=suggest(target, spatial) or "pick a layer with a receptive field",
            )
        erf = effective_field(graph, shapes, target) if target else []
        data = _data(graph, shapes, fields, erf)
        if format is RfFormat.json:
            print(json.dumps(data, indent=2))
        else:
            _table(data)


def _data(graph: Any, shapes: Any, fields: Any, erf: Any) -> dict[str, Any]:
    from cnncalc.report.to_json import rf_dict

    return {
        "schema": "cnncalc.rf/1",
        "model": graph.name,
        "layers": [
            {"name": n.name, "kind": n.kind.name, "output_shape": list(shapes[n.name]),
             "rf": rf_dict(fields[n.name])}
            for n in graph if not n.is_input
        ],
        "effective": [
            {
                "layer": e.layer, "input": e.input, "unit": list(e.unit),
                "axes": [
                    {"p50": a.size_holding(0.5), "p95": a.size_holding(0.95),
                     "center": round(a.center, 6), "weights": [round(w, 8) for w in a.weights]}
                    for a in e.axes
                ],
            }
            for e in erf
        ],
    }


def _sparkline(weights: list[float], width: int = 64) -> str:
    nonzero = [i for i, w in enumerate(weights) if w > 1e-9]
    if not nonzero:
        return ""
    lo, hi = nonzero[0], nonzero[-1] + 1
    span = weights[lo:hi]
    step = max(1, -(-len(span) // width))
    buckets = [sum(span[i:i + step]) for i in range(0, len(span), step)]
    top = max(buckets)
    return "".join(BARS[round(b / top * (len(BARS) - 1))] for b in buckets) + f"  (inputs {lo}..{hi - 1})"


def _table(data: dict[str, Any]) -> None:
    from rich.table import Table

    from cnncalc.cli.common import console

    out = console()
    table = Table(title=f"{data['model']}: receptive field per spatial axis", header_style="bold")
    for column in ("Layer", "Kind", "Output shape", "Size", "Jump", "Start"):
        table.add_column(column, justify="right" if column in ("Size", "Jump", "Start") else "left")
    for row in data["layers"]:
        rf = row["rf"]
        cells = ["-", "-", "-"] if rf is None else [
            " x ".join(str(v) for v in rf[key]) for key in ("size", "jump", "start")
        ]
        if rf is not None and not rf["aligned"]:
            cells[0] += " (misaligned)"
        table.add_row(row["name"], row["kind"], str(row["output_shape"]), *cells)
    out.print(table)
    for effective in data["effective"]:
        out.print(f"\nEffective receptive field of `{effective['layer']}` unit {effective['unit']} "
                  f"on input `{effective['input']}` (uniform weights, Luo et al. 2016):")
        for axis, a in enumerate(effective["axes"]):
            out.print(f"  axis {axis}: 50% within {a['p50']} px, 95% within {a['p95']} px, "
                      f"centre {a['center']:.2f}")
            out.print(f"    {_sparkline(a['weights'])}")
