"""Bundled specs against independent references: published parameter counts (REFERENCE.md),
and the same model built in torch — every node's shape, parameter and buffer counts, and
conv+linear MACs per layer as fvcore counts them."""

from __future__ import annotations

import logging

import pytest

from cnncalc.analysis import analyze
from cnncalc.spec import Overrides, load_graph
from tests.conftest import needs_fvcore
from tests.oracle import FVCORE_MAC_OPS

# REFERENCE.md sections 1-3
PUBLISHED_PARAMS = {
    "lenet5": 61_706,          # 156 + 2,416 + 48,120 + 10,164 + 850
    "mnist1d_cnn": 2_050,      # seed 001's torchinfo table
    "alexnet": 61_100_840,     # torchvision
    "vgg16": 138_357_544,      # torchvision
    "resnet50": 25_557_032,    # torchvision
}
BUNDLED = sorted(PUBLISHED_PARAMS)


@pytest.mark.parametrize("name", BUNDLED)
def test_published_parameter_counts(name):
    assert analyze(load_graph(name)).totals.params == PUBLISHED_PARAMS[name]


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


def measure(name: str):  # type: ignore[no-untyped-def]
    import torch
    from fvcore.nn import FlopCountAnalysis

    from cnncalc.torch_backend.build import build, example_inputs

    graph = load_graph(name)
    model = build(graph).eval()
    model.record = True
    inputs = example_inputs(graph)
    with torch.no_grad():
        model(*inputs)
    shapes = {k: tuple(v.shape) for k, v in model.outputs.items()}
    logging.getLogger("fvcore").setLevel(logging.ERROR)
    analysis = FlopCountAnalysis(model, inputs)
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    per_module = analysis.by_module_and_operator()
    macs = {
        node: sum(v for op, v in per_module.get(f"layers.{index}", {}).items() if op in FVCORE_MAC_OPS)
        for node, index in model.index.items()
    }
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for b in model.buffers() if b.is_floating_point())
    return graph, shapes, macs, params, buffers


@needs_fvcore
@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_spec_matches_torch_and_fvcore(name):
    graph, shapes, macs, params, buffers = measure(name)
    report = analyze(graph)
    for row in report.rows:
        assert row.output_shape == shapes[row.name], row.name
        assert row.macs == macs[row.name], row.name
    assert report.totals.params == params
    assert report.totals.buffers == buffers
