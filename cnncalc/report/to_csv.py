"""One CSV row per layer; shapes as `1x64x112x112`, receptive fields per axis joined by `x`."""

from __future__ import annotations

import csv
import io

from cnncalc.analysis.report import Report
from cnncalc.report.units import plain_number

COLUMNS = (
    "name", "kind", "inputs", "output_shape", "params", "trainable_params",
    "non_trainable_params", "buffers", "macs", "flops", "param_bytes", "activation_bytes",
    "rf_size", "rf_jump", "rf_start",
)


def _axes(values: list[int | float]) -> str:
    return "x".join(str(v) for v in values)


def render_csv(report: Report) -> str:
    """One row per layer; with `--convention`, a last column `convention_count`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    counted = report.convention is not None
    writer.writerow((*COLUMNS, "convention_count") if counted else COLUMNS)
    for row in report.rows:
        rf = row.rf
        extra = [plain_number(row.convention_count or 0)] if counted else []
        writer.writerow([
            row.name, row.kind, ";".join(row.inputs), _axes(list(row.output_shape)),
            row.params, row.trainable_params, row.non_trainable_params, row.buffers,
            row.macs, row.flops, row.param_bytes, row.activation_bytes,
            _axes([plain_number(a.size) for a in rf.axes]) if rf else "",
            _axes([plain_number(a.jump) for a in rf.axes]) if rf else "",
            _axes([plain_number(a.start) for a in rf.axes]) if rf else "",
            *extra,
        ])
    return out.getvalue()
