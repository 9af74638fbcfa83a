"""`cnncalc check` and `cnncalc diff`: budgets, lints, output formats, baselines, exit codes.

Budgets are tested for both outcomes around the true value, and the true values come from torch
(parameter counts, output shapes, which input sizes build) or from arithmetic done by hand.
"""

from __future__ import annotations

import gc
import json
import random
import textwrap
from pathlib import Path

import pytest

from cnncalc.cli.app import main
from tests.conftest import needs_fvcore, needs_torch

SCHEMAS = Path(__file__).parent / "schemas"


def run(*args: str, cwd: Path | None = None) -> tuple[int, str, str]:
    """The command line in this process (main() disables the cyclic GC: turn it back on)."""
    import contextlib
    import io
    import os

    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(list(args))
                code = 0
            except SystemExit as done:
                code = int(done.code or 0)
    finally:
        os.chdir(old)
        gc.enable()
    return code, out.getvalue(), err.getvalue()


def spec(tmp_path: Path, text: str, name: str = "net.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return str(path)


SMALL = """
name: small
input: [3, 32, 32]
layers:
  - conv2d: {out: 16, kernel: 3, padding: 1, bias: false}
  - batchnorm2d
  - relu
  - maxpool2d: {kernel: 2}
  - conv2d: {out: 32, kernel: 3, padding: 1, bias: false}
  - relu
  - adaptive_avgpool2d: {output_size: 1}
  - flatten
  - linear: {out: 10}
"""


def torch_params(path: str) -> int:
    from cnncalc.spec import load_graph
    from cnncalc.torch_backend.build import build

    return sum(p.numel() for p in build(load_graph(path)).parameters())


# -- budgets ------------------------------------------------------------------------------------


@needs_torch
def test_params_budget_passes_at_the_torch_count_and_fails_one_below(tmp_path):
    path = spec(tmp_path, SMALL)
    true = torch_params(path)
    ok = spec(tmp_path, SMALL + f"budgets:\n  params: {true}\n", "ok.yaml")
    bad = spec(tmp_path, SMALL + f"budgets:\n  params: {true - 1}\n", "bad.yaml")
    assert run("check", ok)[0] == 0
    code, out, _ = run("check", bad)
    assert code == 4
    assert f"params {true / 1000:.2f}K exceeds the budget" in out
    assert f"({true:,} > {true - 1:,})" in out
    assert "bad.yaml:14:3: error: budget.params" in out  # the line of the budget


@needs_torch
def test_command_line_limit_overrides_the_spec(tmp_path):
    path = spec(tmp_path, SMALL + "budgets:\n  params: 1\n")
    true = torch_params(path)
    assert run("check", path)[0] == 4
    assert run("check", path, "--max-params", str(true))[0] == 0
    code, out, _ = run("check", path, "--max-params", f"{(true - 1) / 1000}K")
    assert code == 4 and "set by --max-params" in out


@needs_fvcore
def test_macs_budget_at_another_input_size_matches_fvcore(tmp_path):
    import torch
    from fvcore.nn import FlopCountAnalysis

    from cnncalc.spec import Overrides, load_graph
    from cnncalc.torch_backend.build import build

    path = spec(tmp_path, SMALL)
    graph = load_graph(path, Overrides(inputs={"input": (3, 64, 48)}))
    module = build(graph).eval()
    counter = FlopCountAnalysis(module, (torch.zeros(1, 3, 64, 48),))
    counter.unsupported_ops_warnings(False)
    counter.uncalled_modules_warnings(False)
    by_op = counter.by_operator()  # one per multiply-add; fvcore also counts norm and pool
    macs = by_op["conv"] + by_op["linear"]
    at = spec(tmp_path, SMALL + f"budgets:\n  macs: {{max: {macs}, input: [3, 64, 48]}}\n", "at.yaml")
    below = spec(tmp_path, SMALL + f"budgets:\n  macs: {{max: {macs - 1}, input: [3, 64, 48]}}\n", "below.yaml")
    assert run("check", at)[0] == 0
    code, out, _ = run("check", below)
    assert code == 4 and "at input 3x64x48" in out


def test_flops_and_memory_budgets_bracket_the_analysis(tmp_path):
    from cnncalc.analysis import analyze
    from cnncalc.analysis.memory import Options, analyze_memory
    from cnncalc.spec import load_graph

    path = spec(tmp_path, SMALL)
    graph = load_graph(path)
    flops = analyze(graph).totals.flops
    sgd = analyze_memory(graph.with_batch(8), Options()).training.bytes
    adam = analyze_memory(graph.with_batch(8), Options(optimizer="adam")).training.bytes
    assert adam > sgd
    budgets = f"budgets:\n  flops: {flops}\n  training_memory: {{max: {sgd}, batch: 8}}\n"
    good = spec(tmp_path, SMALL + budgets, "good.yaml")
    assert run("check", good)[0] == 0
    # the same limit fails with Adam's state (from the command line)
    code, out, _ = run("check", good, "--optimizer", "adam")
    assert code == 4 and "training memory" in out and "batch 8, adam" in out
    # and the memory budget's batch can be changed from the command line
    assert run("check", good, "--memory-batch", "9")[0] == 4


def test_receptive_field_budget_at_a_named_layer(tmp_path):
    # three 3x3 convolutions, stride 1: 1 + 3*2 = 7 input pixels (by hand)
    body = """
    name: rf
    input: [1, {n}, {n}]
    layers:
      - conv2d: {{out: 4, kernel: 3, padding: 1, name: c1}}
      - conv2d: {{out: 4, kernel: 3, padding: 1, name: c2}}
      - conv2d: {{out: 4, kernel: 3, padding: 1, name: c3}}
    budgets:
      receptive_field: {{c3: {{min: input}}, c1: {{max: 3}}}}
    """
    assert run("check", spec(tmp_path, body.format(n=7), "seven.yaml"))[0] == 0
    code, out, _ = run("check", spec(tmp_path, body.format(n=8), "eight.yaml"))
    assert code == 4
    assert "receptive field of c3 is 7x7, below the input size 8x8" in out


@needs_torch
def test_output_shape_budget_against_torch(tmp_path):
    import torch

    from cnncalc.spec import load_graph
    from cnncalc.torch_backend.build import build

    path = spec(tmp_path, SMALL)
    out = build(load_graph(path))(torch.zeros(1, 3, 32, 32))
    shape = list(out.shape[1:])
    assert run("check", spec(tmp_path, SMALL + f"budgets:\n  output_shapes: {{linear_1: {shape}}}\n", "a.yaml"))[0] == 0
    code, text, _ = run("check", spec(tmp_path, SMALL + "budgets:\n  output_shapes: {linear_1: [11]}\n", "b.yaml"))
    assert code == 4 and "output `linear_1` is [10], expected [11]" in text


UNET = """
name: tiny_unet
input: [1, 64, 64]
layers:
  - conv2d: {out: 4, kernel: 3, padding: 1, name: enc}
  - maxpool2d: {kernel: 2, name: down}
  - conv2d: {out: 4, kernel: 3, padding: 1}
  - upsample: {scale: 2, name: up}
  - concat: {from: [up, enc]}
  - conv2d: {out: 1, kernel: 1}
"""


@needs_torch
def test_input_sizes_fail_exactly_where_torch_fails(tmp_path):
    """The U-Net skip misaligns on odd sizes: the sizes cnncalc rejects are the ones torch cannot run."""
    import torch

    from cnncalc.spec import Overrides, load_graph
    from cnncalc.torch_backend.build import build

    path = spec(tmp_path, UNET + "budgets:\n  input_sizes: {from: 60, to: 70}\n")
    module = build(load_graph(path))
    torch_fails = []
    for n in range(60, 71):
        try:
            module(torch.zeros(1, 1, n, n))
        except RuntimeError:
            torch_fails.append(n)
    assert torch_fails == [61, 63, 65, 67, 69]
    code, out, _ = run("check", path, "-f", "json")
    assert code == 4
    result = next(r for r in json.loads(out)["files"][0]["results"] if r["rule"] == "budget.input_sizes")
    assert result["value"] == [f"1x{n}x{n}" for n in torch_fails]
    assert run("check", path, "--input-sizes", "60:70:2")[0] == 0
    assert load_graph(path, Overrides(inputs={"input": (1, 62, 62)}))  # builds


def test_bad_budgets_are_spec_errors_with_the_line(tmp_path):
    cases = {
        "budgets:\n  parms: 10\n": ("unknown budget `parms`", "did you mean `params`?"),
        "budgets:\n  params: lots\n": ("budget `params`: 'lots' is not a valid limit", "expected a count"),
        "budgets:\n  training_memory: {max: 1GiB, optimiser: adam}\n": (
            "budget `training_memory` has no option `optimiser`", "did you mean `optimizer`?"),
        "budgets:\n  receptive_field: {nope: {min: input}}\n": ("no layer or block named `nope`", None),
        "lints:\n  floor-los: because\n": ("unknown lint `floor-los`", "did you mean `floor-loss`?"),
        "lints:\n  floor-loss: ''\n": ("silencing `floor-loss` needs a reason", None),
    }
    for i, (extra, (message, hint)) in enumerate(cases.items()):
        path = spec(tmp_path, SMALL + extra, f"bad{i}.yaml")
        code, out, _ = run("check", path)
        assert code == 3, (extra, out)
        assert f"error: {message}" in out, out
        assert f"bad{i}.yaml:" in out
        if hint:
            assert f"hint: {hint}" in out


def test_an_invalid_file_does_not_stop_the_others(tmp_path):
    bad = spec(tmp_path, "name: x\ninput: [3, 8, 8]\nlayers:\n  - conv2d: {out: 8, kernal: 3}\n", "bad.yaml")
    over = spec(tmp_path, SMALL + "budgets:\n  params: 10\n", "over.yaml")
    code, out, _ = run("check", bad, over, "lenet5", "-f", "json")
    assert code == 3  # invalid wins over failed
    data = json.loads(out)
    assert [f["status"] for f in data["files"]] == ["invalid", "fail", "pass"]
    assert data["files"][0]["error"]["location"]["line"] == 4
    assert data["summary"] == {"files": 3, "passed": 1, "failed": 1, "invalid": 1, "errors": 1,
                               "warnings": 0, "suppressed": 0}


def test_globs_are_expanded_and_an_empty_glob_is_a_usage_error(tmp_path):
    spec(tmp_path, SMALL, "a.yaml")
    spec(tmp_path, SMALL, "b.yaml")
    code, out, _ = run("check", str(tmp_path / "*.yaml"), "-f", "json")
    assert code == 0 and len(json.loads(out)["files"]) == 2
    code, _, err = run("check", str(tmp_path / "*.yml"))
    assert code == 2 and "no file matches" in err


# -- lints --------------------------------------------------------------------------------------


def lint_results(path: str, *extra: str) -> list[dict]:
    code, out, _ = run("check", path, "-f", "json", *extra)
    return [r for r in json.loads(out)["files"][0]["results"] if r["rule"].startswith("lint.") and not r["passed"]]


@needs_torch
def test_conv_bias_before_norm_is_a_bias_batch_norm_cancels(tmp_path):
    import torch

    text = """
    name: bias
    input: [3, 8, 8]
    layers:
      - conv2d: {out: 4, kernel: 3, name: a}
      - batchnorm2d
      - conv2d: {out: 4, kernel: 3, bias: false, name: b}
      - batchnorm2d
      - conv2d: {out: 4, kernel: 3, name: c}
      - relu
    """
    path = spec(tmp_path, text)
    found = lint_results(path)
    assert [(r["rule"], r["layer"]) for r in found] == [("lint.conv-bias-before-norm", "a")]
    assert found[0]["location"]["line"] == 4
    # the claim, checked on torch: in training mode batch norm's output ignores the conv bias
    conv, norm = torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4)
    x = torch.randn(2, 3, 8, 8)
    before = norm(conv(x))
    with torch.no_grad():
        conv.bias.add_(torch.randn(4))
    assert torch.allclose(norm(conv(x)), before, atol=1e-5)


