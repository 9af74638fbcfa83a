"""torchsummary- and torchinfo-compatible memory estimates (cnncalc/analysis/compat.py).

- The seed tables (../shared/reference/REFERENCE.md section 3, seeds 003 and 001) reproduced to
  the printed digit from the bundled specs, rows included where the seed prints them.
- The row rule (which spec layers and blocks are modules) on small specs.
- Cross-checks against the real tools: torchinfo on the models cnncalc builds from specs, and
  torchsummary (when installed) on torchvision-style models written out below and on the
  models cnncalc builds.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import sys
import textwrap

import pytest

from cnncalc.analysis.compat import (
    FUNCTIONAL_KINDS,
    Estimate,
    module_scopes,
    torchinfo_estimate,
    torchsummary_estimate,
)
from cnncalc.spec import Overrides, load_graph
from tests.conftest import needs_torch

HAS_TORCHINFO = importlib.util.find_spec("torchinfo") is not None
HAS_TORCHSUMMARY = importlib.util.find_spec("torchsummary") is not None
needs_torchinfo = pytest.mark.skipif(not HAS_TORCHINFO, reason="torchinfo is not installed")
needs_torchsummary = pytest.mark.skipif(not HAS_TORCHSUMMARY, reason="torchsummary is not installed")

MULT_ADDS_UNIT = "Units.MEGABYTES" if sys.version_info >= (3, 11) else "M"

# REFERENCE.md section 3: (spec, vars, tool, total params, input, forward/backward, params, total MB)
SEED_TABLES = [
    ("lenet5", {}, "torchsummary", "61,706", "0.00", "0.11", "0.24", "0.35"),
    # 2018 torchvision: no adaptive average pool in AlexNet and VGG (`avgpool: false`)
    ("alexnet", {"avgpool": False}, "torchsummary", "61,100,840", "0.57", "8.31", "233.08", "241.96"),
    ("vgg16", {"avgpool": False}, "torchsummary", "138,357,544", "0.57", "218.59", "527.79", "746.96"),
    ("resnet50", {}, "torchsummary", "25,557,032", "0.57", "286.56", "97.49", "384.62"),
    ("mnist1d_cnn", {}, "torchinfo", "2,050", "0.02", "0.39", "0.01", "0.42"),
]


def estimate(name: str, variables: dict, style: str, **options) -> Estimate:
    graph = load_graph(name, Overrides(vars=variables))
    return (torchsummary_estimate if style == "torchsummary" else torchinfo_estimate)(graph, **options)


@pytest.mark.parametrize(("name", "variables", "style", "params", *"ifpt"), SEED_TABLES,
                         ids=[row[0] for row in SEED_TABLES])
def test_seed_tables(name, variables, style, params, i, f, p, t):
    lines = estimate(name, variables, style).lines()
    assert lines[0] == f"Total params: {params}"
    assert lines[1] == f"Trainable params: {params}"
    assert lines[2] == "Non-trainable params: 0"
    assert [line for line in lines if "(MB)" in line] == [
        f"Input size (MB): {i}",
        f"Forward/backward pass size (MB): {f}",
        f"Params size (MB): {p}",
        f"Estimated Total Size (MB): {t}",
    ]


def test_mnist1d_seed_mult_adds():
    e = estimate("mnist1d_cnn", {}, "torchinfo")
    assert e.mult_adds == 1_072_000  # 60*100*19 + 690*100*9 + 690*100*4 + 100*610
    assert e.lines()[3] == f"Total mult-adds ({MULT_ADDS_UNIT}): 1.07"
    assert (e.input_bytes, e.forward_backward_bytes, e.params_bytes) == (16_000 + 64, 392_000, 8_200)
    assert e.megabyte == 10**6


def test_vgg16_torchinfo_mult_adds():
    # REFERENCE.md section 3: torchinfo's VGG16 figure, conv+linear MACs plus the bias adds
    e = estimate("vgg16", {}, "torchinfo")
    assert e.mult_adds == 15_483_821_032
    unit = "Units.GIGABYTES" if sys.version_info >= (3, 11) else "G"
    assert e.lines()[3] == f"Total mult-adds ({unit}): 15.48"


def test_avgpool_var_is_what_the_seed_needs():
    # with today's adaptive pool the VGG16/AlexNet figures are off by its rows
    for name, pooled in (("vgg16", 512 * 7 * 7), ("alexnet", 256 * 6 * 6)):
        now = estimate(name, {}, "torchsummary")
        then = estimate(name, {"avgpool": False}, "torchsummary")
        assert now.forward_backward_bytes - then.forward_backward_bytes == 2 * pooled * 4
        assert now.params == then.params
        assert [c.label.split("-")[0] for c in now.calls if c.name == "avgpool"] == ["AdaptiveAvgPool2d"]


# Row labels and shapes of the seed's torchsummary tables (seed 003).
LENET_ROWS = [
    ("Conv2d", [-1, 6, 28, 28], 156), ("ReLU", [-1, 6, 28, 28], 0), ("MaxPool2d", [-1, 6, 14, 14], 0),
    ("Conv2d", [-1, 16, 10, 10], 2_416), ("ReLU", [-1, 16, 10, 10], 0),
    ("MaxPool2d", [-1, 16, 5, 5], 0), ("Conv2d", [-1, 120, 1, 1], 48_120),
    ("ReLU", [-1, 120, 1, 1], 0), ("Linear", [-1, 84], 10_164), ("ReLU", [-1, 84], 0),
    ("Linear", [-1, 10], 850), ("LogSoftmax", [-1, 10], 0),
]
ALEXNET_ROWS = [
    ("Conv2d", [-1, 64, 55, 55], 23_296), ("ReLU", [-1, 64, 55, 55], 0),
    ("MaxPool2d", [-1, 64, 27, 27], 0), ("Conv2d", [-1, 192, 27, 27], 307_392),
    ("ReLU", [-1, 192, 27, 27], 0), ("MaxPool2d", [-1, 192, 13, 13], 0),
    ("Conv2d", [-1, 384, 13, 13], 663_936), ("ReLU", [-1, 384, 13, 13], 0),
    ("Conv2d", [-1, 256, 13, 13], 884_992), ("ReLU", [-1, 256, 13, 13], 0),
    ("Conv2d", [-1, 256, 13, 13], 590_080), ("ReLU", [-1, 256, 13, 13], 0),
    ("MaxPool2d", [-1, 256, 6, 6], 0), ("Dropout", [-1, 9216], 0),
    ("Linear", [-1, 4096], 37_752_832), ("ReLU", [-1, 4096], 0), ("Dropout", [-1, 4096], 0),
    ("Linear", [-1, 4096], 16_781_312), ("ReLU", [-1, 4096], 0), ("Linear", [-1, 1000], 4_097_000),
]


def _vgg16_rows():
    rows, size, channels = [], 224, [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
                                      512, 512, 512, "M"]
    previous = 3
    for c in channels:
        if c == "M":
            size //= 2
            rows.append(("MaxPool2d", [-1, previous, size, size], 0))
        else:
            rows += [("Conv2d", [-1, c, size, size], previous * 9 * c + c), ("ReLU", [-1, c, size, size], 0)]
            previous = c
    return rows + [("Linear", [-1, 4096], 102_764_544), ("ReLU", [-1, 4096], 0), ("Dropout", [-1, 4096], 0),
                   ("Linear", [-1, 4096], 16_781_312), ("ReLU", [-1, 4096], 0), ("Dropout", [-1, 4096], 0),
                   ("Linear", [-1, 1000], 4_097_000)]


@pytest.mark.parametrize(("name", "variables", "rows"), [
    ("lenet5", {}, LENET_ROWS),
    ("alexnet", {"avgpool": False}, ALEXNET_ROWS),
    ("vgg16", {"avgpool": False}, _vgg16_rows()),
], ids=["lenet5", "alexnet", "vgg16"])
def test_seed_table_rows(name, variables, rows):
    calls = estimate(name, variables, "torchsummary").calls
    assert [(c.label, list(c.output_shape), c.params) for c in calls] == [
        (f"{label}-{index}", shape, params) for index, (label, shape, params) in enumerate(rows, 1)
    ]


# Seed 003's ResNet-50 table prints rows 1-53 and the labels of rows 130-174.
RESNET50_FIRST = (
    "Conv2d BatchNorm2d ReLU MaxPool2d "
    + "Conv2d BatchNorm2d ReLU Conv2d BatchNorm2d ReLU Conv2d BatchNorm2d Conv2d BatchNorm2d ReLU Bottleneck "
    + 2 * "Conv2d BatchNorm2d ReLU Conv2d BatchNorm2d ReLU Conv2d BatchNorm2d ReLU Bottleneck "
    + "Conv2d BatchNorm2d ReLU Conv2d BatchNorm2d ReLU Conv2d BatchNorm2d Conv2d BatchNorm2d ReLU Bottleneck "
    + "Conv2d BatchNorm2d ReLU Conv2d BatchNorm2d"
).split()
RESNET50_LAST = (  # rows 130..174; the 2018 model pooled with AvgPool2d(7), today's adaptively
    "Bottleneck " + 3 * "Conv2d BatchNorm2d ReLU " + "Bottleneck "
    + "Conv2d BatchNorm2d ReLU Conv2d BatchNorm2d ReLU Conv2d BatchNorm2d Conv2d BatchNorm2d ReLU Bottleneck "
    + 2 * "Conv2d BatchNorm2d ReLU Conv2d BatchNorm2d ReLU Conv2d BatchNorm2d ReLU Bottleneck "
    + "AdaptiveAvgPool2d Linear"
).split()


def test_resnet50_seed_rows():
    calls = estimate("resnet50", {}, "torchsummary", block_label="Bottleneck").calls
    labels = [c.label for c in calls]
    assert len(calls) == 174
    assert labels[:53] == [f"{label}-{i}" for i, label in enumerate(RESNET50_FIRST, 1)]
    assert labels[129:] == [f"{label}-{i}" for i, label in enumerate(RESNET50_LAST, 130)]
    shapes = {c.label: list(c.output_shape) for c in calls}
    assert shapes["Bottleneck-16"] == [-1, 256, 56, 56]
    assert shapes["Conv2d-40"] == [-1, 128, 28, 28]  # the stride sits on the 3x3 (v1.5)
    assert shapes["Bottleneck-48"] == [-1, 512, 28, 28]
    assert [c.name for c in calls if c.block][:4] == ["layer1.0", "layer1.1", "layer1.2", "layer2.0"]


def test_torchsummary_arithmetic():
    e = estimate("resnet50", {}, "torchsummary")
    assert e.megabyte == 2**20
    assert e.input_bytes == 3 * 224 * 224 * 4
    assert e.params_bytes == 25_557_032 * 4
    assert e.forward_backward_bytes == 2 * 37_559_784 * 4  # 32,040,424 layer + 5,519,360 block outputs
    doubled = estimate("resnet50", {}, "torchsummary", batch_size=2)
    assert doubled.forward_backward_bytes == 2 * e.forward_backward_bytes
    assert doubled.input_bytes == 2 * e.input_bytes
    assert doubled.params_bytes == e.params_bytes
    assert doubled.calls[0].output_shape == (2, 64, 112, 112)


# -- the row rule ------------------------------------------------------------------------------

RULE_SPEC = """
name: rules
input: [8, 16, 16]
blocks:
  chain:
    - conv2d: {name: conv, out: 8, kernel: 3, padding: 1}
    - relu: {name: relu}
  residual:
    - conv2d: {name: conv, out: 8, kernel: 3, padding: 1}
    - relu: {name: relu}
    - add: {name: add, from: [relu, input]}
  outer:            # a chain of a residual block and a chain block: a Sequential
    - residual: {name: a}
    - chain: {name: b}
  two_out:          # its conv is read from outside: not a Sequential
    - conv2d: {name: conv, out: 8, kernel: 1}
    - relu: {name: relu}
