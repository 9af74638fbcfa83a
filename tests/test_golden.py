"""Golden reports of the bundled specs in every format, compared byte for byte.

Regenerate after an intended change with CNNCALC_UPDATE_GOLDEN=1 and review the diff. The
numbers inside are proven independently (tests/test_zoo.py, tests/test_models.py); these pin the presentation. The
harness also checks that per-layer rows add up to the totals.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from rich.console import Console

from cnncalc.analysis import analyze
from cnncalc.report.table import render_table
from cnncalc.report.to_csv import render_csv
from cnncalc.report.to_json import render_json
from cnncalc.report.to_markdown import render_markdown
from cnncalc.spec import load_graph, zoo_names

GOLDEN = Path(__file__).parent / "golden"
SPECS = ["lenet5", "mnist1d_cnn", "alexnet", "vgg16", "resnet50"]  # every format
ZOO = zoo_names()  # every spec: the table
UPDATE = os.environ.get("CNNCALC_UPDATE_GOLDEN") == "1"


def table_text(report) -> str:  # type: ignore[no-untyped-def]
    stream = io.StringIO()
    render_table(report, Console(file=stream, width=140, color_system=None, force_terminal=False))
    return stream.getvalue()


RENDERERS = {
    "json": render_json,
    "csv": render_csv,
    "md": render_markdown,
    "txt": table_text,
}


def check_golden(path: Path, text: str) -> None:
    if UPDATE or not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
        if not UPDATE:
            pytest.fail(f"{path.name} was missing and has been written; review and commit it")
    assert text == path.read_text(), f"{path.name} differs (CNNCALC_UPDATE_GOLDEN=1 to refresh)"


@pytest.mark.parametrize("extension", sorted(RENDERERS))
@pytest.mark.parametrize("name", SPECS)
def test_golden_report(name, extension):
    report = analyze(load_graph(name))
    check_golden(GOLDEN / f"{name}.{extension}", RENDERERS[extension](report))


@pytest.mark.parametrize("name", sorted(set(ZOO) - set(SPECS)))
def test_zoo_golden_table(name):
    check_golden(GOLDEN / "zoo" / f"{name}.txt", table_text(analyze(load_graph(name))))


@pytest.mark.parametrize("name", SPECS)
def test_collapsed_golden(name):
    report = analyze(load_graph(name)).collapsed(0)
    check_golden(GOLDEN / f"{name}.depth0.txt", table_text(report))


@pytest.mark.parametrize("depth", [None, 0, 1])
@pytest.mark.parametrize("name", ZOO)
def test_rows_sum_to_totals(name, depth):
    report = analyze(load_graph(name)).collapsed(depth)
    data = json.loads(render_json(report))
    totals = data["totals"]
    for key in ("params", "trainable_params", "non_trainable_params", "buffers", "macs", "flops",
                "param_bytes", "activation_bytes"):
        assert sum(layer[key] for layer in data["layers"]) == totals[key], key
    for category, value in totals["flops_by_category"].items():
        assert sum(layer["flops_by_category"].get(category, 0) for layer in data["layers"]) == value
    assert totals["flops"] == sum(totals["flops_by_category"].values())
    assert totals["flops_by_category"].get("conv", 0) + totals["flops_by_category"].get("linear", 0) \
        + totals["flops_by_category"].get("matmul", 0) == 2 * totals["macs"]


def test_json_contract_keys():
    data = json.loads(render_json(analyze(load_graph("resnet50"))))
    assert data["schema"] == "cnncalc.summary/1"
    assert {"model", "batch", "dtype", "inputs", "outputs", "totals", "layers"} <= set(data)
    assert {"params", "trainable_params", "non_trainable_params", "buffers", "macs", "flops",
            "param_bytes", "activation_bytes"} <= set(data["totals"])
    layer = data["layers"][0]
    assert {"name", "kind", "inputs", "output_shape", "params", "macs", "flops",
            "activation_bytes", "rf"} <= set(layer)
    assert set(layer["rf"]) >= {"size", "jump", "start"}
    assert data["inputs"] == {"input": [1, 3, 224, 224]}  # shapes include the batch axis