def test_unused_branch(tmp_path):
    text = """
    name: dead
    input: [3, 8, 8]
    layers:
      - conv2d: {out: 4, kernel: 3, name: trunk}
      - conv2d: {out: 4, kernel: 1, name: dead1, from: trunk}
      - relu: {name: dead2}
      - conv2d: {out: 4, kernel: 3, from: trunk, name: head}
    """
    found = lint_results(spec(tmp_path, text))
    assert [(r["rule"], r["layer"]) for r in found] == [("lint.unused-branch", "dead1")]
    assert "(2 unused layers in all)" in found[0]["message"]


def _coverage_by_torch(size: int, kernel: int, stride: int, padding: int, dilation: int) -> list[bool]:
    import torch

    x = torch.zeros(1, 1, size, requires_grad=True)
    torch.nn.functional.max_pool1d  # noqa: B018 - (a conv with all-ones weights reads every tap)
    w = torch.ones(1, 1, kernel)
    torch.nn.functional.conv1d(x, w, stride=stride, padding=padding, dilation=dilation).sum().backward()
    return [bool(g != 0) for g in x.grad[0, 0]]


@needs_torch
def test_skipped_and_floored_inputs_equal_torch_gradient_support():
    """Which input positions a window reads, against the gradient support of a real convolution,
    for random 1-D windows."""
    from cnncalc.check.lints import _coverage
    from cnncalc.layers.base import Window
    from cnncalc.window import conv_output_size

    rng = random.Random(7)
    checked = 0
    while checked < 400:
        size, kernel, stride = rng.randint(1, 30), rng.randint(1, 5), rng.randint(1, 5)
        dilation, padding = rng.randint(1, 3), rng.randint(0, 2)
        if padding > (dilation * (kernel - 1)) // 2 or dilation * (kernel - 1) + 1 > size + 2 * padding:
            continue
        out = conv_output_size(size, kernel, stride, (padding, padding), dilation)
        read = _coverage_by_torch(size, kernel, stride, padding, dilation)
        positions = [i for i, r in enumerate(read) if r]
        expected_gaps = sum(1 for i in range(positions[0], positions[-1]) if not read[i]) if positions else 0
        expected_tail = size - 1 - positions[-1] if positions else 0
        assert _coverage(size, Window(kernel, stride, dilation, padding), out) == (expected_gaps, expected_tail), \
            (size, kernel, stride, padding, dilation)
        checked += 1


