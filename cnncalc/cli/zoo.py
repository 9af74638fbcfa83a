"""`cnncalc zoo`: the bundled specs with their parameters and MACs."""

from __future__ import annotations

import typer

from cnncalc.cli.common import Format


def register(app: typer.Typer) -> None:
    @app.command()
    def zoo(format: Format = typer.Option(Format.table, "--format", "-f")) -> None:
        """List the bundled specs with params and MACs at their default input."""
        import json

        from cnncalc.analysis import analyze
        from cnncalc.report.units import si
        from cnncalc.spec import load_graph, zoo_names

        rows = []
        for name in zoo_names():
            report = analyze(load_graph(name), peaks=False)
            shape = "x".join(str(n) for n in next(iter(report.inputs.values()))[1:])
            rows.append((name, shape, report.totals.params, report.totals.macs))
        if format is Format.json:
            print(json.dumps([dict(zip(("name", "input", "params", "macs"), r)) for r in rows], indent=2))
        elif format is Format.markdown:
            print("| spec | input | params | MACs |\n|---|---|---:|---:|")
            for name, shape, params, macs in rows:
                print(f"| {name} | {shape} | {params:,} | {si(macs)} |")
        elif format is Format.csv:
            print("name,input,params,macs")
            for row in rows:
                print(",".join(str(v) for v in row))
        else:
            from rich.table import Table

            from cnncalc.cli.common import console

            table = Table(title="Bundled specs", header_style="bold")
            for column, justify in (("Spec", "left"), ("Input", "left"), ("Params", "right"), ("MACs", "right")):
                table.add_column(column, justify=justify)  # type: ignore[arg-type]
            for name, shape, params, macs in rows:
                table.add_row(name, shape, f"{params:,}", si(macs))
            console().print(table)
