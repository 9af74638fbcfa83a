"""The human table (rich), with totals and the conventions footnote."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from cnncalc.analysis.report import Report
from cnncalc.report.units import CONVENTIONS, binary, convention_note, exact_text, rf_text, shape_text, si


def render_table(report: Report, console: Console) -> None:
    if list(report.inputs) == ["input"]:
        inputs = shape_text(report.inputs["input"])
    else:
        inputs = ", ".join(f"{k} {shape_text(v)}" for k, v in report.inputs.items())
    table = Table(
        title=f"{report.model}  ·  input {inputs}  ·  {report.dtype}",
        show_footer=True, header_style="bold", footer_style="bold", title_style="bold",
    )
    t = report.totals
    table.add_column("Layer", footer="Total")
    table.add_column("Kind")
    table.add_column("Output shape")
    table.add_column("Params", justify="right", footer=f"{t.params:,}")
    table.add_column("MACs", justify="right", footer=si(t.macs))
    convention = report.convention
    if convention is not None:
        table.add_column(f"{convention.name} {convention.unit}", justify="right", footer=si(convention.total))
    table.add_column("Memory", justify="right", footer=binary(t.activation_bytes))
    table.add_column("RF", justify="right")
    for row in report.rows:
        counted = [] if convention is None else [si(row.convention_count or 0)]
        table.add_row(
            "  " * len(row.scopes) + row.name, row.kind, shape_text(row.output_shape), f"{row.params:,}",
            si(row.macs), *counted, binary(row.activation_bytes), rf_text(row.rf),
        )
    console.print(table)
    console.print(
        f"Params: {t.params:,} (trainable {t.trainable_params:,}, non-trainable "
        f"{t.non_trainable_params:,}) · buffers {t.buffers:,} · parameter memory "
        f"{binary(t.param_bytes)}"
    )
    console.print(f"MACs: {t.macs:,} · FLOPs: {t.flops:,}   "
                  + "  ".join(f"{k} {si(v)}" for k, v in t.flops_by_category.items()))
    if convention is not None:
        console.print(f"{convention.name}: {exact_text(convention.total)} {convention.unit}   "
                      + "  ".join(f"{k} {si(v)}" for k, v in convention.by_category.items()))
        if convention.flags:
            layers = sorted({layer for _, layer, _ in convention.flags})
            console.print(f"[yellow]note:[/] {convention.name} is known to miscount {len(layers)} "
                          f"layer{'s' if len(layers) > 1 else ''} ({', '.join(layers[:3])}"
                          f"{', ...' if len(layers) > 3 else ''}): `cnncalc explain` shows how")
    console.print(f"Outputs: {', '.join(f'{k} {shape_text(v)}' for k, v in report.outputs.items())}")
    if t.inference_peak_bytes is not None and t.training_peak_bytes is not None:
        console.print(f"Peak memory: inference {binary(t.inference_peak_bytes)} · training step "
                      f"{binary(t.training_peak_bytes)} (SGD; `cnncalc memory` for the breakdown)")
    if report.unused:
        console.print(f"[yellow]warning:[/] unused layers (reach no output): {', '.join(report.unused)}")
    footnote = CONVENTIONS.format(dtype=report.dtype, batch=report.batch)
    if convention is not None:
        footnote += " " + convention_note(convention)
    console.print(footnote, style="dim")
