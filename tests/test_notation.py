"""The compact notation (docs/notation.md): the slides' patterns as specs, conversion both ways.

What proves it:
- the seed's patterns (shared/seeds/003, "Layer patterns") written in the notation give the
  same `summary --format json` as hand-written YAML equivalents (tests/notation/*.yaml);
- their numbers are worked out by hand below, and the CIFAR pattern matches the zoo's
  cifar_convnet layer by layer;
- YAML -> notation -> YAML keeps every expressible zoo spec's graph (layer kinds, attributes,
  shapes, parameters, MACs), and a hypothesis property test does the same on random chains;
- VGG-11/13/16/19 in the paper's notation (conv3-64, maxpool, FC-4096, soft-max) have
  torchvision's published parameter counts, and torch's count of the built model;
- every parse error is pinned verbatim in tests/notation_errors/ (NN_what.cnn beside
  NN_what.expected, the text as `--notation` shows it). To rewrite them after a deliberate change:
  CNNCALC_UPDATE_GOLDEN=1 pytest tests/test_notation.py -k pinned
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cnncalc.analysis import analyze
from cnncalc.errors import CnncalcError, ExitCode, Source, SpecError
from cnncalc.graph import LayerGraph
from cnncalc.report.to_json import summary_dict
from cnncalc.spec import Overrides, load_graph, load_notation, load_tree, notation_tree, zoo_names
from cnncalc.spec.convert import to_notation, to_yaml
from cnncalc.spec.expand import expand
from cnncalc.spec.loader import load
from cnncalc.spec.model import parse_model
from tests.conftest import needs_fvcore, needs_torch

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "tests" / "notation"
CORPUS = REPO / "tests" / "notation_errors"
CASES = sorted(CORPUS.glob("*.cnn"))
UPDATE = os.environ.get("CNNCALC_UPDATE_GOLDEN") == "1"


def summary(graph: LayerGraph) -> dict[str, Any]:
    """`summary --format json`, less the source line of each layer (a notation is one line)."""
    data = summary_dict(analyze(graph))
    for row in data["layers"]:
        row.pop("line")
    return data


def layers(graph: LayerGraph) -> list[tuple[Any, ...]]:
    """What a round trip must keep: each layer's kind, attributes, shape, parameters, MACs."""
    report = analyze(graph, peaks=False)
    rows = {row.name: row for row in report.rows}
    return [(node.kind.name, dict(node.attrs), rows[node.name].output_shape, rows[node.name].params,
             rows[node.name].macs, node.trainable) for node in graph if not node.is_input]


def spec_graph(text: str, name: str = "spec") -> LayerGraph:
    """A YAML spec text, loaded without a file."""
    return expand(parse_model(load(Source(f"{name}.yaml", text)), default_name=name))


def notation_graph(text: str, **overrides: Any) -> LayerGraph:
    return load_notation(text, Overrides(**overrides))


# -- the seed's patterns ------------------------------------------------------------------------


@pytest.mark.parametrize("cnn", sorted(SEEDS.glob("*.cnn")), ids=lambda p: p.stem)
def test_seed_pattern_equals_its_yaml(cnn: Path) -> None:
    assert summary(load_graph(str(cnn))) == summary(load_graph(str(cnn.with_suffix(".yaml"))))


@pytest.mark.parametrize("sets", [{}, {"pool": False}, {"M": 1, "N": 3, "K": 0}, {"M": 0, "pool": False}])
def test_pattern_vars_switch_like_yaml(sets: dict[str, Any]) -> None:
    """`--set M=1`, `--set pool=false` act on the notation's vars as on the YAML spec's."""
    overrides = Overrides(vars=sets)
    notation = summary(load_graph(str(SEEDS / "6_pattern.cnn"), overrides))
    assert notation == summary(load_graph(str(SEEDS / "6_pattern.yaml"), overrides))
    assert notation == summary(load_graph(str(SEEDS / "7_embedded.yaml"), overrides))
    pools = sum(row["kind"] == "maxpool2d" for row in notation["layers"])
    assert pools == (0 if sets.get("pool") is False else sets.get("M", 3))


