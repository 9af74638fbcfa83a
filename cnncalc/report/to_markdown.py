"""A GitHub-flavoured Markdown table with totals and the conventions footnote."""

from __future__ import annotations

from cnncalc.analysis.report import Report
from cnncalc.report.units import CONVENTIONS, binary, rf_text, shape_text, si


def render_markdown(report: Report) -> str:
    t = report.totals
    lines = [
        f"## {report.model}",
        "",
        "| layer | kind | output shape | params | MACs | memory | RF |",
        "|---|---|---|---:|---:|---:|---|",
    ]
    for row in report.rows:
        lines.append(
            f"| {row.name} | {row.kind} | {shape_text(row.output_shape)} | {row.params:,} "
            f"| {si(row.macs)} | {binary(row.activation_bytes)} | {rf_text(row.rf)} |"
        )
    lines += [
        "",
        f"- params: {t.params:,} (trainable {t.trainable_params:,}, "
        f"non-trainable {t.non_trainable_params:,}); buffers: {t.buffers:,}",
        f"- MACs: {t.macs:,} ({si(t.macs)}); FLOPs: {t.flops:,} ({si(t.flops)})",
        f"- parameter memory: {binary(t.param_bytes)}; outputs: {binary(t.activation_bytes)}; "
        f"input: {binary(t.input_bytes)}",
        "",
        "_" + CONVENTIONS.format(dtype=report.dtype, batch=report.batch) + "_",
        "",
    ]
    return "\n".join(lines)
