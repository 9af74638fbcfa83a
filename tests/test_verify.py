"""`cnncalc verify`: agreement on real specs, a planted error caught (exit 4), a missing backend
reported (exit 5)."""

from __future__ import annotations

import json
import sys

import pytest

from cnncalc.cli.app import main
from cnncalc.errors import BackendUnavailable
from cnncalc.spec import load_graph
from tests.conftest import needs_fvcore, needs_torch


def run(capsys, *args: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


@needs_fvcore
@pytest.mark.parametrize("name", ["lenet5_original", "resnet18", "mobilenet_v3_small", "shufflenet_v2_x0_5",
                                  "unet", "conv_autoencoder"])
def test_verify_agrees_on_bundled_specs(capsys, name):
    code, out, err = run(capsys, "verify", name, "--device", "cpu", "--probes", "3", "--format", "json")
    data = json.loads(out)
    assert code == 0, data["mismatches"]
    assert data["ok"] and data["device"] == "cpu" and data["mismatches"] == []
    rows = len([n for n in load_graph(name) if not n.is_input])
    shape = data["summary"]["shape"]
    assert (shape["agree"], shape["checks"], shape["tolerance"]) == (rows, rows, "exact")
    assert data["summary"]["macs"]["checks"] == rows + 1  # every layer and the total


@needs_fvcore
def test_verify_catches_a_wrong_analytic_rule(capsys, monkeypatch):
    from cnncalc.layers import lookup

    conv = type(lookup("conv2d"))
    monkeypatch.setattr(conv, "macs", lambda self, a, ins, out: 7)
    code, out, err = run(capsys, "verify", "lenet5", "--batch", "2")
    assert code == 4
    assert "mismatch macs at conv1: cnncalc 7 vs measured 235200" in out  # 2*6*28*28*25
    assert "FAIL" in out and "checks disagree with torch/fvcore" in err


@needs_fvcore
def test_verify_batch_and_input_overrides(capsys):
    code, out, _ = run(capsys, "verify", "resnet18", "--batch", "2", "--input", "3x96x96", "-f", "json")
    assert code == 0 and json.loads(out)["batch"] == 2


def test_verify_without_fvcore_exits_5_with_the_install_hint(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "fvcore", None)
    monkeypatch.setitem(sys.modules, "fvcore.nn", None)
    code, out, err = run(capsys, "verify", "lenet5")
    assert code == 5 and out == ""
    assert "verify needs" in err and 'pip install "cnncalc[torch]"' in err


def test_verify_on_cuda_without_a_gpu_exits_5(capsys):
    torch = pytest.importorskip("torch")
    pytest.importorskip("fvcore")
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    code, _, err = run(capsys, "verify", "lenet5", "--device", "cuda")
    assert code == 5 and "torch sees no CUDA device" in err


def test_backend_unavailable_is_exit_code_5():
    assert BackendUnavailable("x").exit_code == 5


def spec_file(tmp_path, text: str) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return str(path)


@needs_fvcore
def test_verify_checks_forward_and_backward_flops_and_fields(capsys):
    code, out, _ = run(capsys, "verify", "mobilenet_v2", "--device", "cpu", "-f", "json")
    data = json.loads(out)
    assert code == 0, data["mismatches"]
    rows = len([n for n in load_graph("mobilenet_v2") if not n.is_input])
    assert data["summary"]["flops"]["checks"] == data["summary"]["backward_flops"]["checks"] == rows + 1
    assert data["summary"]["rf"] == {"agree": 8, "checks": 8, "against": "input-gradient support (probe)",
                                     "tolerance": "exact (± phase error after upsampling)"}
    # MobileNetV2's depthwise convolutions: FlopCounterMode's grad-weight over-count, corrected
    assert any("grouped convolution" in note and "corrected at 17" in note for note in data["notes"])


@needs_fvcore
def test_verify_catches_a_wrong_backward_rule(capsys, monkeypatch):
    from cnncalc.layers import lookup

    conv = type(lookup("conv2d"))
    rule = conv.backward_flops
    # forgetting "no grad-input for the first layer": the first conv would count one
    monkeypatch.setattr(conv, "backward_flops",
                        lambda self, a, ins, out, grads, weights: rule(self, a, ins, out, [True], weights))
    code, out, _ = run(capsys, "verify", "lenet5", "--probes", "0")
    assert code == 4
    assert "mismatch backward_flops at conv1: cnncalc 470400 vs measured 235200" in out  # 2*117600 twice


@needs_fvcore
def test_verify_catches_a_wrong_receptive_field(capsys, monkeypatch):
    from cnncalc.layers import lookup
    from cnncalc.layers.base import Window

    pool = type(lookup("maxpool2d"))
    monkeypatch.setattr(pool, "window", lambda self, a, ins, out: (Window(3, 2), Window(3, 2)))  # kernel 2 really
    code, out, _ = run(capsys, "verify", "lenet5", "--no-memory", "-f", "json")
    data = json.loads(out)
    assert code == 4 and data["summary"]["rf"]["agree"] < data["summary"]["rf"]["checks"]
    assert {m["quantity"] for m in data["mismatches"]} == {"rf"}


def _backward_flops(model, x) -> int:  # type: ignore[no-untyped-def]
    from torch.utils.flop_counter import FlopCounterMode

    y = model(x)
    with FlopCounterMode(display=False) as counter:
        y.sum().backward()
    return counter.get_total_flops()


@needs_fvcore
@pytest.mark.parametrize("groups", [2, 4, 8])
def test_grouped_backward_correction_equals_the_split_convolutions(tmp_path, groups):
    # A grouped convolution is `groups` ordinary convolutions on channel slices: FlopCounterMode
    # counts those right, so their backward is the independent figure the correction must reach.
    import torch

    from cnncalc.torch_backend.flops import meta_pass

    conv = f"  - conv2d: {{out: 16, kernel: 3, groups: {groups}}}\n"
    path = spec_file(tmp_path, "input: [8, 12, 12]\nlayers:\n" + conv + conv)
    notes: list[str] = []
    _, _, backward = meta_pass(load_graph(path), notes)
    assert backward is not None and any("grouped convolution" in n for n in notes)

    torch.manual_seed(0)
    first = [torch.nn.Conv2d(8 // groups, 16 // groups, 3) for _ in range(groups)]
    second = [torch.nn.Conv2d(16 // groups, 16 // groups, 3) for _ in range(groups)]

    def split(x):  # type: ignore[no-untyped-def]
        for convs in (first, second):
            x = torch.cat([c(part) for c, part in zip(convs, x.chunk(groups, dim=1))], dim=1)
        return x

    assert sum(backward.values()) == _backward_flops(split, torch.randn(1, 8, 12, 12))


@needs_fvcore
def test_verify_shared_weights_compare_per_module(capsys, tmp_path):
    path = spec_file(tmp_path, """\
input: [3, 16, 16]
layers:
  - conv2d: {out: 8, kernel: 3, padding: 1}
    name: a
  - conv2d: {out: 8, kernel: 3, padding: 1}
    name: b
  - conv2d: {out: 8, kernel: 3, padding: 1}
    name: b2
    from: b
    share: b
  - add:
    from: [b, b2]
""")
    code, out, _ = run(capsys, "verify", path, "--no-memory", "-f", "json")
    data = json.loads(out)
    assert code == 0, data["mismatches"]
    assert data["summary"]["params"]["checks"] == 4  # a, b (+1 shared call), add, total


@needs_fvcore
def test_max_unpooling_takes_the_indices_of_the_pool_it_names(tmp_path):
    import torch
    import torch.nn.functional as F

    from cnncalc.torch_backend.build import build, example_inputs

    graph = load_graph(spec_file(tmp_path, """\
input: [3, 16, 16]
layers:
  - conv2d: {out: 4, kernel: 3, padding: 1}
    name: c1
  - maxpool2d: {kernel: 2}
    name: pool1
  - conv2d: {out: 4, kernel: 3, padding: 1}
    name: c2
  - max_unpool2d: {indices: pool1, kernel: 2}
    name: unpool1
"""))
    model = build(graph).eval()
    model.record = True
    with torch.no_grad():
        model(*example_inputs(graph))
    _, indices = F.max_pool2d(model.outputs["c1"], 2, return_indices=True)
    assert torch.equal(model.outputs["unpool1"], F.max_unpool2d(model.outputs["c2"], indices, 2))


@needs_torch
@needs_fvcore
def test_verify_measures_the_memory_peaks(monkeypatch):
    """The peaks are checked against the allocator; a model off by 2x is caught."""
    from cnncalc.analysis import memory
    from cnncalc.spec import load_graph
    from cnncalc.torch_backend.verify import verify

    graph = load_graph("resnet18")
    result = verify(graph, "cpu", probes=0)
    checks = [c for c in result.checks if c.quantity == "memory"]
    assert [c.layer for c in checks] == ["inference peak", "training-step peak"]
    assert all(c.ok for c in checks), checks
    real = memory.analyze_memory

    def doubled(*args, **kwargs):
        m = real(*args, **kwargs)
        from dataclasses import replace
        return replace(m, inference=replace(m.inference, bytes=2 * m.inference.bytes))

    monkeypatch.setattr(memory, "analyze_memory", doubled)
    planted = verify(graph, "cpu", probes=0)
    assert [c.layer for c in planted.mismatches] == ["inference peak"]
