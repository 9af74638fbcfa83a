"""The memory model on graphs whose peaks can be added up by hand, and `cnncalc memory`.

The zoo models are checked against torch's measured peaks in test_memory_measure.py; the
saved-for-backward rule of every layer kind against saved_tensors_hooks in tests/layers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cnncalc.analysis.memory import Options, analyze_memory, fit_batch
from cnncalc.cli.memory import parse_size
from cnncalc.errors import UsageError
from cnncalc.spec import load_graph
from tests.test_cli import cnncalc

F = 4  # float32


def graph(tmp_path: Path, text: str):
    path = tmp_path / "m.yaml"
    path.write_text(text)
    return load_graph(str(path))


CHAIN = """\
input: [2, 8, 8]
layers:
  - conv2d: {name: a, out: 4, kernel: 1, bias: false}
  - conv2d: {name: b, out: 8, kernel: 1, bias: false}
  - relu: {name: r, inplace: true}
  - conv2d: {name: c, out: 2, kernel: 1, bias: false}
"""


def test_inference_peak_of_a_chain_is_its_largest_input_output_pair(tmp_path):
    m = analyze_memory(graph(tmp_path, CHAIN))
    params = (2 * 4 + 4 * 8 + 8 * 2) * F
    x, a, b, c = 2 * 64 * F, 4 * 64 * F, 8 * 64 * F, 2 * 64 * F
    # the caller holds x throughout; while b runs: x, a, b; the in-place relu adds nothing;
    # while c runs: x, b (= r), c
    assert m.inference.bytes == params + max(x + a, x + a + b, x + b, x + b + c)
    assert m.inference.layer == "b"


def test_training_keeps_what_each_backward_reads(tmp_path):
    m = analyze_memory(graph(tmp_path, CHAIN))
    a, b = 4 * 64 * F, 8 * 64 * F
    # a keeps x (the caller's, not counted), b keeps a, the in-place relu keeps its output
    # (b's storage), c keeps it too: a and b stay, with the model output c
    assert m.saved_bytes == a + b + 2 * 64 * F
    params = (2 * 4 + 4 * 8 + 8 * 2) * F
    assert m.grad_bytes == params and m.optimizer_bytes == 0
    adam = analyze_memory(graph(tmp_path, CHAIN), Options(optimizer="adam"))
    assert adam.optimizer_bytes == 2 * params


def test_concat_holds_its_inputs_and_output(tmp_path):
    g = graph(tmp_path, """\
input: [1, 4, 4]
layers:
  - conv2d: {name: a, out: 3, kernel: 1, bias: false}
  - conv2d: {name: b, from: input, out: 5, kernel: 1, bias: false}
  - concat: {name: c, from: [a, b]}
  - conv2d: {name: d, out: 1, kernel: 1, bias: false}
""")
    m = analyze_memory(g)
    params = (3 + 5 + 8) * F
    x, a, b, c = 16 * F, 3 * 16 * F, 5 * 16 * F, 8 * 16 * F
    assert m.inference.bytes == params + x + a + b + c and m.inference.layer == "c"


def test_frozen_layers_need_no_gradients(tmp_path):
    frozen = CHAIN.replace("name: a, out: 4, kernel: 1, bias: false", "name: a, out: 4, kernel: 1, bias: false, trainable: false")
    m = analyze_memory(graph(tmp_path, frozen))
    assert m.grad_bytes == (4 * 8 + 8 * 2) * F
    # a's output needs no gradient and a keeps nothing: x's and a's backward never run
    layer = {row.name: row for row in m.layers}
    assert layer["a"].saved_bytes == 0 and layer["b"].saved_bytes == 4 * 64 * F


def test_fit_solves_the_largest_batch(tmp_path):
    g = load_graph("resnet18")
    budget = 3 * 2**30
    batch, fixed, per_sample = fit_batch(g, budget)
    assert analyze_memory(g.with_batch(batch)).training.bytes <= budget
    assert analyze_memory(g.with_batch(batch + 1)).training.bytes > budget
    assert per_sample > 0 and fixed > 0


@pytest.mark.parametrize("text, size", [("24GiB", 24 * 2**30), ("80GB", 80 * 10**9), ("512 MiB", 2**29),
                                        ("1.5G", 3 * 2**29), ("4096", 4096)])
def test_sizes(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["lots", "-1GiB", "12 parsecs", "0"])
def test_bad_sizes(text):
    with pytest.raises(UsageError):
        parse_size(text)


def test_memory_command_json():
    result = cnncalc("memory", "resnet18", "-b", "4", "--fit", "8GiB", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["schema"] == "cnncalc.memory/1" and data["batch"] == 4
    assert data["totals"]["training_peak_bytes"] > data["totals"]["inference_peak_bytes"] > data["totals"]["param_bytes"]
    assert data["fit"]["batch"] > 4 and len(data["layers"]) > 20


def test_memory_command_table_and_bad_budget():
    result = cnncalc("memory", "vgg16", "--optimizer", "adam", "--amp", "bf16")
    assert result.returncode == 0, result.stderr
    assert "optimizer state (adam)" in result.stdout and "training peak" in result.stdout
    bad = cnncalc("memory", "vgg16", "--fit", "lots")
    assert bad.returncode == 2 and "--fit 'lots'" in bad.stderr and not bad.stdout


def test_memory_style_reproduces_the_seed_tables():
    """The lecture's torchsummary table for VGG16 (2018 torchvision: no adaptive pool)."""
    result = cnncalc("memory", "vgg16", "--set", "avgpool=false", "--style", "torchsummary")
    assert result.returncode == 0, result.stderr
    assert "Forward/backward pass size (MB): 218.59" in result.stdout
    assert "Estimated Total Size (MB): 746.96" in result.stdout
    info = json.loads(cnncalc("memory", "mnist1d_cnn", "--style", "torchinfo", "-f", "json").stdout)
    assert info["mb"] == {"input": 0.02, "forward_backward": 0.39, "params": 0.01, "total": 0.42}
    assert round(info["mult_adds"] / 1e6, 2) == 1.07
