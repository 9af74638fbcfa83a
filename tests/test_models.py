"""Details of the lecture's models against their published figures (REFERENCE.md sections 2-3);
the whole zoo against published counts, torch and fvcore is in tests/test_zoo.py."""

from __future__ import annotations

import pytest

from cnncalc.analysis import analyze
from cnncalc.spec import Overrides, load_graph


def test_vgg16_bn_parameter_count():
    report = analyze(load_graph("vgg16", Overrides(vars={"batch_norm": True})))
    assert report.totals.params == 138_365_992  # torchvision vgg16_bn
    assert report.totals.buffers == 2 * (2 * 64 + 2 * 128 + 3 * 256 + 6 * 512)  # running mean+var


def test_lenet5_layer_parameters():
    rows = {r.name: r.params for r in analyze(load_graph("lenet5")).rows}
    assert [rows[n] for n in ("conv1", "conv2", "conv3", "fc1", "fc2")] == [156, 2_416, 48_120, 10_164, 850]


@pytest.mark.parametrize(
    ("name", "params_mb", "input_mb"),
    # seed 003's torchsummary tables: "Params size (MB)" = params*4/2**20, "Input size (MB)"
    [("lenet5", "0.24", "0.00"), ("alexnet", "233.08", "0.57"), ("vgg16", "527.79", "0.57"),
     ("resnet50", "97.49", "0.57")],
)
def test_seed_table_params_and_input_sizes(name, params_mb, input_mb):
    totals = analyze(load_graph(name)).totals
    assert f"{totals.param_bytes / 2**20:.2f}" == params_mb
    assert f"{totals.input_bytes / 2**20:.2f}" == input_mb


def test_mnist1d_seed_table():
    totals = analyze(load_graph("mnist1d_cnn")).totals
    assert f"{totals.input_bytes / 1e6:.2f}" == "0.02"  # torchinfo's MB are 10**6 bytes
    assert f"{totals.param_bytes / 1e6:.2f}" == "0.01"
