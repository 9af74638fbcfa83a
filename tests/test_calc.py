"""`cnncalc calc`: one layer's numbers with their worked formulas, numeric mode and --chain.

References: every worked step's substituted formula is evaluated by a small evaluator written
here (exact fractions, ⌊⌋ and ⌈⌉), for every layer case of tests/layers/; the command's numbers are
compared with torch layers built here (not by cnncalc's backend): output shape, parameters,
buffers, MACs (FlopCounterMode / 2), output bytes, and the receptive field from the support of
an input gradient. Numeric mode reproduces the seeds (tests/test_numeric.py checks the library).
"""

from __future__ import annotations

import ast
import importlib
import json
import math
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc.cli.app import main
from cnncalc.errors import ShapeError
from cnncalc.layers import REGISTRY, lookup
from cnncalc.window import (
    conv_output_size,
    explain_output_size,
    explain_transposed_output_size,
    transposed_output_size,
)
from tests.conftest import needs_torch
from tests.test_numeric import SEED003_U

# -- an independent evaluator for the worked formulas ---------------------------------------------


def evaluate(text: str) -> Fraction:
    """`⌊(32 + 2·2 − 5)/1⌋ + 1` -> 32, exactly: + − · / on fractions, ⌊⌋ and ⌈⌉."""
    python = (text.replace("−", "-").replace("·", "*").replace("⌊", "floor(").replace("⌋", ")")
              .replace("⌈", "ceil(").replace("⌉", ")"))
    return _value(ast.parse(python, mode="eval").body)


def _value(node: ast.expr) -> Fraction:
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return Fraction(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_value(node.operand)
    if isinstance(node, ast.BinOp):
        left, right = _value(node.left), _value(node.right)
        operations = {ast.Add: left + right, ast.Sub: left - right, ast.Mult: left * right}
        if isinstance(node.op, ast.Div):
            return left / right
        return operations[type(node.op)]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and len(node.args) == 1:
        rounding = {"floor": math.floor, "ceil": math.ceil}[node.func.id]
        return Fraction(rounding(_value(node.args[0])))
    raise ValueError(f"not a worked formula: {ast.dump(node)}")


def test_the_evaluator():
    assert evaluate("⌊(32 + 2·2 − 5)/1⌋ + 1") == 32
    assert evaluate("⌈(5 + 2·1 − 3)/3⌉ + 1 − 1") == 2
    assert evaluate("(1 − (4 − 1)/2)/2") == Fraction(-1, 4)


# -- every kind's worked steps --------------------------------------------------------------------

FAMILIES = ["activation", "conv", "linear", "merge", "norm", "pool", "upsample"]
CASES = [case for family in FAMILIES for case in importlib.import_module(f"tests.layers.test_{family}").CASES]


def test_the_cases_cover_every_kind():
    assert {lookup(case[0]).name for case in CASES} == set(REGISTRY) - {"input"}


@pytest.mark.parametrize("kind_name, attrs, shapes", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_worked_steps_evaluate_to_the_registry_values(kind_name, attrs, shapes):
    kind = lookup(kind_name)
    a = kind.make_attrs(attrs)
    ins = [tuple(s) for s in shapes]
    out = kind.shape(a, ins)
    steps = {s.quantity: s for s in kind.explain(a, ins)}
    assert steps["params"].value == kind.params(a, ins, out).params
    assert steps["MACs"].value == kind.macs(a, ins, out)
    assert steps["FLOPs"].value == sum(kind.flops(a, ins, out).values())
    sizes = dict(zip(["L"] if len(out) == 3 else ["D", "H", "W"][5 - len(out):], out[2:]))
    for quantity, s in steps.items():
        if quantity.endswith("_out") and quantity[:-4] in sizes:
            assert s.value == sizes[quantity[:-4]], quantity
        if quantity == "C_out":
            assert s.value == out[1]
        if s.substituted:
            assert evaluate(s.substituted) == s.value, f"{quantity}: {s.substituted} != {s.value}"


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 64), st.integers(1, 9), st.integers(1, 5), st.integers(0, 4), st.integers(0, 4),
       st.integers(1, 3), st.booleans())
