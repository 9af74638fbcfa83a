"""`cnncalc diff A B`: per-layer and total deltas between two specs (or stored summaries).

Both sides become `cnncalc.summary/1` dictionaries; layers are matched by their full name, so a
renamed layer shows as removed + added.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnncalc.errors import UsageError
from cnncalc.report.units import binary, si

#: per-layer numbers compared, and how to print them
LAYER_FIELDS = {"params": si, "macs": si, "flops": si, "activation_bytes": binary}
TOTAL_FIELDS = {
    "params": si, "trainable_params": si, "buffers": si, "macs": si, "flops": si,
    "param_bytes": binary, "activation_bytes": binary,
    "inference_peak_bytes": binary, "training_peak_bytes": binary,
}
SCHEMA = "cnncalc.diff/1"


@dataclass
class LayerDiff:
    name: str
    status: str  # "added" | "removed" | "changed" | "same"
    kind: tuple[str | None, str | None]
    shape: tuple[list[int] | None, list[int] | None]
    rf: tuple[list[Any] | None, list[Any] | None]
    values: dict[str, tuple[int, int]] = field(default_factory=dict)  # field -> (a, b); 0 when absent


@dataclass
class Diff:
    a: dict[str, Any]
    b: dict[str, Any]
    totals: dict[str, tuple[int | None, int | None]]
    layers: list[LayerDiff]

    def counts(self) -> dict[str, int]:
        return {status: sum(ld.status == status for ld in self.layers)
                for status in ("added", "removed", "changed", "same")}


def summary_of(name: str, overrides: Any = None) -> dict[str, Any]:
    """A summary dict from a spec (file or zoo name) or from a stored summary JSON file."""
    path = Path(name)
    if path.suffix == ".json" and path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise UsageError(f"{name}: not a JSON file ({error})") from None
        if not isinstance(data, dict) or data.get("schema") != "cnncalc.summary/1":
            raise UsageError(f"{name}: not a cnncalc summary JSON",
                             hint="write one with `cnncalc summary SPEC -f json -o FILE.json`")
        return data
    from cnncalc.analysis import analyze
    from cnncalc.report.to_json import summary_dict
    from cnncalc.spec import load_graph

    return summary_dict(analyze(load_graph(name, overrides)))


def diff(a: dict[str, Any], b: dict[str, Any]) -> Diff:
    layers_a = {row["name"]: row for row in a["layers"]}
    layers_b = {row["name"]: row for row in b["layers"]}
    # removed layers go where they stood in A: after the last B layer that precedes them there
    order = _merge_order(list(layers_a), list(layers_b))
    result = []
    for name in order:
        ra, rb = layers_a.get(name), layers_b.get(name)
        values = {key: ((ra or {}).get(key, 0) or 0, (rb or {}).get(key, 0) or 0) for key in LAYER_FIELDS}
        shape = (ra["output_shape"] if ra else None, rb["output_shape"] if rb else None)
        rf = (_rf(ra), _rf(rb))
        kind = (ra["kind"] if ra else None, rb["kind"] if rb else None)
        if ra is None:
            status = "added"
        elif rb is None:
            status = "removed"
        elif any(x != y for x, y in values.values()) or shape[0] != shape[1] or rf[0] != rf[1] or kind[0] != kind[1]:
            status = "changed"
        else:
            status = "same"
        result.append(LayerDiff(name, status, kind, shape, rf, values))
    totals = {key: (a["totals"].get(key), b["totals"].get(key)) for key in TOTAL_FIELDS}
    return Diff(a, b, totals, result)


def _merge_order(a: list[str], b: list[str]) -> list[str]:
    """B's layers in order, each layer only A has placed after the B layer it followed in A."""
    position = {name: i for i, name in enumerate(b)}
    pending: dict[int, list[str]] = {}
    anchor = -1
    for name in a:
        if name in position:
            anchor = position[name]
        else:
            pending.setdefault(anchor, []).append(name)
    result = list(pending.get(-1, []))
    for i, name in enumerate(b):
        result.append(name)
        result.extend(pending.get(i, []))
    return result


def _rf(row: dict[str, Any] | None) -> list[Any] | None:
    if row is None or row.get("rf") is None:
        return None
    return list(row["rf"]["size"])


def _delta(a: int | None, b: int | None, show: Any) -> str:
    if a is None or b is None:
        return "-"
    change = b - a
    if change == 0:
        return "0"
    text = ("+" if change > 0 else "-") + str(show(abs(change)))
    return text + (f" ({change / a:+.1%})" if a else "")