def test_floor_loss_and_strided_skip_messages(tmp_path):
    text = """
    name: windows
    input: [3, 224, 224]
    layers:
      - conv2d: {out: 8, kernel: 7, stride: 2, name: stem}
      - conv2d: {out: 8, kernel: 1, stride: 2, name: skip}
    """
    found = lint_results(spec(tmp_path, text))
    messages = {(r["rule"], r["layer"]): r["message"] for r in found}
    # (224 - 7) / 2 = 108.5: 109 windows end at 2*108 + 6 = 222, the last row (223) is never read
    assert messages[("lint.floor-loss", "stem")] == (
        "`stem` never reads the last 1 input position along the height (input 224, kernel 7, stride 2: "
        "the output size is floored)")
    # 1x1 stride 2 on 109 rows reads rows 0, 2, ..., 108: 54 skipped
    assert messages[("lint.strided-skip", "skip")] == (
        "`skip` has a window of 1 with stride 2: it skips 54 of 109 input positions along the height")
    assert ("lint.floor-loss", "skip") not in messages  # its last row is its stride's gap, not flooring


@needs_torch
def test_ceil_mode_window_torch_drops(tmp_path):
    import torch

    text = """
    name: ceil
    input: [1, 5, 5]
    layers:
      - maxpool2d: {kernel: 3, stride: 3, padding: 1, ceil_mode: true, name: pool}
    """
    found = lint_results(spec(tmp_path, text))
    pool = torch.nn.MaxPool2d(3, 3, 1, ceil_mode=True)
    size = pool(torch.zeros(1, 1, 5, 5)).shape[-1]
    assert size == 2  # the textbook ceil((5 + 2 - 3)/3) + 1 = 3
    assert [r["rule"] for r in found] == ["lint.ceil-mode"]
    assert f"PyTorch gives {size}" in found[0]["message"] and "= 3" in found[0]["message"]


