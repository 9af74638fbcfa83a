"""The spec language's semantics, checked against numbers worked out by hand.

Conv2d parameter count: out * in/groups * kh * kw (+ out with bias); output size
floor((n + 2p - k) / s) + 1; MACs out_channels * out_h * out_w * in/groups * kh * kw per sample.
Each expected number below shows its arithmetic.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from cnncalc.analysis import Report, analyze
from cnncalc.errors import ExitCode, Source, SpecError, UsageError
from cnncalc.graph import LayerGraph
from cnncalc.layers import REGISTRY
from cnncalc.spec import Overrides, load_graph
from cnncalc.spec.loader import load


def write(tmp_path: Path, text: str, name: str = "spec.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(path)


def graph_of(tmp_path: Path, text: str, overrides: Overrides | None = None) -> LayerGraph:
    return load_graph(write(tmp_path, text), overrides)


def report_of(tmp_path: Path, text: str, overrides: Overrides | None = None) -> Report:
    return analyze(graph_of(tmp_path, text, overrides))


def rows(report: Report) -> dict[str, tuple[tuple[int, ...], int]]:
    """name -> (output shape, params)."""
    return {r.name: (r.output_shape, r.params) for r in report.rows}


def test_vars_and_expressions(tmp_path):
    report = report_of(tmp_path, """
        name: exprs
        input: [3, 32, 32]
        vars: {width: 8, wide: 2*width, quarter: wide // 4}
        layers:
          - conv2d: {name: a, out: wide, kernel: 3, padding: 1}
          - conv2d: {name: b, out: "quarter + 1", kernel: 3}
          - conv2d: {name: c, out: "max(width, 3) if width > 4 else 1", kernel: 1}
          - conv2d: {name: d, out: make_divisible(width * 1.4), kernel: [1, 3], padding: [0, 1]}
    """)
    assert rows(report) == {
        # wide = 2*8 = 16; 16*3*3*3 + 16 = 448; (32 + 2 - 3)/1 + 1 = 32
        "a": ((1, 16, 32, 32), 448),
        # quarter = 16 // 4 = 4, out = 5; 5*16*9 + 5 = 725; 32 - 3 + 1 = 30
        "b": ((1, 5, 30, 30), 725),
        # max(8, 3) = 8; 8*5*1 + 8 = 48
        "c": ((1, 8, 30, 30), 48),
        # make_divisible(8 * 1.4 = 11.2): int(11.2 + 4) // 8 * 8 = 8, and 8 < 0.9 * 11.2 = 10.08
        # so it rounds up to 16; 16*8*1*3 + 16 = 400; H: 30 - 1 + 1 = 30, W: 30 + 2 - 3 + 1 = 30
        "d": ((1, 16, 30, 30), 400),
    }
    assert report.model == "exprs"


def test_defaults_per_kind(tmp_path):
    report = report_of(tmp_path, """
        name: defaults
        input: [3, 32, 32]
        defaults:
          conv2d: {kernel: 3, padding: 1, bias: false}
        layers:
          - conv2d: {name: a, out: 4}
          - conv2d: {name: b, out: 4, bias: true}
          - conv2d: {name: c, out: 2, kernel: 1, padding: 0}
    """)
    assert rows(report)["a"] == ((1, 4, 32, 32), 108)  # 4*3*9 = 108, no bias; 32 + 2 - 3 + 1 = 32
    assert rows(report)["b"] == ((1, 4, 32, 32), 148)  # 4*4*9 + 4 = 148: the layer wins
    assert rows(report)["c"] == ((1, 2, 32, 32), 8)  # 2*4*1 = 8: kernel and padding overridden


def test_defaults_apply_only_to_their_kind(tmp_path):
    graph = graph_of(tmp_path, """
        name: defaults
        input: [3, 32]
        defaults:
          conv2d: {kernel: 3, bias: false}
        layers:
          - conv1d: {name: d, out: 2, kernel: 5}
    """)
    assert graph.nodes["d"].attrs.bias is True  # conv1d keeps its own default
    assert graph.nodes["d"].attrs.kernel == (5,)


RESNET_LIKE = """
    name: resnet_like
    input: [3, 32, 32]
    vars: {w: 8}
    blocks:
      basic:
        args: {c: null, stride: 1}
        layers:
          - conv2d: {name: conv1, out: c, kernel: 3, padding: 1, stride: stride}
          - relu
          - conv2d: {name: conv2, out: c, kernel: 3, padding: 1}
          - conv2d: {name: down, from: input, out: c, kernel: 1, stride: stride, when: stride != 1}
          - add: {name: sum, from: [conv2, down]}
    layers:
      - conv2d: {name: stem, out: w, kernel: 3, padding: 1}
      - basic: {name: layer1, c: w, repeat: 2}
      - basic: {name: layer2, c: 2*w, stride: "2 if i == 0 else 1", repeat: 2}
"""


def test_blocks_expand_to_hierarchical_names(tmp_path):
    graph = graph_of(tmp_path, RESNET_LIKE)
    names = [n.name for n in graph if not n.is_input]
    assert names[:6] == [
        "stem", "layer1.0.conv1", "layer1.0.relu_1", "layer1.0.conv2", "layer1.0.sum",
        "layer1.1.conv1",
    ]
    # `down` exists only where stride != 1: in layer2.0
    assert [n for n in names if n.endswith(".down")] == ["layer2.0.down"]
    # a skipped `down` passes its input through: the residual adds the block input itself
    assert graph.nodes["layer1.0.sum"].inputs == ("layer1.0.conv2", "stem")
    assert graph.nodes["layer1.1.sum"].inputs == ("layer1.1.conv2", "layer1.0.sum")
    assert graph.nodes["layer2.0.sum"].inputs == ("layer2.0.conv2", "layer2.0.down")
    assert graph.nodes["layer2.0.down"].inputs == ("layer1.1.sum",)
    assert graph.nodes["layer1.0.conv1"].scopes == ("layer1", "layer1.0")
    assert graph.outputs == ["layer2.1.sum"]


def test_blocks_parameters_and_shapes(tmp_path):
    report = report_of(tmp_path, RESNET_LIKE)
    table = rows(report)
    assert table["stem"] == ((1, 8, 32, 32), 224)  # 8*3*9 + 8
    assert table["layer1.0.conv1"] == ((1, 8, 32, 32), 584)  # 8*8*9 + 8
    # stride 2 where i == 0: (32 + 2 - 3) // 2 + 1 = 16; 16*8*9 + 16 = 1168
    assert table["layer2.0.conv1"] == ((1, 16, 16, 16), 1168)
    assert table["layer2.0.down"] == ((1, 16, 16, 16), 144)  # (32 - 1) // 2 + 1 = 16; 16*8 + 16
    assert table["layer2.1.conv1"] == ((1, 16, 16, 16), 2320)  # stride 1 where i == 1; 16*16*9 + 16
    # stem 224 + layer1: 4 convs * 584 = 2336 + layer2: 1168 + 144 + 3 * 2320 = 6960
    assert report.totals.params == 224 + 2336 + 1168 + 144 + 6960 == 10832
    # MACs of layer2.0.conv1: 16 * 16*16 outputs * 8*3*3 = 4096 * 72
    macs = {r.name: r.macs for r in report.rows}
    assert macs["layer2.0.conv1"] == 294_912


def test_repeat_index(tmp_path):
    graph = graph_of(tmp_path, """
        name: repeat
        input: [3, 8, 8]
        layers:
          - conv2d: {name: c, out: "4 * (i + 1)", kernel: 1, repeat: 3}
          - conv2d: {name: after, from: c, out: 1, kernel: 1}
    """)
    report = analyze(graph)
    table = rows(report)
    assert table["c.0"] == ((1, 4, 8, 8), 16)  # out 4*1; 4*3 + 4
    assert table["c.1"] == ((1, 8, 8, 8), 40)  # out 4*2; 8*4 + 8
    assert table["c.2"] == ((1, 12, 8, 8), 108)  # out 4*3; 12*8 + 12
    assert graph.nodes["c.1"].inputs == ("c.0",)
    assert graph.nodes["after"].inputs == ("c.2",)  # the name of a repeat is its last copy
    assert table["after"] == ((1, 1, 8, 8), 13)  # 1*12 + 1


def test_repeat_zero_passes_through(tmp_path):
    graph = graph_of(tmp_path, """
        name: repeat0
        input: [3, 8, 8]
        layers:
          - conv2d: {name: c, out: 4, kernel: 1, repeat: 0}
          - conv2d: {name: after, from: c, out: 1, kernel: 1}
    """)
    assert graph.nodes["after"].inputs == ("input",)


SKIP = """
    name: skip
    input: [3, 16, 16]
    vars: {use_extra: false}
    layers:
      - conv2d: {name: a, out: 4, kernel: 3, padding: 1}
      - conv2d: {name: extra, out: 8, kernel: 1, when: use_extra}
      - conv2d: {name: b, from: extra, out: 2, kernel: 1}
"""


def test_when_false_skips_the_layer(tmp_path):
    graph = graph_of(tmp_path, SKIP)
    assert "extra" not in graph.nodes
    assert graph.nodes["b"].inputs == ("a",)  # a reference to a skipped layer reads its input
    assert rows(analyze(graph))["b"] == ((1, 2, 16, 16), 10)  # 2*4 + 2


def test_when_true_keeps_the_layer(tmp_path):
    graph = graph_of(tmp_path, SKIP, Overrides(vars={"use_extra": True}))
    assert graph.nodes["b"].inputs == ("extra",)
    assert rows(analyze(graph))["b"] == ((1, 2, 16, 16), 18)  # 2*8 + 2


def test_from_several_inputs(tmp_path):
    report = report_of(tmp_path, """
        name: merge
        input: [3, 16, 16]
        layers:
          - conv2d: {name: a, out: 4, kernel: 3, padding: 1}
          - conv2d: {name: b, from: input, out: 6, kernel: 1}
          - concat: {name: cat, from: [a, b]}
          - conv2d: {name: c, from: cat, out: 10, kernel: 1}
          - add: {name: sum, from: [cat, c]}
    """)
    table = rows(report)
    assert table["cat"] == ((1, 10, 16, 16), 0)  # 4 + 6 channels
    assert table["c"] == ((1, 10, 16, 16), 110)  # 10*10 + 10
    assert table["sum"] == ((1, 10, 16, 16), 0)
    assert {r.name: r.inputs for r in report.rows}["sum"] == ("cat", "c")


def test_several_named_inputs_and_outputs(tmp_path):
    report = report_of(tmp_path, """
        name: two_heads
        inputs:
          image: [3, 32, 32]
          mask: [1, 32, 32]
        layers:
          - conv2d: {name: ci, from: image, out: 4, kernel: 3, padding: 1}
          - conv2d: {name: cm, from: mask, out: 4, kernel: 3, padding: 1}
          - concat: {name: both, from: [ci, cm]}
        outputs: [both, cm]
    """)
    assert report.inputs == {"image": (1, 3, 32, 32), "mask": (1, 1, 32, 32)}
    assert report.outputs == {"both": (1, 8, 32, 32), "cm": (1, 4, 32, 32)}
    # ci: 4*3*9 + 4 = 112; cm: 4*1*9 + 4 = 40
    assert report.totals.params == 112 + 40 == 152


def test_share_counts_params_once_and_macs_per_call(tmp_path):
    report = report_of(tmp_path, """
        name: shared
        input: [3, 32, 32]
        layers:
          - conv2d: {name: a, out: 3, kernel: 3, padding: 1}
          - conv2d: {name: b, out: 3, kernel: 3, padding: 1, share: a}
    """)
    params = {r.name: r.params for r in report.rows}
    assert params == {"a": 84, "b": 0}  # 3*3*9 + 3 = 84, owned by a
    # each call: 3 out channels * 32*32 * 3*3*3 = 3072 * 27 = 82,944
    assert [r.macs for r in report.rows] == [82_944, 82_944]
    assert report.totals.params == 84
    assert report.totals.macs == 165_888


def test_trainable_false_is_counted_as_frozen(tmp_path):
    report = report_of(tmp_path, """
        name: frozen
        input: [3, 8, 8]
        blocks:
          head:
            - conv2d: {name: p, out: 2, kernel: 1}
            - conv2d: {name: q, out: 2, kernel: 1}
        layers:
          - conv2d: {name: a, out: 4, kernel: 3, padding: 1, trainable: false}
          - conv2d: {name: b, out: 2, kernel: 1}
          - head: {name: h, trainable: false}
    """)
    totals = report.totals
    # frozen: a = 4*3*9 + 4 = 112, h.p = h.q = 2*2 + 2 = 6; trainable: b = 2*4 + 2 = 10
    assert totals.non_trainable_params == 112 + 6 + 6 == 124
    assert totals.trainable_params == 10
    assert totals.params == 134


def test_batch_and_dtype(tmp_path):
    report = report_of(tmp_path, """
        name: sized
        input: [3, 8, 8]
        batch: 4
        dtype: fp16
        layers:
          - conv2d: {name: a, out: 2, kernel: 3}
    """)
    assert (report.batch, report.dtype) == (4, "float16")
    row = report.rows[0]
    assert row.output_shape == (4, 2, 6, 6)  # 8 - 3 + 1 = 6
    assert row.params == 56  # 2*3*9 + 2: independent of the batch
    assert row.param_bytes == 56 * 2  # float16: 2 bytes
    assert row.activation_bytes == 4 * 2 * 6 * 6 * 2 == 576
    assert row.macs == 4 * 2 * 36 * 27  # batch * out * 6*6 * 3*3*3 = 7776


OVERRIDABLE = """
    name: override_me
    input: [3, 32, 32]
    batch: 8
    dtype: float32
    vars: {width: 16}
    layers:
      - conv2d: {name: a, out: width, kernel: 3, stride: 2, padding: 1}
"""


def test_overrides_replace_spec_values(tmp_path):
    report = report_of(tmp_path, OVERRIDABLE, Overrides(
        inputs={"input": (1, 64, 48)}, batch=2, dtype="bfloat16", vars={"width": 4},
    ))
    assert (report.batch, report.dtype) == (2, "bfloat16")
    assert report.inputs == {"input": (2, 1, 64, 48)}
    row = report.rows[0]
    # H: (64 + 2 - 3) // 2 + 1 = 32; W: (48 + 2 - 3) // 2 + 1 = 24; 4*1*9 + 4 = 40
    assert (row.output_shape, row.params) == ((2, 4, 32, 24), 40)
    assert row.param_bytes == 40 * 2


def test_without_overrides_the_spec_values_hold(tmp_path):
    report = report_of(tmp_path, OVERRIDABLE)
    row = report.rows[0]
    # (32 + 2 - 3) // 2 + 1 = 16; 16*3*9 + 16 = 448
    assert (report.batch, report.dtype, row.output_shape, row.params) == (
        8, "float32", (8, 16, 16, 16), 448
    )


def test_unnamed_input_override_applies_to_the_only_input(tmp_path):
    report = report_of(tmp_path, OVERRIDABLE, Overrides(inputs={"": (3, 8, 8)}))
    assert report.rows[0].output_shape == (8, 16, 4, 4)  # (8 + 2 - 3) // 2 + 1 = 4


def test_dtype_override_accepts_aliases(tmp_path):
    assert report_of(tmp_path, OVERRIDABLE, Overrides(dtype="fp16")).dtype == "float16"


@pytest.mark.parametrize(("overrides", "message"), [
    (Overrides(inputs={"image": (3, 8, 8)}), "--input image: the spec has no input `image`"),
    (Overrides(dtype="float33"), "--dtype float33: unknown dtype"),
    (Overrides(batch=0), "--batch must be at least 1, found 0"),
    (Overrides(vars={"depth": 3}), "--set depth: the spec has no var `depth`"),
])
def test_bad_overrides_are_usage_errors(tmp_path, overrides, message):
    with pytest.raises(UsageError, match="^" + re.escape(message) + "$") as caught:
        graph_of(tmp_path, OVERRIDABLE, overrides)
    assert caught.value.exit_code == ExitCode.USAGE


def test_yes_no_on_off_stay_strings():
    node = load(Source("t.yaml", "a: yes\nb: no\nc: on\nd: off\ne: true\nf: False\ng: 0x10\n"))
    assert node.plain() == {
        "a": "yes", "b": "no", "c": "on", "d": "off", "e": True, "f": False, "g": 16,
    }


def test_no_as_a_model_name(tmp_path):
    report = report_of(tmp_path, """
        name: no
        input: [1, 4]
        layers:
          - conv1d: {out: 1, kernel: 1}
    """)
    assert report.model == "no"


def test_short_form_layer_and_automatic_names(tmp_path):
    graph = graph_of(tmp_path, """
        name: short
        input: [2, 4, 4]
        layers:
          - relu
          - conv2d: {out: 2, kernel: 1}
          - relu
    """)
    assert [n.name for n in graph] == ["input", "relu_1", "conv2d_1", "relu_2"]


LENET_KINDS = ("conv2d", "relu", "maxpool2d", "flatten", "linear", "log_softmax")


@pytest.mark.skipif(
    not all(kind in REGISTRY for kind in LENET_KINDS), reason="lenet5 needs kinds not registered yet"
)
def test_zoo_name_resolves_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    report = analyze(load_graph("lenet5"))
    # conv1 6*1*25 + 6 = 156, conv2 16*6*25 + 16 = 2416, conv3 120*16*25 + 120 = 48120,
    # fc1 84*120 + 84 = 10164, fc2 10*84 + 10 = 850
    assert report.totals.params == 156 + 2416 + 48120 + 10164 + 850 == 61706
    assert report.outputs == {"log_softmax_1": (1, 10)}
    assert analyze(load_graph("lenet5.yaml")).totals.params == 61706


def test_a_file_in_the_cwd_wins_over_the_zoo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, """
        name: local
        input: [1, 4]
        layers:
          - conv1d: {out: 1, kernel: 1}
    """, name="lenet5.yaml")
    assert load_graph("lenet5.yaml").name == "local"


# -- extends ------------------------------------------------------------------------------------

BASE = """
name: base
input: [3, 32, 32]
vars: {width: 8, classes: 10}
defaults:
  conv2d: {kernel: 3, padding: 1, bias: false}
layers:
  - conv2d: {name: conv, out: width}
  - global_avgpool
  - flatten
  - linear: {name: fc, out: classes}
"""


def test_extends_merges_vars_and_defaults_and_keeps_its_own_name(tmp_path):
    write(tmp_path, BASE, "base.yaml")
    child = write(tmp_path, "extends: base\nvars: {width: 16}\ndefaults:\n  conv2d: {bias: true}\n", "child.yaml")
    graph = load_graph(child)
    assert graph.name == "child"
    conv = graph.nodes["conv"]
    assert (conv.attrs.out, conv.attrs.kernel, conv.attrs.bias) == (16, (3, 3), True)  # kernel from base
    assert analyze(graph).totals.params == (16 * 3 * 9 + 16) + (16 * 10 + 10)


def test_extends_replaces_other_sections_and_chains(tmp_path):
    write(tmp_path, BASE, "base.yaml")
    write(tmp_path, "extends: base.yaml\ninput: [1, 28, 28]\n", "gray.yaml")
    leaf = write(tmp_path, "extends: gray\nvars: {classes: 2}\n", "leaf.yaml")
    graph = load_graph(leaf)
    assert graph.nodes["input"].attrs.shape == (1, 28, 28)
    assert graph.nodes["fc"].attrs.out == 2


def test_extends_finds_zoo_specs():
    from cnncalc.spec import zoo_dir

    text = (zoo_dir() / "vgg11.yaml").read_text()
    assert "extends: vgg16" in text
    assert load_graph("vgg11").name == "vgg11"


def test_error_in_the_parent_points_into_the_parent(tmp_path):
    write(tmp_path, BASE.replace("out: classes", "out: klasses"), "base.yaml")
    child = write(tmp_path, "extends: base\n", "child.yaml")
    with pytest.raises(SpecError) as info:
        load_graph(child)
    assert info.value.span.source.path.endswith("base.yaml") and "klasses" in info.value.message


# -- alternatives under one name, outputs, list arguments ---------------------------------------

def test_skipped_alternative_does_not_claim_the_name_of_the_active_one(tmp_path):
    spec = """
input: [3, 8, 8]
vars: {swish: true}
layers:
  - conv2d: {out: 4, kernel: 1}
  - silu: {name: act, when: swish}
  - relu: {name: act, when: not swish}
  - conv2d: {name: head, from: act, out: 2, kernel: 1}
"""
    for swish, kind in ((True, "silu"), (False, "relu")):
        graph = graph_of(tmp_path, spec, Overrides(vars={"swish": swish}))
        assert graph.nodes["act"].kind.name == kind
        assert graph.nodes["head"].inputs == ("act",)


def test_an_output_skipped_by_when_is_listed_once(tmp_path):
    spec = """
input: [3, 8, 8]
vars: {aux: false}
layers:
  - conv2d: {name: body, out: 4, kernel: 1}
  - conv2d: {name: aux_head, out: 2, kernel: 1, when: aux}
  - conv2d: {name: fc, from: body, out: 3, kernel: 1}
outputs: [fc, aux_head]
"""
    assert graph_of(tmp_path, spec).outputs == ["fc", "body"]
    assert graph_of(tmp_path, spec, Overrides(vars={"aux": True})).outputs == ["fc", "aux_head"]


def test_block_arguments_may_be_lists(tmp_path):
    spec = """
input: [3, 17, 17]
blocks:
  basic_conv:
    args: {kernel: 1, padding: 0}
    layers:
      - conv2d: {name: conv, out: 4, kernel: kernel, padding: padding}
layers:
  - basic_conv: {name: b, kernel: [1, 7], padding: [0, 3]}
"""
    conv = graph_of(tmp_path, spec).nodes["b.conv"]
    assert (conv.attrs.kernel, conv.attrs.padding) == ((1, 7), ((0, 0), (3, 3)))


def test_a_quoted_expression_may_give_a_list(tmp_path):
    spec = """
input: [8, 8, 8]
vars: {c: 8}
layers:
  - pad: {name: p, channels: "[c // 4, c // 4]"}
  - conv2d: {name: conv, out: 4, kernel: "[1, 3]", padding: "[0, c // 8]"}
"""
    graph = graph_of(tmp_path, spec)
    assert graph.nodes["p"].attrs.channels == (2, 2)
    assert (graph.nodes["conv"].attrs.kernel, graph.nodes["conv"].attrs.padding) == ((1, 3), ((0, 0), (1, 1)))
