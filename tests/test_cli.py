"""The command line as a user meets it: exit codes, formats, overrides, files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def cnncalc(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cnncalc", *args], capture_output=True, text=True, cwd=cwd,
        timeout=120, env={"COLUMNS": "140", "PATH": "/usr/bin:/bin"},
    )


def test_summary_of_a_zoo_name_from_an_empty_folder(tmp_path):
    result = cnncalc("summary", "vgg16.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "138,357,544" in result.stdout
    assert "MACs: multiply-accumulates" in result.stdout  # the conventions footnote


def test_input_batch_and_dtype_overrides():
    result = cnncalc("summary", "resnet50", "--input", "3x512x512", "--batch", "4", "--dtype", "fp16", "-f", "json")
    data = json.loads(result.stdout)
    assert data["inputs"] == {"input": [4, 3, 512, 512]}
    assert data["dtype"] == "float16"
    conv1 = data["layers"][0]
    assert conv1["output_shape"] == [4, 64, 256, 256]
    assert conv1["activation_bytes"] == 4 * 64 * 256 * 256 * 2
    # MACs scale with batch and area: conv1 = N*64*256*256*3*7*7
    assert conv1["macs"] == 4 * 64 * 256 * 256 * 3 * 49


def test_set_overrides_a_var():
    data = json.loads(cnncalc("summary", "vgg16", "--set", "num_classes=10", "-f", "json").stdout)
    assert data["outputs"] == {"classifier.6": [1, 10]}


def test_depth_collapses_blocks():
    data = json.loads(cnncalc("summary", "resnet50", "--depth", "0", "-f", "json").stdout)
    names = [layer["name"] for layer in data["layers"]]
    assert names == ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4",
                     "avgpool", "flatten_1", "fc"]
    assert sum(layer["params"] for layer in data["layers"]) == 25_557_032


@pytest.mark.parametrize("fmt", ["csv", "markdown", "table"])
def test_other_formats(fmt):
    result = cnncalc("summary", "lenet5", "--format", fmt)
    assert result.returncode == 0 and "conv1" in result.stdout


def test_invalid_spec_exit_code_and_message(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("input: [3, 32, 32]\nlayers:\n  - conv2d: {out: 8, kernel: 3, stide: 2}\n")
    result = cnncalc("summary", "bad.yaml", cwd=tmp_path)
    assert result.returncode == 3
    assert result.stdout == ""
    assert result.stderr.splitlines()[0] == "bad.yaml:3:33: error: conv2d has no attribute `stide`"
    assert "hint: did you mean `stride`?" in result.stderr
    assert "Traceback" not in result.stderr


def test_nothing_written_on_error(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("input: [3, 8, 8]\nlayers:\n  - conv2d: {out: 8, kernel: 11}\n")
    out = tmp_path / "out.json"
    result = cnncalc("summary", str(spec), "-f", "json", "-o", str(out))
    assert result.returncode == 3
    assert "kernel 11 > padded input 8" in result.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == [spec]


def test_output_file(tmp_path):
    out = tmp_path / "lenet.json"
    assert cnncalc("summary", "lenet5", "-f", "json", "-o", str(out)).returncode == 0
    assert json.loads(out.read_text())["totals"]["params"] == 61_706


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["summary", "lenet5", "--input", "3xfoo"], "expected a shape like 3x224x224"),
        (["summary", "lenet5", "--dtype", "float7"], "unknown dtype"),
        (["summary", "lenet5", "--set", "nope=1"], "the spec has no var `nope`"),
        (["summary", "lenet5", "--bogus"], "No such option"),
        (["rf", "lenet5", "--layer", "fc1"], "that layer has no spatial axes"),
    ],
)
def test_usage_errors_exit_2(args, message):
    result = cnncalc(*args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_spec_suggests_zoo_name():
    result = cnncalc("summary", "vgg61")
    assert result.returncode == 3
    assert "no such file, and no zoo spec of that name" in result.stderr
    assert "`vgg16`" in result.stderr.split("hint:")[1]


def test_rf_json_has_effective_field():
    data = json.loads(cnncalc("rf", "lenet5", "--format", "json").stdout)
    effective = data["effective"][0]
    assert effective["layer"] == "relu_3"  # the last layer with spatial axes (1x1)
    axis = effective["axes"][0]
    assert axis["p50"] <= axis["p95"] <= 32
    assert sum(axis["weights"]) == pytest.approx(1.0)


def test_layers_listing_and_one_kind():
    listing = cnncalc("layers").stdout
    assert "conv2d" in listing and "batchnorm2d" in listing
    one = cnncalc("layers", "conv2d")
    assert one.returncode == 0
    assert "floor((n + pad_begin + pad_end - dilation*(kernel-1) - 1) / stride) + 1" in one.stdout
    unknown = cnncalc("layers", "conv2")
    assert unknown.returncode == 3 and "did you mean `conv2d`" in unknown.stderr


def test_version():
    result = cnncalc("--version")
    assert result.returncode == 0 and result.stdout.startswith("cnncalc ")


def test_readme_zoo_table_is_what_cnncalc_zoo_prints():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    table = readme.split("<!-- zoo:begin -->\n")[1].split("<!-- zoo:end -->")[0]
    result = cnncalc("zoo", "--format", "markdown")
    assert result.returncode == 0, result.stderr
    assert table == result.stdout, "README's zoo table is stale: paste `cnncalc zoo --format markdown`"


def test_zoo_json_lists_every_bundled_spec():
    from cnncalc.spec import zoo_names

    data = json.loads(cnncalc("zoo", "--format", "json").stdout)
    assert [row["name"] for row in data] == zoo_names()
    assert {row["name"]: row["params"] for row in data}["resnet50"] == 25_557_032