def test_seed_pattern_numbers_by_hand() -> None:
    """INPUT(3x32x32) -> [[CONV(32,k=3,p=1) -> RELU]*2 -> POOL(2)]*3 -> [FC(512) -> RELU]*2 -> FC(10)."""
    data = summary(load_graph(str(SEEDS / "5_three_stages.cnn")))
    # conv params: out*in*9 + out; the first conv reads 3 channels, the five others 32
    conv = (32 * 3 * 9 + 32) + 5 * (32 * 32 * 9 + 32)  # 896 + 5 * 9,248
    # 3x3 padding 1 keeps the size; pools halve it: 32 -> 16 -> 8 -> 4, so FC reads 32*4*4 = 512
    fc = 2 * (512 * 512 + 512) + (512 * 10 + 10)
    assert data["totals"]["params"] == conv + fc == 577_578
    conv_macs = sum(2 * 32 * size * size * 32 * 9 for size in (32, 16, 8)) - 32 * 32 * 32 * 29 * 9
    # (the very first conv reads 3 channels, not 32: 32*32*32*(32-3)*9 fewer MACs)
    assert data["totals"]["macs"] == conv_macs + 2 * 512 * 512 + 512 * 10 == 16_749_568
    assert data["outputs"] == {"linear_1": [1, 10]}


def test_cifar_pattern_matches_the_zoo_spec() -> None:
    """The zoo's cifar_convnet (verified against torch elsewhere) is this pattern with widths
    32/64/128: the same layers, shapes, parameters and MACs."""
    text = ("INPUT(3x32x32) -> [CONV(32, k=3, p=1) -> RELU(inplace=true)]*2 -> POOL(2, s=2)"
            " -> [CONV(64, k=3, p=1) -> RELU(inplace=true)]*2 -> POOL(2, s=2)"
            " -> [CONV(128, k=3, p=1) -> RELU(inplace=true)]*2 -> POOL(2, s=2)"
            " -> [FC(512) -> RELU(inplace=true)]*2 -> FC(10)")
    assert layers(notation_graph(text)) == layers(load_graph("cifar_convnet"))
    assert analyze(notation_graph(text)).totals.params == 1_603_882


# -- VGG in the paper's notation ----------------------------------------------------------------

