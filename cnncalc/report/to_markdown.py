"""A GitHub-flavoured Markdown table with totals and the conventions footnote."""

from __future__ import annotations

from cnncalc.analysis.report import Report
from cnncalc.report.units import CONVENTIONS, binary, convention_note, exact_text, rf_text, shape_text, si


def render_markdown(report: Report) -> str:
    t = report.totals
    convention = report.convention
    column = "" if convention is None else f" {convention.name} {convention.unit} |"
    lines = [
        f"## {report.model}",
        "",
        f"| layer | kind | output shape | params | MACs |{column} memory | RF |",
        "|---|---|---|---:|---:|" + ("---:|" if convention else "") + "---:|---|",
    ]
    for row in report.rows:
        counted = "" if convention is None else f" {si(row.convention_count or 0)} |"
        lines.append(
            f"| {row.name} | {row.kind} | {shape_text(row.output_shape)} | {row.params:,} "
            f"| {si(row.macs)} |{counted} {binary(row.activation_bytes)} | {rf_text(row.rf)} |"
        )
    lines += [
        "",
        f"- params: {t.params:,} (trainable {t.trainable_params:,}, "
        f"non-trainable {t.non_trainable_params:,}); buffers: {t.buffers:,}",
        f"- MACs: {t.macs:,} ({si(t.macs)}); FLOPs: {t.flops:,} ({si(t.flops)})",
        *([f"- {convention.name}: {exact_text(convention.total)} {convention.unit} "
           f"({si(convention.total)})"] if convention else []),
        f"- parameter memory: {binary(t.param_bytes)}; outputs: {binary(t.activation_bytes)}; "
        f"input: {binary(t.input_bytes)}",
        "",
        "_" + CONVENTIONS.format(dtype=report.dtype, batch=report.batch)
        + (" " + convention_note(convention) if convention else "") + "_",
        "",
    ]
    return "\n".join(lines)
