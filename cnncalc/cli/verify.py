"""`cnncalc verify SPEC`: analytic numbers against the model built in torch and fvcore."""

from __future__ import annotations

import json
from enum import Enum
from typing import Any, Optional

import typer

from cnncalc.cli.summary import NOTATION_HELP, SPEC_HELP, load


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


class VerifyFormat(str, Enum):
    table = "table"
    json = "json"


def register(app: typer.Typer) -> None:
    @app.command()
    def verify(
        spec: Optional[str] = typer.Argument(None, help=SPEC_HELP),
        notation: Optional[str] = typer.Option(None, "--notation", help=NOTATION_HELP),
        device: Device = typer.Option(Device.auto, "--device", help="Where to run the model (auto: CUDA when present)."),
        batch: Optional[int] = typer.Option(None, "--batch", "-b", help="Batch size (default: the spec's)."),
        input: Optional[list[str]] = typer.Option(None, "--input", "-i", help="Input shape, e.g. 3x512x512."),
        sets: Optional[list[str]] = typer.Option(None, "--set", help="Override a spec var: NAME=VALUE."),
        probes: int = typer.Option(8, "--probes", min=0, help="How many layers the receptive-field probe measures (0: none)."),
        memory: bool = typer.Option(True, "--memory/--no-memory", help="Measure the inference and training-step memory peaks."),
        format: VerifyFormat = typer.Option(VerifyFormat.table, "--format", "-f"),
    ) -> None:
        """Check shapes, parameters, buffers, MACs, forward/backward FLOPs and receptive fields
        layer by layer against torch and fvcore (exit 4 on any mismatch, 5 when torch or fvcore
        is missing)."""
        from cnncalc.errors import CheckFailed
        from cnncalc.torch_backend.verify import verify as run

        graph = load(spec, input, batch, None, sets, notation)
        result = run(graph, device.value, probes, memory)
        if format is VerifyFormat.json:
            print(json.dumps(_data(result), indent=2))
        else:
            _table(result)
        if result.mismatches:
            raise CheckFailed(
                f"{len(result.mismatches)} of {len(result.checks)} checks disagree with torch/fvcore",
                hint="please report it with the spec: cnncalc's analytic rule or its torch module is wrong",
            )


def _data(result: Any) -> dict[str, Any]:
    from cnncalc.torch_backend.verify import AGAINST, tolerance

    def plain(value: Any) -> Any:
        return [plain(v) for v in value] if isinstance(value, tuple) else value

    return {
        "schema": "cnncalc.verify/1",
        "model": result.model,
        "device": result.device,
        "batch": result.batch,
        "ok": not result.mismatches,
        "summary": {q: {"agree": good, "checks": total, "against": AGAINST[q], "tolerance": tolerance(q)}
                    for q, (good, total) in result.counts().items()},
        "mismatches": [
            {"quantity": c.quantity, "layer": c.layer, "cnncalc": plain(c.expected), "measured": plain(c.measured)}
            for c in result.mismatches
        ],
        "fvcore_skipped_ops": result.fvcore_skipped,
        "not_checked": list(result.not_checked),
        "notes": list(result.notes),
    }



def _table(result: Any) -> None:
    from rich.table import Table

    from cnncalc.cli.common import console

    out = console()
    table = Table(title=f"verify {result.model}  ·  {result.device}  ·  batch {result.batch}", header_style="bold")
    for column, justify in (("Check", "left"), ("Against", "left"), ("Agree", "right"), ("Tolerance", "left"), ("Verdict", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    from cnncalc.torch_backend.verify import AGAINST, tolerance

    for quantity, (good, total) in result.counts().items():
        verdict = "pass" if good == total else "FAIL"
        table.add_row(quantity, AGAINST[quantity], f"{good}/{total}", tolerance(quantity), verdict)
    out.print(table)
    from cnncalc.report.units import binary

    for check in result.checks:
        if check.quantity == "memory":
            out.print(f"  {check.layer}: cnncalc {binary(check.expected)}, measured {binary(check.measured)} "
                      f"({check.expected / check.measured - 1:+.1%})")
    for check in result.mismatches[:50]:
        out.print(f"  mismatch {check.quantity} at {check.layer}: cnncalc {check.expected} vs measured {check.measured}")
    if result.fvcore_skipped:
        skipped = ", ".join(f"{op} x{n}" for op, n in result.fvcore_skipped.items())
        out.print(f"fvcore skipped (counts no MACs for): {skipped}")
    for note in result.notes:
        out.print(f"note: {note}")
    out.print("Not cross-checked: " + "; ".join(result.not_checked))