#: Simonyan & Zisserman 2015, Table 1: the convolutions of each stage, each stage ending in maxpool
VGG = {"vgg11": (1, 1, 2, 2, 2), "vgg13": (2, 2, 2, 2, 2), "vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4)}
#: torchvision's published parameter counts (torchvision.models docs)
TORCHVISION_PARAMS = {"vgg11": 132_863_336, "vgg13": 133_047_848, "vgg16": 138_357_544, "vgg19": 143_667_240}


def vgg_paper(convs: tuple[int, ...]) -> str:
    column = []
    for width, count in zip((64, 128, 256, 512, 512), convs):
        column += [f"conv3-{width}"] * count + ["maxpool"]
    return " -> ".join(["INPUT(3x224x224)", *column, "FC-4096", "FC-4096", "FC-1000", "soft-max"])


@pytest.mark.parametrize("name", VGG)
def test_vgg_in_paper_notation(name: str) -> None:
    graph = notation_graph(vgg_paper(VGG[name]))
    totals = analyze(graph).totals
    assert totals.params == TORCHVISION_PARAMS[name]
    # no ReLU, dropout or adaptive pool written: the same MACs as torchvision's model all the same
    assert totals.macs == analyze(load_graph(name)).totals.macs


@needs_torch
def test_vgg_paper_notation_counted_by_torch() -> None:
    import torch

    from cnncalc.torch_backend.build import build

    for name in ("vgg11", "vgg19"):
        module = build(notation_graph(vgg_paper(VGG[name])), device="meta")
        assert sum(p.numel() for p in module.parameters()) == TORCHVISION_PARAMS[name]
        assert isinstance(module, torch.nn.Module)


def test_paper_tokens() -> None:
    graph = notation_graph("INPUT(3x32x32) -> conv3-64 -> conv1-8 -> conv1x7-16 -> Conv2-4 -> maxpool -> FC-10")
    convs = [node.attrs for node in graph if node.kind.name == "conv2d"]
    assert [(a.out, a.kernel, a.padding) for a in convs] == [
        (64, (3, 3), ((1, 1), (1, 1))), (8, (1, 1), ((0, 0), (0, 0))), (16, (1, 7), ((0, 0), (3, 3))),
        (4, (2, 2), "same"),
    ]
    pool = next(node.attrs for node in graph if node.kind.name == "maxpool2d")
    assert pool.kernel == (2, 2) and pool.stride is None


# -- round trips ----------------------------------------------------------------------------------


def is_chain(graph: LayerGraph) -> bool:
    """Written independently of the converter: one input, each layer reads the one before."""
    nodes = list(graph)
    if len(graph.inputs) != 1 or nodes[0] is not graph.inputs[0]:
        return False
    return graph.outputs == [nodes[-1].name] and all(
        node.inputs == (before.name,) and not node.refs and node.share is None and node.trainable
        for before, node in zip(nodes, nodes[1:]))


@pytest.mark.parametrize("name", zoo_names())
def test_zoo_round_trip(name: str) -> None:
    graph = load_graph(name)
    if not is_chain(graph):
        with pytest.raises(SpecError, match="^the notation cannot express this spec: ") as caught:
            to_notation(graph)
        assert caught.value.span is not None and caught.value.exit_code == ExitCode.INVALID_SPEC
        return
    text = to_notation(graph)
    again = notation_graph(text)
    assert layers(again) == layers(graph), text
    assert (again.batch, again.dtype, again.inputs[0].attrs["shape"]) == \
        (graph.batch, graph.dtype, graph.inputs[0].attrs["shape"])
    # ... and back to YAML: the notation's tree written as YAML loads into the same graph
    yaml_text = to_yaml(notation_tree(text), name)
    assert layers(spec_graph(yaml_text, name)) == layers(graph)
    assert to_notation(again) == text  # a fixed point


def test_most_chain_specs_of_the_zoo_convert() -> None:
    expressible = [name for name in zoo_names() if is_chain(load_graph(name))]
    assert {"lenet5", "alexnet", "vgg16", "vgg19_bn", "mobilenet_v1", "cifar_convnet"} <= set(expressible)
    assert len(expressible) >= 15


@pytest.mark.parametrize("name", ["resnet50", "vgg11", "densenet121", "googlenet", "unet", "efficientnet_b0"])
def test_yaml_to_yaml_keeps_any_spec(name: str) -> None:
    """`convert --to yaml` of a YAML spec (`extends:` folded in) loads into the same graph."""
    root, stem = load_tree(name)
    original, again = load_graph(name), spec_graph(to_yaml(parse_model(root, stem).root, stem), stem)
    assert [(n.name, n.kind.name, dict(n.attrs), n.inputs) for n in again] == \
        [(n.name, n.kind.name, dict(n.attrs), n.inputs) for n in original]


# random chains: each entry is a YAML layer written as a dict; shapes need not fit (only the
# expansion is compared, not an analysis)
_per_axis = st.one_of(st.integers(1, 5), st.lists(st.integers(1, 5), min_size=2, max_size=2))
_padding = st.one_of(st.integers(0, 3), st.lists(st.integers(0, 3), min_size=2, max_size=2),
                     st.just("same"), st.just("valid"),
                     st.lists(st.lists(st.integers(0, 2), min_size=2, max_size=2), min_size=2, max_size=2))
_LAYERS = st.one_of(
    st.fixed_dictionaries({"conv2d": st.fixed_dictionaries(
        {"out": st.integers(1, 64), "kernel": _per_axis},
        optional={"stride": _per_axis, "padding": _padding, "dilation": _per_axis, "bias": st.booleans(),
                  "padding_mode": st.sampled_from(["zeros", "reflect", "replicate", "circular"])})}),
    st.fixed_dictionaries({"conv_transpose2d": st.fixed_dictionaries(
        {"out": st.integers(1, 16), "kernel": _per_axis, "stride": st.integers(2, 3)},
        optional={"output_padding": st.integers(0, 1)})}),
    st.builds(lambda kind, attrs: {kind: attrs}, st.sampled_from(["maxpool2d", "avgpool2d"]), st.fixed_dictionaries(
        {"kernel": st.integers(2, 5)}, optional={"stride": _per_axis, "padding": st.integers(0, 1), "ceil_mode": st.booleans()})),
    st.sampled_from(["relu", "sigmoid", "tanh", "batchnorm2d", "dropout", "identity", "gelu", "softmax", "flatten"]),
    st.builds(lambda kind, attrs: {kind: attrs}, st.sampled_from(["relu", "relu6", "silu", "hardswish"]),
              st.fixed_dictionaries({"inplace": st.booleans()})),
    st.fixed_dictionaries({"leaky_relu": st.fixed_dictionaries({"negative_slope": st.sampled_from([0.01, 0.1, 0.2, 1e-3])})}),
    st.fixed_dictionaries({"dropout": st.fixed_dictionaries({"p": st.sampled_from([0.1, 0.25, 0.5])})}),
    st.fixed_dictionaries({"batchnorm2d": st.fixed_dictionaries({}, optional={"eps": st.sampled_from([1e-5, 1e-3]), "affine": st.booleans()})}),
    st.fixed_dictionaries({"gelu": st.fixed_dictionaries({"approximate": st.sampled_from(["none", "tanh"])})}),
    st.fixed_dictionaries({"adaptive_avgpool2d": st.fixed_dictionaries({"output_size": _per_axis})}),
    st.fixed_dictionaries({"linear": st.fixed_dictionaries({"out": st.integers(1, 100)}, optional={"bias": st.booleans()})}),
    st.fixed_dictionaries({"lrn": st.fixed_dictionaries({"size": st.integers(1, 5), "k": st.sampled_from([1.0, 2.0])})}),
)


@st.composite
def chains(draw: st.DrawFn) -> str:
    body = draw(st.lists(_LAYERS, min_size=1, max_size=12))
    body = body * draw(st.integers(1, 3))  # repeated runs, for the folding
    flat = draw(st.booleans())
    first_linear = next((i for i, e in enumerate(body) if isinstance(e, dict) and "linear" in e), None)
    if first_linear is not None and not flat and "flatten" not in body[:first_linear]:
        body.insert(first_linear, "flatten")  # a linear layer on a feature map needs one (docs)
    spec = {"input": [16] if flat else [3, 16, 16], "batch": draw(st.integers(1, 4)),
            "dtype": draw(st.sampled_from(["float32", "float16"])), "layers": body}
    return json.dumps(spec)  # JSON is YAML


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(chains())
def test_render_then_parse_is_identity(spec: str) -> None:
    try:
        graph = spec_graph(spec)
    except SpecError as error:  # the generator wrote an invalid combination (e.g. a pool's padding)
        assume(False)
        raise AssertionError from error
    text = to_notation(graph)
    again = notation_graph(text)
    assert [(n.kind.name, dict(n.attrs)) for n in again] == [(n.kind.name, dict(n.attrs)) for n in graph], text
    assert (again.batch, again.dtype) == (graph.batch, graph.dtype)
    assert to_notation(again) == text


# -- the language ---------------------------------------------------------------------------------


def kinds_and_attrs(text: str, **overrides: Any) -> list[tuple[str, dict[str, Any]]]:
    return [(n.kind.name, dict(n.attrs)) for n in notation_graph(text, **overrides) if not n.is_input]


def test_ascii_unicode_case_and_names_agree() -> None:
    forms = [
        "INPUT(3x16x16) -> CONV(8, k=3, p=1) -> RELU -> POOL -> FC(10) -> SOFTMAX",
        "input(3×16×16) → conv2d(8, 3, 1, 1) → ReLU → MaxPool2d(2) → Linear(10) → soft-max",
        "# a comment\nINPUT(3, 16, 16)\n  -> Conv(out=8, kernel=3, padding=1)  # first\n  -> relu -> max_pool2d(kernel=2)"
        "\n  -> flatten -> fc(10) -> softmax",
    ]
    assert kinds_and_attrs(forms[0]) == kinds_and_attrs(forms[1]) == kinds_and_attrs(forms[2])


def test_arguments_positional_short_and_long() -> None:
    attrs = kinds_and_attrs("INPUT(3x16x16) -> CONV(8, 3, s=2, p=1x0, d=1, g=1, bias=false, padding_mode=reflect)"
                            " -> DROPOUT(p=0.2) -> LRN(k=2)")
    assert attrs[0][1] == {"out": 8, "kernel": (3, 3), "stride": (2, 2), "padding": ((1, 1), (0, 0)),
                           "dilation": (1, 1), "groups": 1, "bias": False, "padding_mode": "reflect"}
    assert attrs[1][1]["p"] == 0.2  # dropout's own `p`, not padding
    assert attrs[2][1]["k"] == 2.0  # lrn's own `k`, not kernel


def test_the_flatten_before_the_first_fc() -> None:
    def kinds(text: str) -> list[str]:
        return [kind for kind, _ in kinds_and_attrs(text)]

    assert kinds("INPUT(3x8x8) -> [FC(4) -> RELU]*2 -> FC(2)") == [
        "flatten", "linear", "relu", "linear", "relu", "linear"]
    assert kinds("INPUT(64) -> FC(4) -> FC(2)") == ["linear", "linear"]  # a 1-d input: an MLP
    assert kinds("INPUT(3x8x8) -> GAP -> FLATTEN -> RELU -> FC(2)") == [
        "global_avgpool", "flatten", "relu", "linear"]
    assert kinds("INPUT(3x8x8) -> [CONV(4, 3) -> FC(2)]*2") == [
        "conv2d", "flatten", "linear", "conv2d", "flatten", "linear"]  # before the FC inside the group


def test_counts_optional_layers_and_input_options() -> None:
    graph = notation_graph("N = 0; INPUT(3x8x8, batch=4, dtype=float16) -> [CONV(4, 3)]*N -> RELU*3 -> BN? -> POOL")
    assert [n.kind.name for n in graph if not n.is_input] == ["relu"] * 3 + ["batchnorm2d", "maxpool2d"]
    assert (graph.batch, graph.dtype) == (4, "float16")
    assert [n.kind.name for n in notation_graph(
        "INPUT(3x8x8) -> CONV(4, 3)? -> [BN -> RELU]? -> POOL", vars={"conv": False, "group1": False})
        if not n.is_input] == ["maxpool2d"]
    assert len(notation_graph('N = 2; INPUT(1x4x4) -> RELU*"2 * N"').nodes) == 1 + 4


def test_input_from_the_command_line() -> None:
    graph = notation_graph("CONV(4, 3) -> RELU", inputs={"": (1, 10, 10)})
    assert graph.inputs[0].attrs["shape"] == (1, 10, 10)
    with pytest.raises(SpecError, match="^the notation gives no input shape$"):
        notation_graph("CONV(4, 3) -> RELU")


def test_yaml_layers_string_uses_the_specs_blocks_and_defaults() -> None:
    graph = spec_graph("""
input: [3, 32, 32]
vars: {width: 8, bn: false}
defaults: {conv2d: {kernel: 3, padding: 1}}
blocks:
  stage:
    args: {out: null}
    layers: [{conv2d: {out: out}}, relu, {maxpool2d: {kernel: 2}}]
layers: "stage(out=width) -> stage(out='2 * width') -> CONV(4) -> BN? -> FC(10)"
""")
    assert [n.name for n in graph][1:] == [
        "stage_1.conv2d_1", "stage_1.relu_1", "stage_1.maxpool2d_1", "stage_2.conv2d_1", "stage_2.relu_1",
        "stage_2.maxpool2d_1", "conv2d_1", "flatten_1", "linear_1"]
    assert graph.nodes["stage_2.conv2d_1"].attrs.out == 16 and graph.nodes["conv2d_1"].attrs.kernel == (3, 3)


def test_error_in_a_cnn_file_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "net.cnn").write_text("# stages\nINPUT(3x32x32)\n  -> [CONV(8, 3) -> RELU\n  -> FC(10)\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpecError, match="^the notation ends inside a group$") as caught:
        load_graph("net.cnn")
    assert caught.value.render().splitlines()[0] == "net.cnn:4:12: error: the notation ends inside a group"
    assert caught.value.hint == "expected `]` to close the group opened at line 3, column 6"


DOC = (REPO / "docs" / "notation.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("text", sorted(set(re.findall(r"`(INPUT\([^`]*->[^`]*)`", DOC))))
def test_notations_in_the_docs_load(text: str) -> None:
    analyze(notation_graph(text))


def test_positional_order_in_the_docs_is_the_registry() -> None:
    from cnncalc.layers import REGISTRY

    section = DOC.split("| kind | attributes in positional order |")[1].split("\n\n")[0]
    rows = re.findall(r"^\| (.+?) \| (.+?) \|$", section, re.M)
    kinds = [(kind, order) for names, order in rows for kind in re.findall(r"`([a-z0-9_]+)`", names)]
    assert len(kinds) >= 18
    for kind, order in kinds:
        assert [a.name for a in REGISTRY[kind].attrs] == order.split(", "), kind


def test_example_files(monkeypatch: pytest.MonkeyPatch) -> None:
    assert analyze(load_graph(str(REPO / "docs" / "examples" / "vgg16_paper.cnn"))).totals.params == 138_357_544
    pattern = REPO / "docs" / "examples" / "lecture_pattern.cnn"
    assert summary(load_graph(str(pattern))) | {"model": ""} == summary(load_graph(str(SEEDS / "6_pattern.cnn"))) | {"model": ""}


# -- pinned errors --------------------------------------------------------------------------------

LOCATION = re.compile(r"^<notation>:(?P<line>\d+):(?P<col>\d+): error: (?P<message>.+)$")
CARET = re.compile(r"^ +\| (?P<indent> *)\^+$")


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 40
    assert not [p.name for p in CORPUS.glob("*.expected") if not p.with_suffix(".cnn").exists()]


@pytest.mark.parametrize("case", CASES, ids=[p.stem for p in CASES])
def test_pinned_message(case: Path) -> None:
    expected = case.with_suffix(".expected")
    message = None
    if not UPDATE and expected.exists():
        head = LOCATION.match(expected.read_text(encoding="utf-8").splitlines()[0])
        assert head, f"{expected.name}: the first line is not `<notation>:line:col: error: ...`"
        message = "^" + re.escape(head["message"]) + "$"
    with pytest.raises(CnncalcError, match=message) as caught:
        analyze(load_notation(case.read_text(encoding="utf-8")))
    text = caught.value.render() + "\n"
    if UPDATE:
        expected.write_bytes(text.encode("utf-8"))
    assert caught.value.exit_code == ExitCode.INVALID_SPEC
    assert text.encode("utf-8") == expected.read_bytes()
    lines = text.rstrip("\n").split("\n")  # the layout: location, source line, caret, hint
    head = LOCATION.match(lines[0])
    assert head and caught.value.span is not None
    caret = CARET.match(lines[2])
    assert caret and len(caret["indent"]) == int(head["col"]) - 1
    assert lines[-1].startswith("hint: ") and sum(line.startswith("hint: ") for line in lines) == 1


# -- the command line -----------------------------------------------------------------------------

PATTERN = "INPUT(3x32x32) -> [[CONV(32,k=3,p=1) -> RELU]*2 -> POOL(2)]*3 -> [FC(512) -> RELU]*2 -> FC(10)"


def cnncalc(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cnncalc", *args], capture_output=True, text=True,
                          cwd=cwd or REPO, timeout=120, env={"COLUMNS": "140", "PATH": "/usr/bin:/bin"})


def test_summary_of_a_notation_string() -> None:
    result = cnncalc("summary", "--notation", PATTERN, "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    expected = summary_dict(analyze(load_graph(str(SEEDS / "5_three_stages.yaml"))))
    assert data["totals"] == expected["totals"] and data["model"] == "notation"
    assert [row["name"] for row in data["layers"]] == [row["name"] for row in expected["layers"]]


@pytest.mark.parametrize("args", [["summary"], ["rf"], ["summary", "lenet5", "--notation", PATTERN],
                                  ["profile", "lenet5", "--notation", PATTERN], ["convert", "--to", "yaml"]])
def test_spec_or_notation_exactly_one(args: list[str]) -> None:
    result = cnncalc(*args)
    assert result.returncode == int(ExitCode.USAGE) == 2
    assert result.stderr.startswith(("error: give a SPEC", "error: give either SPEC")), result.stderr


def test_rf_memory_and_errors_with_notation() -> None:
    rf = json.loads(cnncalc("rf", "--notation", PATTERN, "-f", "json").stdout)
    assert rf["layers"][4]["rf"]["size"] == [6, 6]  # two 3x3 convs (5) and a 2x2 pool: 5 + 1
    memory = json.loads(cnncalc("memory", "--notation", PATTERN, "-f", "json", "--batch", "2").stdout)
    assert memory["batch"] == 2 and memory["totals"]["param_bytes"] == 577_578 * 4
    bad = cnncalc("summary", "--notation", "INPUT(3x32x32) -> [CONV(8, 3) -> RELU")
    assert bad.returncode == ExitCode.INVALID_SPEC
    assert bad.stderr.splitlines()[0] == "<notation>:1:38: error: the notation ends inside a group"


def test_convert_both_ways(tmp_path: Path) -> None:
    result = cnncalc("convert", "vgg16", "--to", "notation", "-o", str(tmp_path / "vgg16.cnn"))
    assert result.returncode == 0 and result.stdout == "", result.stderr
    assert "[[CONV(512, k=3, p=1) -> RELU(inplace=true)]*3 -> POOL(2, s=2)]*2" in (tmp_path / "vgg16.cnn").read_text()
    assert layers(load_graph(str(tmp_path / "vgg16.cnn"))) == layers(load_graph("vgg16"))
    yaml_result = cnncalc("convert", str(SEEDS / "6_pattern.cnn"), "--to", "yaml", "--set", "M=2")
    assert "vars: {N: 2, M: 2, K: 2, pool: true}" in yaml_result.stdout, yaml_result.stdout
    (tmp_path / "pattern.yaml").write_text(yaml_result.stdout)
    assert summary(load_graph(str(tmp_path / "pattern.yaml"))) == \
        summary(load_graph(str(SEEDS / "6_pattern.yaml"), Overrides(vars={"M": 2})))


def test_convert_refuses_a_skip_connection() -> None:
    result = cnncalc("convert", "resnet18", "--to", "notation")
    assert result.returncode == ExitCode.INVALID_SPEC and result.stdout == ""
    first = result.stderr.splitlines()[0]
    assert re.fullmatch(r".*specs/resnet50\.yaml:\d+:\d+: error: the notation cannot express this spec: "
                        r"`layer1\.0\.add` merges 2 layers \(layer1\.0\.bn2, maxpool\)", first), first


def in_process(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from cnncalc.cli.app import main

    with pytest.raises(SystemExit) as done:
        main(args)
    return int(done.value.code or 0), capsys.readouterr().out


@needs_fvcore
def test_verify_with_notation(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = in_process(["verify", "--notation", "INPUT(3x12x12) -> [CONV(4, k=3, p=1) -> RELU]*2 -> POOL -> FC(5)",
                            "--no-memory", "--probes", "1", "-f", "json"], capsys)
    assert code == 0 and json.loads(out)["ok"] is True


@needs_torch
def test_profile_with_notation(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = in_process(["profile", "--notation", "INPUT(3x12x12) -> CONV(4, k=3) -> FC(5)", "--device", "cpu",
                            "--warmup", "0", "--repeat", "1", "--no-layers", "-f", "json"], capsys)
    assert code == 0 and json.loads(out)["model"] == "notation"