layers:
  - chain: {name: c, repeat: 2}
  - residual: {name: r, repeat: 2}
  - outer: {name: o}
  - two_out: {name: t}
  - concat: {name: cat, from: [t, t.conv]}
  - flatten
  - linear: {name: fc, out: 10}
"""


@pytest.fixture
def rules(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(textwrap.dedent(RULE_SPEC))
    return load_graph(str(path))


def test_module_scopes_rule(rules):
    assert module_scopes(rules) == ["r.0", "r.1", "o.a", "t"]


def test_block_rows_follow_their_layers(rules):
    e = torchsummary_estimate(rules)
    names = [c.name for c in e.calls]
    assert names[names.index("r.0.relu") + 1] == "r.0"  # the add is functional: no row
    assert names[names.index("o.b.conv") - 1] == "o.a"
    blocks = {c.name: c for c in e.calls if c.block}
    assert blocks["t"].output_shape == (-1, 8, 16, 16) and blocks["t"].params == 0
    assert "cat" not in names and "flatten_1" not in names and names[-1] == "fc"


def test_block_and_functional_options(rules):
    none = torchsummary_estimate(rules, blocks="none")
    assert not [c for c in none.calls if c.block]
    chosen = torchsummary_estimate(rules, blocks=["c.*", "o"], block_label=lambda s: s.upper())
    assert [c.label for c in chosen.calls if c.block] == ["C.0-3", "C.1-6", "O-15"]
    everything = torchsummary_estimate(rules, functional=(), blocks="none")
    assert len(everything.calls) == len(rules) - 1  # every layer but the input
    assert "flatten" in FUNCTIONAL_KINDS and "add" in FUNCTIONAL_KINDS
    with pytest.raises(ValueError):
        torchsummary_estimate(rules, blocks="all")


def test_shared_and_frozen_layers(tmp_path):
    path = tmp_path / "shared.yaml"
    path.write_text(textwrap.dedent("""
        input: [4, 8, 8]
        layers:
          - conv2d: {name: a, out: 4, kernel: 3, padding: 1}
          - conv2d: {name: b, out: 4, kernel: 3, padding: 1, share: a}
          - flatten
          - linear: {name: fc, out: 10, trainable: false}
    """))
    graph = load_graph(str(path))
    summary = torchsummary_estimate(graph)
    assert [c.params for c in summary.calls] == [148, 148, 2_570]  # torchsummary counts every call
    assert (summary.params, summary.trainable_params) == (2_866, 296)
    info = torchinfo_estimate(graph)
    assert (info.params, info.trainable_params) == (2_718, 148)  # torchinfo counts a module once
    assert info.mult_adds == 2 * 148 * 64 + 2_570
    assert info.forward_backward_bytes == 2 * 4 * (256 + 256 + 10)


def test_no_torch_import():
    import subprocess

    code = ("import sys; import cnncalc.analysis.compat; "
            "assert 'torch' not in sys.modules, 'compat imports torch'")
    subprocess.run([sys.executable, "-c", code], check=True)


# -- against the real torchinfo ----------------------------------------------------------------

TORCHINFO_SPECS = [
    ("lenet5", {}, None), ("mnist1d_cnn", {}, None), ("resnet18", {}, None),
    ("mnist1d_cnn", {}, "float64"), ("vgg11_bn", {"num_classes": 10}, None),
]


@needs_torch
@needs_torchinfo
@pytest.mark.parametrize(("name", "variables", "dtype"), TORCHINFO_SPECS,
                         ids=[f"{n}-{d or 'float32'}" for n, _, d in TORCHINFO_SPECS])
def test_against_torchinfo(name, variables, dtype):
    import torch
    import torchinfo

    from cnncalc.analysis.shapes import infer_shapes
    from cnncalc.torch_backend.build import build

    graph = load_graph(name, Overrides(vars=variables, dtype=dtype))
    torch_dtype = getattr(torch, graph.dtype)
    model = build(graph, dtype=torch_dtype)
    shape = infer_shapes(graph)[graph.inputs[0].name]
    stats = torchinfo.summary(model, input_size=shape, dtypes=[torch_dtype], verbose=0, device="cpu")
    ours = torchinfo_estimate(graph)
    assert ours.input_bytes == stats.total_input
    assert ours.forward_backward_bytes == stats.total_output_bytes
    assert ours.params_bytes == stats.total_param_bytes
    assert ours.mult_adds == stats.total_mult_adds
    assert (ours.params, ours.trainable_params) == (stats.total_params, stats.trainable_params)
    printed = str(stats).splitlines()
    width = len(printed[-1])
    assert printed[-len(ours.lines(width)):] == ours.lines(width)


def assert_totals_match_torchinfo(graph, input_size):
    import torchinfo

    from cnncalc.torch_backend.build import build

    stats = torchinfo.summary(build(graph), input_size=input_size, verbose=0, device="cpu")
    ours = torchinfo_estimate(graph)
    assert (ours.input_bytes, ours.forward_backward_bytes, ours.params_bytes, ours.mult_adds) == (
        stats.total_input, stats.total_output_bytes, stats.total_param_bytes, stats.total_mult_adds)
    assert (ours.params, ours.trainable_params) == (stats.total_params, stats.trainable_params)


@needs_torch
@needs_torchinfo
def test_against_torchinfo_shared_and_frozen(tmp_path):
    path = tmp_path / "shared.yaml"
    path.write_text(textwrap.dedent("""
        input: [4, 8, 8]
        batch: 3
        layers:
          - conv2d: {name: a, out: 4, kernel: 3, padding: 1}
          - batchnorm2d
          - conv2d: {name: b, out: 4, kernel: 3, padding: 1, share: a}
          - flatten
          - linear: {name: fc, out: 10, trainable: false}
    """))
    assert_totals_match_torchinfo(load_graph(str(path)), (3, 4, 8, 8))


@needs_torch
@needs_torchinfo
def test_against_torchinfo_composite_modules(tmp_path):
    """Kinds whose torch module has children (a partial convolution's masked conv, a deformable
    convolution's offset conv; 'same' padding's pad module) are counted through their leaves."""
    path = tmp_path / "composite.yaml"
    path.write_text(textwrap.dedent("""
        input: [4, 12, 12]
        batch: 2
        layers:
          - partial_conv2d: {out: 3, kernel: 3, connections: [[0, 1], [1, 2, 3], [0, 3]]}
          - deform_conv2d: {out: 6, kernel: 3, padding: 1}
          - conv2d: {out: 4, kernel: 4, padding: same}
    """))
    assert_totals_match_torchinfo(load_graph(str(path)), (2, 4, 12, 12))


# -- against the real torchsummary -------------------------------------------------------------
# torchvision's definitions (the 2018 ones for AlexNet and VGG: no adaptive average pool), written
# out so the cross-check needs no torchvision.


def _torchvision_models():
    import torch
    from torch import nn

    class LeNet5(nn.Module):  # the lecture's: ReLU, max pooling, x.view before the classifier
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                nn.MaxPool2d(2), nn.Conv2d(16, 120, 5), nn.ReLU())
            self.classifier = nn.Sequential(nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
                                            nn.LogSoftmax(dim=1))

        def forward(self, x):
            return self.classifier(self.features(x).view(x.size(0), -1))

    class AlexNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
                nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
                nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(inplace=True),
                nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True),
                nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2))
            self.classifier = nn.Sequential(
                nn.Dropout(), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True), nn.Dropout(),
                nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Linear(4096, 1000))

        def forward(self, x):
            return self.classifier(self.features(x).view(x.size(0), 256 * 6 * 6))

    class VGG16(nn.Module):
        def __init__(self):
            super().__init__()
            layers, channels = [], 3
            for c in [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]:
                if c == "M":
                    layers.append(nn.MaxPool2d(2, 2))
                else:
                    layers += [nn.Conv2d(channels, c, 3, padding=1), nn.ReLU(inplace=True)]
                    channels = c
            self.features = nn.Sequential(*layers)
            self.classifier = nn.Sequential(
                nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(),
                nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(), nn.Linear(4096, 1000))

        def forward(self, x):
            return self.classifier(self.features(x).view(x.size(0), -1))

    class BasicBlock(nn.Module):
        expansion = 1

        def __init__(self, inplanes, planes, stride=1, downsample=None):
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = downsample

        def forward(self, x):
            identity = x
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            if self.downsample is not None:
                identity = self.downsample(x)
            out += identity
            return self.relu(out)

    class Bottleneck(nn.Module):
        expansion = 4

        def __init__(self, inplanes, planes, stride=1, downsample=None):
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
            self.bn3 = nn.BatchNorm2d(planes * 4)
            self.relu = nn.ReLU(inplace=True)  # one module, called three times
            self.downsample = downsample

        def forward(self, x):
            identity = x
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.relu(self.bn2(self.conv2(out)))
            out = self.bn3(self.conv3(out))
            if self.downsample is not None:
                identity = self.downsample(x)
            out += identity
            return self.relu(out)

    class ResNet(nn.Module):
        def __init__(self, block, layers):
            super().__init__()
            self.inplanes = 64
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            self.layer1 = self._make_layer(block, 64, layers[0])
            self.layer2 = self._make_layer(block, 128, layers[1], 2)
            self.layer3 = self._make_layer(block, 256, layers[2], 2)
            self.layer4 = self._make_layer(block, 512, layers[3], 2)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(512 * block.expansion, 1000)

        def _make_layer(self, block, planes, blocks, stride=1):
            downsample = None
            if stride != 1 or self.inplanes != planes * block.expansion:
                downsample = nn.Sequential(
                    nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                    nn.BatchNorm2d(planes * block.expansion))
            layers = [block(self.inplanes, planes, stride, downsample)]
            self.inplanes = planes * block.expansion
            layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
            return nn.Sequential(*layers)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return {
        "lenet5": (LeNet5, {}, "Block"),
        "alexnet": (AlexNet, {"avgpool": False}, "Block"),
        "vgg16": (VGG16, {"avgpool": False}, "Block"),
        "resnet18": (lambda: ResNet(BasicBlock, [2, 2, 2, 2]), {}, "BasicBlock"),
        "resnet50": (lambda: ResNet(Bottleneck, [3, 4, 6, 3]), {}, "Bottleneck"),
    }


def _sample_shape(graph) -> tuple[int, ...]:
    from cnncalc.analysis.shapes import infer_shapes

    return tuple(infer_shapes(graph)[graph.inputs[0].name][1:])


def _torchsummary_printout(model, input_size, **options) -> str:
    import torch
    from torchsummary import summary

    torch.manual_seed(0)
    out = io.StringIO()
    with torch.no_grad(), contextlib.redirect_stdout(out):
        summary(model, input_size, device="cpu", **options)
    return out.getvalue()


@needs_torch
@needs_torchsummary
@pytest.mark.parametrize("name", ["lenet5", "alexnet", "vgg16", "resnet18", "resnet50"])
def test_against_torchsummary_torchvision_style(name):
    make, variables, label = _torchvision_models()[name]
    graph = load_graph(name, Overrides(vars=variables))
    printed = _torchsummary_printout(make().eval(), _sample_shape(graph))
    ours = torchsummary_estimate(graph, block_label=label)
    assert "\n".join(ours.table()) + "\n" == printed
    seed = {row[0]: row[4:] for row in SEED_TABLES}.get(name)
    if seed:  # the real tool on torchvision's model prints the seed's figures
        for title, value in zip(("Input size", "Forward/backward pass size", "Params size",
                                 "Estimated Total Size"), seed):
            assert f"{title} (MB): {value}\n" in printed


@needs_torch
@needs_torchsummary
@pytest.mark.parametrize("name", ["lenet5", "mnist1d_cnn", "resnet18", "squeezenet1_1"])
def test_against_torchsummary_cnncalc_model(name):
    # cnncalc's own torch model makes every layer a module (flatten and add too) and no block one
    from cnncalc.torch_backend.build import build

    graph = load_graph(name)
    shape = _sample_shape(graph)
    ours = torchsummary_estimate(graph, functional=(), blocks="none", block_label="GraphModule")
    printed = _torchsummary_printout(build(graph).eval(), shape)
    assert "\n".join(ours.table()) + "\n" == printed
    batched = torchsummary_estimate(graph, functional=(), blocks="none", batch_size=3)
    printed = _torchsummary_printout(build(graph).eval(), shape, batch_size=3)
    assert "\n".join(batched.table()) + "\n" == printed