def test_receptive_field_lints(tmp_path):
    text = """
    name: gaps
    input: [1, 32, 32]
    layers:
      - conv2d: {out: 4, kernel: 2, stride: 4, name: coarse}
      - conv2d: {out: 4, kernel: 3, padding: 1, name: head}
      - adaptive_avgpool2d: {output_size: 1}
    """
    found = {r["rule"]: r for r in lint_results(spec(tmp_path, text))}
    # head: 2 + (3-1)*4 = 10 pixels wide, jump 4; coarse alone reads 2 of every 4 pixels
    assert "lint.rf-below-stride" not in found
    assert found["lint.strided-skip"]["layer"] == "coarse"
    small = spec(tmp_path, text.replace("kernel: 3, padding: 1", "kernel: 1"), "small.yaml")
    below = {r["rule"]: r for r in lint_results(small)}
    assert below["lint.rf-below-stride"]["layer"] == "head"
    assert "(2) is smaller than its stride on the input (4)" in below["lint.rf-below-stride"]["message"]
    # a field larger than the input is a note: shown, never failing, even with --strict
    deep = spec(tmp_path, textwrap.dedent(text).replace("[1, 32, 32]", "[1, 8, 8]") + "  - flatten\n", "deep.yaml")
    exceeds = [r for r in lint_results(deep) if r["rule"] == "lint.rf-exceeds-input"]
    assert exceeds and exceeds[0]["severity"] == "note" and exceeds[0]["layer"] == "head"
    assert "(10x10) is larger than the input (8x8)" in exceeds[0]["message"]  # 2 + (3-1)*4 = 10
    strict = json.loads(run("check", deep, "--strict", "-f", "json")[1])
    assert strict["summary"]["errors"] == 1  # the strided-skip warning; the note does not count


