"""The JSON contract `cnncalc.summary/1` (DESIGN.md): keys may be added, never renamed."""

from __future__ import annotations

import json
from typing import Any

from cnncalc.analysis.receptive_field import ReceptiveField
from cnncalc.analysis.report import Report, Row
from cnncalc.report.units import CONVENTIONS, convention_note, plain_number

SCHEMA = "cnncalc.summary/1"


def rf_dict(rf: ReceptiveField | None) -> dict[str, Any] | None:
    if rf is None:
        return None
    return {
        "size": [plain_number(a.size) for a in rf.axes],
        "jump": [plain_number(a.jump) for a in rf.axes],
        "start": [plain_number(a.start) for a in rf.axes],
        "aligned": rf.aligned,
    }


def row_dict(row: Row) -> dict[str, Any]:
    return {
        "name": row.name,
        "kind": row.kind,
        "inputs": list(row.inputs),
        "output_shape": list(row.output_shape),
        "params": row.params,
        "trainable_params": row.trainable_params,
        "non_trainable_params": row.non_trainable_params,
        "buffers": row.buffers,
        "macs": row.macs,
        "flops": row.flops,
        "flops_by_category": dict(row.flops_by_category),
        "backward_flops": row.backward_flops,
        "param_bytes": row.param_bytes,
        "activation_bytes": row.activation_bytes,
        "rf": rf_dict(row.rf),
        "scopes": list(row.scopes),
        "line": row.line,
        "layers": row.layers,
    }


def convention_keys(report: Report) -> dict[str, Any]:
    """The keys `--convention` adds: its name, unit, tool and flags (the totals and each layer
    gain `convention_count`)."""
    convention = report.convention
    if convention is None:
        return {}
    return {
        "convention": convention.name,
        "convention_unit": convention.unit,
        "convention_tool": convention.tool,
        "convention_flags": [{"code": code, "layer": layer, "message": message}
                             for code, layer, message in convention.flags],
    }


def summary_dict(report: Report) -> dict[str, Any]:
    t = report.totals
    data: dict[str, Any] = {
        "schema": SCHEMA,
        "model": report.model,
        "batch": report.batch,
        "dtype": report.dtype,
        "inputs": {k: list(v) for k, v in report.inputs.items()},
        "outputs": {k: list(v) for k, v in report.outputs.items()},
        "totals": {
            "params": t.params,
            "trainable_params": t.trainable_params,
            "non_trainable_params": t.non_trainable_params,
            "buffers": t.buffers,
            "macs": t.macs,
            "flops": t.flops,
            "flops_by_category": dict(t.flops_by_category),
            "backward_flops": t.backward_flops,
            "backward_flops_by_part": dict(t.backward_by_part),
            "param_bytes": t.param_bytes,
            "buffer_bytes": t.buffer_bytes,
            "input_bytes": t.input_bytes,
            "activation_bytes": t.activation_bytes,
            "inference_peak_bytes": t.inference_peak_bytes,
            "training_peak_bytes": t.training_peak_bytes,
        },
        "layers": [row_dict(row) for row in report.rows],
        "unused": list(report.unused),
        "conventions": CONVENTIONS.format(dtype=report.dtype, batch=report.batch),
    }
    convention = report.convention
    if convention is not None:
        data.update(convention_keys(report))
        data["conventions"] += " " + convention_note(convention)
        data["totals"]["convention_count"] = plain_number(convention.total)
        data["totals"]["convention_count_by_category"] = {
            k: plain_number(v) for k, v in convention.by_category.items()}
        for row, layer in zip(report.rows, data["layers"]):
            layer["convention_count"] = plain_number(row.convention_count or 0)
    return data


def render_json(report: Report) -> str:
    """Indented JSON with one line per layer (readable, greppable, and fast: json's C encoder
    only runs without `indent`, which matters for specs with thousands of layers)."""
    data = summary_dict(report)
    layers = data.pop("layers")
    head = json.dumps(data, indent=2)
    rows = ",\n".join("    " + json.dumps(layer) for layer in layers)
    body = '  "layers": [\n' + rows + "\n  ]" if layers else '  "layers": []'
    return head[:-2] + ",\n" + body + "\n}\n"