def test_output_size_working_evaluates_to_the_window_value(n, k, s, pb, pe, d, ceil_mode):
    try:
        value = conv_output_size(n, k, s, (pb, pe), d, ceil_mode)
    except ShapeError:
        return
    worked = explain_output_size(n, k, s, (pb, pe), d, ceil_mode)
    assert worked.value == value == evaluate(worked.substituted)
    assert ("− 1" in worked.substituted.split("+ 1")[-1]) == bool(worked.note)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 32), st.integers(1, 6), st.integers(1, 4), st.integers(0, 3), st.integers(0, 3),
       st.integers(1, 3), st.integers(0, 3))
def test_transposed_working_evaluates_to_the_window_value(n, k, s, pb, pe, d, op):
    try:
        value = transposed_output_size(n, k, s, (pb, pe), d, op)
    except ShapeError:
        return
    worked = explain_transposed_output_size(n, k, s, (pb, pe), d, op)
    assert worked.value == value == evaluate(worked.substituted)


# -- the command ---------------------------------------------------------------------------------


def run(capsys, *args: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


def calc_json(capsys, *args: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    code, out, err = run(capsys, "calc", *args, "--format", "json")
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


ISSUE_EXAMPLE = ["conv2d", "--input", "3x32x32", "--out", "10", "--kernel", "5", "--stride", "1", "--padding", "2"]


def test_the_issue_example_verbatim(capsys):
    code, out, err = run(capsys, "calc", *ISSUE_EXAMPLE)
    assert code == 0, err
    assert "conv2d on [1, 3, 32, 32] -> [1, 10, 32, 32]" in out
    lines = {line.split("=")[0].strip(): line for line in out.splitlines() if "=" in line}
    assert lines["H_out"].endswith("= ⌊(n + 2p − k)/s⌋ + 1             = ⌊(32 + 2·2 − 5)/1⌋ + 1 = 32")
    assert lines["params"].endswith("= C_out·C_in·k_h·k_w + C_out       = 10·3·5·5 + 10 = 760")
    assert lines["MACs"].endswith("= 1·10·32·32·3·5·5 = 768,000")
    assert lines["output memory"].endswith("= 1·10·32·32·4 = 40,960")
    assert lines["RF size"].endswith("= 1 + (5 − 1) = 5")


def test_every_json_step_evaluates(capsys):
    data = calc_json(capsys, *ISSUE_EXAMPLE)
    assert data["schema"] == "cnncalc.calc/1"
    for step in data["steps"] + data["rf_steps"]:
        assert evaluate(step["substituted"]) == Fraction(step["value"]), step


# (command line, torch module built here, rf probe: a module with the same window whose gradient
# reaches every input of the window, or None)
TORCH_CASES: list[tuple[list[str], Any, Any]] = [
    (ISSUE_EXAMPLE, lambda nn: nn.Conv2d(3, 10, 5, 1, 2), "same"),
    (["conv2d", "--input", "3x224x224", "--out", "64", "--kernel", "7", "--stride", "2", "--padding", "3",
      "--dilation", "2"], lambda nn: nn.Conv2d(3, 64, 7, 2, 3, dilation=2), "same"),
    (["conv2d", "--input", "64x14x14", "--out", "128", "--kernel", "3", "--padding", "1", "--groups", "4",
      "--batch", "2"], lambda nn: nn.Conv2d(64, 128, 3, padding=1, groups=4), "same"),
    (["conv2d", "--input", "3x12x12", "--out", "8", "--kernel", "[1,3]", "--padding", "[0,1]", "--no-bias"],
     lambda nn: nn.Conv2d(3, 8, (1, 3), padding=(0, 1), bias=False), "same"),
    (["conv2d", "--input", "3x28x28", "--out", "4", "--kernel", "4", "-a", "padding=same"],
     lambda nn: nn.Conv2d(3, 4, 4, padding="same"), "same"),
    (["conv1d", "--input", "4x17", "--out", "8", "--kernel", "5", "--stride", "2", "--padding", "2",
      "--dilation", "2"], lambda nn: nn.Conv1d(4, 8, 5, 2, 2, dilation=2), "same"),
    (["conv_transpose2d", "--input", "64x16x16", "--out", "32", "--kernel", "4", "--stride", "2", "--padding", "1"],
     lambda nn: nn.ConvTranspose2d(64, 32, 4, 2, 1), None),
    (["deconv2d", "--input", "8x3x3", "--out", "4", "--kernel", "3", "--stride", "2", "--padding", "1",
      "--output-padding", "1"], lambda nn: nn.ConvTranspose2d(8, 4, 3, 2, 1, output_padding=1), None),
    (["maxpool2d", "--input", "64x112x112", "--kernel", "3", "--stride", "2", "--ceil-mode"],
     lambda nn: nn.MaxPool2d(3, 2, ceil_mode=True), lambda nn: nn.AvgPool2d(3, 2, ceil_mode=True)),
    (["maxpool2d", "--input", "3x5x5", "--kernel", "3", "--stride", "3", "--padding", "1", "ceil_mode=true"],
     lambda nn: nn.MaxPool2d(3, 3, 1, ceil_mode=True), None),
    (["avgpool2d", "--input", "16x7x7", "--kernel", "3", "--stride", "2", "--padding", "1"],
     lambda nn: nn.AvgPool2d(3, 2, 1), "same"),
    (["linear", "--input", "9216", "--out", "4096"], lambda nn: nn.Linear(9216, 4096), None),
    (["fc", "--input", "7x512", "--out", "10", "--batch", "3"], lambda nn: nn.Linear(512, 10), None),
    (["batchnorm2d", "--input", "64x8x8"], lambda nn: nn.BatchNorm2d(64), None),
    (["upsample", "--input", "3x4x4", "--scale", "2", "--mode", "bilinear"],
     lambda nn: nn.Upsample(scale_factor=2, mode="bilinear"), None),
    (["relu", "--input", "3x4x4", "--dtype", "fp16"], lambda nn: nn.ReLU(), None),
]


@needs_torch
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("args, make, probe", TORCH_CASES, ids=[" ".join(case[0][:3]) for case in TORCH_CASES])
def test_numbers_match_the_torch_layer(capsys, args, make, probe):
    import torch
    import torch.nn as nn
    from torch.utils.flop_counter import FlopCounterMode

    data = calc_json(capsys, *args)
    torch.manual_seed(0)
    module = make(nn).eval()
    dtype = torch.float16 if "fp16" in args else torch.float32
    x = torch.randn(*data["inputs"][0])
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        y = module(x)
    assert data["output_shape"] == list(y.shape)
    assert data["params"] == sum(p.numel() for p in module.parameters())
    assert data["buffers"] == sum(b.numel() for b in module.buffers() if b.is_floating_point())
    assert data["macs"] == counter.get_total_flops() // 2
    assert data["output_bytes"] == y.numel() * torch.empty((), dtype=dtype).element_size()
    steps = {s["quantity"]: s["value"] for s in data["steps"]}
    assert (steps["params"], steps["MACs"], steps["output memory"]) == (
        data["params"], data["macs"], data["output_bytes"])
    if probe is not None:
        assert_field_matches_gradient(data, make(nn) if probe == "same" else probe(nn))


def assert_field_matches_gradient(data: dict[str, Any], module: Any) -> None:
    """Size, jump and start per axis from which inputs an output unit's gradient reaches (the
    unit in the middle, and its neighbour for the jump); positive weights, no cancellation."""
    import torch

    for p in module.parameters():
        p.data.fill_(1.0)
    x = torch.ones(*data["inputs"][0], requires_grad=True)
    y = module(x)
    rf = data["rf"]
    for axis in range(len(y.shape) - 2):
        middle = y.shape[2 + axis] // 2
        lows = []
        for unit in (middle, middle + 1):
            index = [0, 0] + [s // 2 for s in y.shape[2:]]
            index[2 + axis] = unit
            (grad,) = torch.autograd.grad(y[tuple(index)], x, retain_graph=True)
            other = tuple(d for d in range(grad.dim()) if d != 2 + axis)
            reached = (grad.abs().sum(dim=other) > 0).nonzero().flatten().tolist()
            lows.append(reached[0])
            if unit == middle:
                assert reached[-1] - reached[0] + 1 == rf["size"][axis]
                centre = Fraction(reached[0] + reached[-1], 2)
        assert lows[1] - lows[0] == rf["jump"][axis]
        assert centre == Fraction(rf["start"][axis]) + middle * Fraction(rf["jump"][axis])


# -- numeric mode --------------------------------------------------------------------------------


def test_numeric_seed003_with_its_toeplitz_matrix(capsys):
    data = calc_json(capsys, "conv2d", "--matrix", "4 5 8 7; 1 8 8 8; 3 6 6 4; 6 5 7 8",
                     "--weights", "1 4 1; 1 4 3; 3 3 1", "--toeplitz")
    assert data["schema"] == "cnncalc.calc.numeric/1"
    assert data["output"] == [[[122, 148], [126, 134]]]
    assert data["toeplitz"] == SEED003_U


def test_numeric_issue_example_and_table(capsys):
    code, out, err = run(capsys, "calc", "conv2d", "--matrix", "1 2 3; 4 5 6; 7 8 9", "--weights", "1 0; 0 -1",
                         "--stride", "1", "--padding", "0", "--toeplitz")
    assert code == 0, err
    assert "output (2x2):\n  -4  -4\n  -4  -4\n" in out
    assert "U·v(x) = [-4, -4, -4, -4] = the output, row-major" in out


def test_numeric_box_filter_from_a_file_is_exact(capsys, tmp_path):
    from tests.test_numeric import SEED002_F, SEED002_H

    image = tmp_path / "f.txt"
    image.write_text("\n".join(" ".join(str(v) for v in row) for row in SEED002_F))
    data = calc_json(capsys, "conv2d", "--matrix", f"@{image}", "--weights", "1/9 1/9 1/9; 1/9 1/9 1/9; 1/9 1/9 1/9")
    assert data["output"] == [SEED002_H]


def test_numeric_transposed_1d_and_its_matrix(capsys):
    # shared/reference/EXAM.md T21: conv_transpose1d(g = [1, 2, 3]) with w = [1, 0, -1] is Cᵀg
    data = calc_json(capsys, "conv_transpose1d", "--matrix", "1 2 3", "--weights", "1 0 -1", "--toeplitz")
    assert data["output"] == [[[1, 2, 2, -2, -3]]]
    assert data["toeplitz"] == [[1, 0, -1, 0, 0], [0, 1, 0, -1, 0], [0, 0, 1, 0, -1]]
    # T22: x = [1, 2], w = [1, 2, 3], stride 2
    assert calc_json(capsys, "conv_transpose1d", "--matrix", "1 2", "--weights", "1 2 3",
                     "--stride", "2")["output"] == [[[1, 2, 5, 4, 6]]]


def test_numeric_pool_unpool_and_upsampling(capsys):
    x = "1 2 6 3; 3 5 2 1; 1 2 2 1; 7 3 4 8"
    pooled = calc_json(capsys, "maxpool2d", "--matrix", x, "--kernel", "2")
    assert pooled["output"] == [[[5, 6], [7, 8]]] and pooled["indices"] == [[[5, 2], [12, 15]]]
    unpooled = calc_json(capsys, "max_unpool2d", "--matrix", "5 6; 7 8", "--indices", "5 2; 12 15", "--kernel", "2")
    assert unpooled["output"] == [[[0, 0, 6, 0], [0, 5, 0, 0], [0, 0, 0, 0], [7, 0, 0, 8]]]
    avg = calc_json(capsys, "avgpool2d", "--matrix", "1 1 1; 1 1 1; 1 1 1", "--kernel", "3", "--stride", "1",
                    "--padding", "1")
    assert avg["output"][0][0] == ["4/9", "2/3", "4/9"]
    assert calc_json(capsys, "upsample", "--matrix", "1 2; 3 4", "--scale", "2")["output"] == [
        [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]]
    assert calc_json(capsys, "bed_of_nails", "--matrix", "1 2; 3 4")["output"] == [
        [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]]]


@needs_torch
def test_numeric_multichannel_reflect_padding_matches_torch(capsys):
    import torch
    import torch.nn.functional as fn

    data = calc_json(capsys, "conv2d", "--matrix", "1 2 3; 4 5 6; 7 8 9 | 9 8 7; 6 5 4; 3 2 1",
                     "--weights", "1 0 1; 0 2 0; 1 0 1 | 0 1 0; 1 1 1; 0 1 0",
                     "--weights", "1 1 1; 0 0 0; -1 -1 -1 | 2 0 0; 0 0 0; 0 0 2",
                     "--padding", "1", "--padding-mode", "reflect", "--stride", "2")
    x = torch.tensor([[[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[9, 8, 7], [6, 5, 4], [3, 2, 1]]], dtype=torch.float64)
    w = torch.tensor([[[[1, 0, 1], [0, 2, 0], [1, 0, 1]], [[0, 1, 0], [1, 1, 1], [0, 1, 0]]],
                      [[[1, 1, 1], [0, 0, 0], [-1, -1, -1]], [[2, 0, 0], [0, 0, 0], [0, 0, 2]]]], dtype=torch.float64)
    expected = fn.conv2d(fn.pad(x[None], (1, 1, 1, 1), mode="reflect"), w, stride=2)[0]
    assert data["output"] == expected.int().tolist()


# -- --chain ---------------------------------------------------------------------------------------


@needs_torch
def test_chain_matches_a_torch_sequential(capsys):
    import torch
    import torch.nn as nn

    code, out, err = run(capsys, "calc", "--chain", "conv(10,k=5,p=2) -> relu -> maxpool(2)", "--input", "3x32x32")
    assert code == 0, err
    assert "conv2d_1     conv2d     [1, 10, 32, 32]     760  768,000  H, W: ⌊(32 + 2·2 − 5)/1⌋ + 1 = 32" in out
    data = calc_json(capsys, "--chain", "conv(10,k=5,p=2) -> relu -> maxpool(2)", "--input", "3x32x32")
    model = nn.Sequential(nn.Conv2d(3, 10, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2))
    x = torch.zeros(1, 3, 32, 32)
    for layer, row in zip(model, data["layers"], strict=True):
        x = layer(x)
        assert row["output_shape"] == list(x.shape)
        assert row["params"] == sum(p.numel() for p in layer.parameters())
        for s in row["size_steps"]:
            assert evaluate(s["substituted"]) == s["value"]


def test_chain_with_its_own_input(capsys):
    data = calc_json(capsys, "--chain", "INPUT(3x32x32) -> [[CONV(32,k=3,p=1) -> RELU]*2 -> POOL(2)]*3 -> FC(10)")
    assert data["layers"][-1]["output_shape"] == [1, 10]
    assert data["totals"]["params"] == sum(row["params"] for row in data["layers"])


# -- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("args, code, message", [
    (["conv2d", "--input", "3x32x32", "--out", "10", "--kernal", "5"], 3,
     "command line:1:22: error: conv2d has no attribute `kernal`\n"
     " 1 | calc conv2d --out 10 --kernal 5\n"
     "   |                      ^^^^^^^^\n"
     "hint: did you mean `--kernel`?\n"),
    (["conv2d", "--input", "3x32x32", "--out", "10", "--kernel", "0"], 3,
     "command line:1:31: error: attribute `kernel`: expected integers >= 1, found 0\n"
     " 1 | calc conv2d --out 10 --kernel 0\n"
     "   |                               ^\n"
     "hint: `kernel` takes int | [int, ...]\n"),
    (["conv2d", "--input", "3x32x32", "--kernel", "3"], 3,
     "command line:1:6: error: conv2d needs attribute `out` (output channels)\n"
     " 1 | calc conv2d --kernel 3\n"
     "   |      ^^^^^^\n"
     "hint: add it: --out ...\n"),
    (["conv2d", "--input", "3x32x32", "--out", "4", "--kernel", "3", "--padding", "sme"], 3,
     "command line:1:42: error: attribute `padding`: expected an int, a list, same or valid, found string 'sme'\n"),
    (["conv2d", "--input", "3x32x32", "--out", "4", "--kernel", "3", "--bias", "yes"], 3,
     "command line:1:39: error: attribute `bias`: unknown name `yes`\n"),
    (["conv2x", "--input", "3x32x32"], 3,
     "error: unknown layer kind `conv2x`\nhint: did you mean `conv2d` or `conv` or `deconv2d`?\n"),
    (["conv2d", "--input", "3x4x4", "--out", "1", "--kernel", "7"], 3,
     "error: layer `conv2d` (conv2d): kernel 7 > padded input 4 (4 + 0 + 0)\n"),
    (["conv2d", "--out", "1", "--kernel", "3"], 2, "error: conv2d needs --input, the input shape per sample\n"),
    (["conv2d", "--input", "3x8x8", "--out", "1", "--kernel", "3", "stray"], 2,
     "command line:1:32: error: unexpected argument 'stray'\n"),
    (["conv2d", "--input", "3x8x8", "--out", "1", "--kernel", "3", "kernel=5"], 2,
     "command line:1:32: error: attribute `kernel` is given twice\n"),
    (["add", "--input", "3x8x8"], 2, "error: add takes 2+ input(s), found 1\n"),
    ([], 2, "error: name a layer kind, or give --chain\n"),
    (["input", "--input", "3x8x8"], 2, "error: `input` is a graph input, not a layer\n"),
    (["conv2d", "--matrix", "1 2; 3", "--weights", "1"], 2, "error: --matrix: row 2 has 1 values, row 1 has 2\n"),
    (["conv2d", "--matrix", "1 2; 3 x", "--weights", "1"], 2, "error: --matrix: 'x' is not a number\n"),
    (["conv2d", "--matrix", "1 2; 3 4"], 2, "error: a convolution needs --weights"),
    (["conv2d", "--matrix", "1 2; 3 4", "--weights", "1 0 0"], 3, "error: kernel 3 > padded input 2 (2 + 0 + 0)\n"),
    (["conv2d", "--matrix", "1 2; 3 4", "--weights", "1", "--kernel", "3"], 2,
     "command line:1:22: error: --kernel 3 disagrees with the weights ([1, 1])\n"),
    (["relu", "--matrix", "1 2; 3 4"], 2, "error: numeric mode does not compute relu\n"),
    (["max_unpool2d", "--matrix", "1 2; 3 4", "--kernel", "2"], 2, "error: max unpooling needs --indices"),
    (["conv2d", "--chain", "conv(4,k=3)", "--input", "3x8x8"], 2, "error: --chain takes the whole layer list"),
    (["--chain", "conv(4,k=3) -> bogus", "--input", "3x8x8"], 3, "<notation>:1:16: error: unknown layer kind"),
])
def test_errors_are_messages_not_tracebacks(capsys, args, code, message):
    got, out, err = run(capsys, "calc", *args)
    assert (got, out) == (code, "")
    assert err.startswith(message), err
    assert "Traceback" not in err


@pytest.mark.parametrize("args", [
    ["conv2d", "--input", "3x32x32", "--out=10", "-a", "kernel=5", "stride=1", "--padding", "2"],
    ["conv2d", "--input", "3x32x32", "--out", "10", "--kernel", "5", "--padding", "'1+1'"],
    ["conv", "-i", "3x32x32", "out=10", "kernel=5", "padding=2"],
])
def test_attribute_spellings_agree(capsys, args):
    data = calc_json(capsys, *args)
    assert (data["output_shape"], data["params"], data["macs"]) == ([1, 10, 32, 32], 760, 768000)