def test_strict_turns_warnings_into_failures_and_silencing_needs_a_reason(tmp_path):
    text = SMALL.replace("bias: false}\n  - batchnorm2d", "bias: true}\n  - batchnorm2d")
    path = spec(tmp_path, text)
    assert run("check", path)[0] == 0
    assert run("check", path, "--strict")[0] == 4
    silenced = spec(tmp_path, text + 'lints:\n  conv-bias-before-norm: "kept to match a checkpoint"\n', "s.yaml")
    code, out, _ = run("check", silenced, "--strict")
    assert code == 0 and "silenced: lint.conv-bias-before-norm" in out and "kept to match a checkpoint" in out
    other = spec(tmp_path, text + "lints:\n  conv-bias-before-norm: {reason: x, layers: [other*]}\n", "o.yaml")
    assert run("check", other, "--strict")[0] == 4  # the pattern does not cover the layer


# -- formats ------------------------------------------------------------------------------------


@pytest.fixture
def mixed(tmp_path):
    bad = spec(tmp_path, "name: x\ninput: [3, 8, 8]\nlayers:\n  - conv2d: {out: 8, kernal: 3}\n", "bad.yaml")
    over = spec(tmp_path, SMALL.replace("bias: false}\n  - batchnorm2d", "bias: true}\n  - batchnorm2d")
                + "budgets:\n  params: 1K\n", "over.yaml")
    return tmp_path, [Path(bad).name, Path(over).name, "lenet5"]


def test_github_annotations_exact_text(mixed):
    folder, files = mixed
    code, out, _ = run("check", *files, "-f", "github", cwd=folder)
    assert code == 3
    lines = out.splitlines()
    assert lines[0] == ("::error file=bad.yaml,line=4,col=22,endColumn=28,title=cnncalc%3A invalid spec::"
                        "conv2d has no attribute `kernal`%0Ahint: did you mean `kernel`?")
    assert lines[1].startswith("::error file=over.yaml,line=14,col=3,endColumn=9,title=cnncalc budget.params::"
                               "params 5.42K exceeds the budget 1.00K (5,418 > 1,000)")
    assert lines[2].startswith("::warning file=over.yaml,line=4,col=5,")
    assert "title=cnncalc lint.conv-bias-before-norm::" in lines[2]
    assert lines[-1] == "cnncalc check: 3 files: 1 passed, 1 failed, 1 invalid; 1 errors, 1 warnings"