def diff_dict(d: Diff) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "a": {"model": d.a["model"], "inputs": d.a["inputs"], "batch": d.a["batch"]},
        "b": {"model": d.b["model"], "inputs": d.b["inputs"], "batch": d.b["batch"]},
        "totals": {key: {"a": a, "b": b, "delta": (b - a) if a is not None and b is not None else None}
                   for key, (a, b) in d.totals.items()},
        "layers": [
            {"name": ld.name, "status": ld.status, "kind": list(ld.kind),
             "output_shape": list(ld.shape), "rf_size": list(ld.rf),
             **{key: {"a": a, "b": b, "delta": b - a} for key, (a, b) in ld.values.items()}}
            for ld in d.layers if ld.status != "same"
        ],
        "counts": d.counts(),
    }


def render_diff_text(d: Diff, show_all: bool = False) -> str:
    header = ("", "layer", "kind", "output shape", "params", "MACs", "activations", "RF")
    rows = []
    marks = {"added": "+", "removed": "-", "changed": "~", "same": " "}
    for ld in d.layers:
        if ld.status == "same" and not show_all:
            continue
        kind = ld.kind[1] or ld.kind[0] or ""
        if ld.kind[0] and ld.kind[1] and ld.kind[0] != ld.kind[1]:
            kind = f"{ld.kind[0]} -> {ld.kind[1]}"
        rows.append((marks[ld.status], ld.name, kind, _pair(ld.shape), *_deltas(ld), _pair(ld.rf)))
    lines = [f"a: {d.a['model']} {_inputs(d.a)}", f"b: {d.b['model']} {_inputs(d.b)}", ""]
    if rows:
        widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
        for line in (header, *rows):
            lines.append("  ".join(c.rjust(w) if i in (4, 5, 6) else c.ljust(w)
                                   for i, (c, w) in enumerate(zip(line, widths))).rstrip())
    else:
        lines.append("no layer differs")
    lines.append("")
    twidth = max(len(key) for key in TOTAL_FIELDS)
    for key, a, b, delta in _total_cells(d):
        lines.append(f"{key.ljust(twidth)}  {a:>10} -> {b:>10}  {delta}")
    lines.append("")
    lines.append(", ".join(f"{n} {s}" for s, n in d.counts().items()) + " layers")
    return "\n".join(lines) + "\n"


def _deltas(ld: LayerDiff) -> tuple[str, str, str]:
    """The params, MACs and activation-bytes deltas of one layer, as printed."""
    return (_delta(*ld.values["params"], si), _delta(*ld.values["macs"], si),
            _delta(*ld.values["activation_bytes"], binary))


def _total_cells(d: Diff) -> list[tuple[str, str, str, str]]:
    """(total, a, b, delta) as printed, for the totals either side has."""
    cells = []
    for key, (a, b) in d.totals.items():
        if a is None and b is None:
            continue
        show = TOTAL_FIELDS[key]
        cells.append((key, show(a) if a is not None else "-", show(b) if b is not None else "-",
                      _delta(a, b, show)))
    return cells


def _pair(values: tuple[Any, Any]) -> str:
    a, b = values

    def text(v: Any) -> str:
        return "-" if v is None else "x".join(str(x) for x in v)

    if a is None or b is None or a == b:
        return text(b if a is None else a)
    return f"{text(a)} -> {text(b)}"


def _inputs(summary: dict[str, Any]) -> str:
    return ", ".join(f"{name} {'x'.join(map(str, shape))}" for name, shape in summary["inputs"].items())


def render_diff_markdown(d: Diff, show_all: bool = False) -> str:
    lines = [f"**a**: `{d.a['model']}` {_inputs(d.a)}  ", f"**b**: `{d.b['model']}` {_inputs(d.b)}", "",
             "| | layer | kind | output shape | Δ params | Δ MACs | Δ activations | RF |",
             "|---|---|---|---|--:|--:|--:|---|"]
    marks = {"added": "+", "removed": "−", "changed": "~", "same": ""}
    for ld in d.layers:
        if ld.status == "same" and not show_all:
            continue
        params, macs, activations = _deltas(ld)
        lines.append(f"| {marks[ld.status]} | `{ld.name}` | {ld.kind[1] or ld.kind[0]} | {_pair(ld.shape)} | "
                     f"{params} | {macs} | {activations} | {_pair(ld.rf)} |")
    lines += ["", "| total | a | b | Δ |", "|---|--:|--:|--:|"]
    lines += [f"| {key} | {a} | {b} | {delta} |" for key, a, b, delta in _total_cells(d)]
    return "\n".join(lines) + "\n"