def test_junit_is_valid_against_the_schema(mixed):
    import xmlschema

    folder, files = mixed
    code, out, _ = run("check", *files, "-f", "junit", "--strict", cwd=folder)
    assert code == 3
    schema = xmlschema.XMLSchema(str(SCHEMAS / "junit.xsd"))
    schema.validate(out.encode())
    from xml.etree import ElementTree as ET

    root = ET.fromstring(out.encode())
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == files
    assert suites[0].get("errors") == "1" and suites[0].find("testcase/error") is not None
    failed = [c.get("name") for c in suites[1].iter("testcase") if c.find("failure") is not None]
    assert failed == ["budget.params", "lint.conv-bias-before-norm conv2d_1"]  # --strict: the warning fails
    assert root.get("tests") == str(sum(int(s.get("tests")) for s in suites))


def test_sarif_is_valid_2_1_0(mixed):
    import jsonschema

    folder, files = mixed
    code, out, _ = run("check", *files, "-f", "sarif", cwd=folder)
    assert code == 3
    log = json.loads(out)
    jsonschema.validate(log, json.loads((SCHEMAS / "sarif-2.1.0-subset.json").read_text()))
    pydantic_model = pytest.importorskip("sarif_pydantic")
    parsed = pydantic_model.Sarif.model_validate(log)
    results = parsed.runs[0].results
    assert [r.rule_id for r in results] == ["spec.invalid", "budget.params", "lint.conv-bias-before-norm"]
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    for result in log["runs"][0]["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    region = log["runs"][0]["results"][1]["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (14, 3)


def test_output_file_is_written_whole(mixed, tmp_path):
    folder, files = mixed
    target = tmp_path / "report.json"
    code, out, _ = run("check", *files, "-f", "json", "-o", str(target), cwd=folder)
    assert code == 3 and out == ""
    assert json.loads(target.read_text())["schema"] == "cnncalc.check/1"
    assert not list(tmp_path.glob(".report.json.*"))


# -- baselines and diffs ------------------------------------------------------------------------


def test_baseline_growth_gate(tmp_path):
    base = tmp_path / "base.json"
    assert run("summary", "resnet18", "-f", "json", "-o", str(base))[0] == 0
    # resnet34 is resnet18 with more blocks: 3.66 vs 1.81 GMACs (torchvision's published GFLOPS)
    wider = spec(tmp_path, "extends: resnet34.yaml\nname: resnet18\n", "grown.yaml")
    code, out, _ = run("check", wider, "--baseline", str(base), "--max-growth", "macs=5%", "--no-lints")
    assert code == 4
    import re

    from cnncalc.analysis import analyze
    from cnncalc.spec import load_graph

    old, new = (analyze(load_graph(n), peaks=False).totals.macs for n in ("resnet18", "resnet34"))
    change = re.escape(f"({(new - old) / old:+.2%})")
    assert re.search(rf"macs 1\.81G -> 3\.66G {change}, more than the allowed growth 5%", out)
    assert run("check", wider, "--baseline", str(base), "--max-growth", "macs=150%", "--no-lints")[0] == 0
    # a check JSON serves as the next baseline, several models at once
    report = tmp_path / "check.json"
    run("check", "resnet18", "vgg11", "-f", "json", "-o", str(report))
    assert run("check", "resnet18", "vgg11", "--baseline", str(report), "--max-growth", "params=0")[0] == 0
    code, _, err = run("check", "resnet18", "--max-growth", "macs=5%")
    assert code == 2 and "--max-growth needs --baseline" in err


def test_diff_layers_and_totals(tmp_path):
    from cnncalc.analysis import analyze
    from cnncalc.spec import load_graph

    code, out, _ = run("diff", "resnet18", "resnet34", "-f", "json")
    assert code == 0
    data = json.loads(out)
    names18 = set(load_graph("resnet18").nodes) - {"input"}
    names34 = set(load_graph("resnet34").nodes) - {"input"}
    assert {r["name"] for r in data["layers"] if r["status"] == "added"} == names34 - names18
    assert data["counts"]["removed"] == 0
    a, b = analyze(load_graph("resnet18")).totals, analyze(load_graph("resnet34")).totals
    assert data["totals"]["params"] == {"a": a.params, "b": b.params, "delta": b.params - a.params}
    assert data["totals"]["macs"]["delta"] == b.macs - a.macs
    # the reverse diff removes what this one added
    back = json.loads(run("diff", "resnet34", "resnet18", "-f", "json")[1])
    assert {r["name"] for r in back["layers"] if r["status"] == "removed"} == names34 - names18


def test_diff_against_a_stored_summary(tmp_path):
    path = spec(tmp_path, SMALL)
    stored = tmp_path / "small.json"
    run("summary", path, "-f", "json", "-o", str(stored))
    wider = spec(tmp_path, SMALL.replace("out: 32", "out: 48"), "wider.yaml")
    code, out, _ = run("diff", str(stored), wider)
    assert code == 0
    # conv2 grows from 16*32*9 to 16*48*9 weights, the linear from 32*10+10 to 48*10+10
    assert "+2.30K (+50.0%)" in out and "+160 (+48.5%)" in out
    code, md, _ = run("diff", str(stored), wider, "-f", "markdown")
    assert md.count("| ~ |") == 5  # conv2, relu, pool, flatten, linear change


# -- integration --------------------------------------------------------------------------------


def test_the_zoo_passes(tmp_path):
    from cnncalc.spec import zoo_dir

    code, out, _ = run("check", str(zoo_dir() / "*.yaml"), "-f", "json")
    data = json.loads(out)
    assert code == 0, [f for f in data["files"] if f["status"] != "pass"]
    assert data["summary"]["invalid"] == 0 and data["summary"]["files"] == len(list(zoo_dir().glob("*.yaml")))


def test_github_actions_example_in_the_docs_runs(tmp_path):
    """The workflow in docs/check.md parses, and its check step gives annotations on a repo."""
    import re
    import shlex

    import yaml

    docs = (Path(__file__).parent.parent / "docs" / "check.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(# \.github/workflows/.*?)```", docs, re.S)
    assert block, "docs/check.md has no workflow example"
    workflow = yaml.safe_load(block.group(1))
    steps = workflow["jobs"]["architecture"]["steps"]
    commands = [s["run"] for s in steps if "run" in s and s["run"].startswith("cnncalc check")]
    assert len(commands) == 1
    (tmp_path / "models").mkdir()
    spec(tmp_path, SMALL + "budgets:\n  params: 1K\n", "models/net.yaml")
    args = shlex.split(commands[0])[1:]
    code, out, _ = run(*args, cwd=tmp_path)
    assert code == 4
    assert out.startswith("::error file=models/net.yaml,line=14,col=3,")


@pytest.mark.slow
def test_pre_commit_hook_through_try_repo(tmp_path):
    """`pre-commit try-repo` installs this checkout as a hook and runs it on a repository."""
    import os
    import shutil
    import subprocess
    import sys

    pre_commit = Path(sys.executable).parent / "pre-commit"
    if not pre_commit.exists():
        pytest.skip("pre-commit is not installed")
    root = Path(__file__).parent.parent
    snapshot = tmp_path / "cnncalc"
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                            cwd=root, capture_output=True, text=True, check=True).stdout.split()
    for name in listed:
        source = root / name
        if source.is_file() and not name.startswith("tests/"):
            (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, snapshot / name)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    for where in (snapshot, tmp_path / "user"):
        where.mkdir(exist_ok=True)
        subprocess.run([*git, "init", "-q", "."], cwd=where, check=True)
    subprocess.run([*git, "add", "-A"], cwd=snapshot, check=True)
    subprocess.run([*git, "commit", "-qm", "snapshot"], cwd=snapshot, check=True)
    user = tmp_path / "user"
    spec(user, SMALL, "ok.yaml")
    spec(user, "name: x\ninput: [3, 8, 8]\nlayers:\n  - conv2d: {out: 8, kernal: 3}\n", "bad.yaml")
    subprocess.run([*git, "add", "-A"], cwd=user, check=True)
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "cache"))
    result = subprocess.run([str(pre_commit), "try-repo", str(snapshot), "cnncalc-check", "--all-files"],
                            cwd=user, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "cnncalc check (architecture budgets and lints)" in result.stdout
    assert "- exit code: 3" in result.stdout
    assert "bad.yaml:4:22: error: conv2d has no attribute `kernal`" in result.stdout
