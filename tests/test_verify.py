"""`cnncalc verify`: agreement on real specs, a planted error caught (exit 4), a missing backend
reported (exit 5)."""

from __future__ import annotations

import json
import sys

import pytest

from cnncalc.cli.app import main
from cnncalc.errors import BackendUnavailable
from cnncalc.spec import load_graph
from tests.conftest import needs_fvcore


def run(capsys, *args: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


@needs_fvcore
@pytest.mark.parametrize("name", ["lenet5_original", "resnet18", "mobilenet_v3_small", "shufflenet_v2_x0_5",
                                  "unet", "conv_autoencoder"])
def test_verify_agrees_on_bundled_specs(capsys, name):
    code, out, err = run(capsys, "verify", name, "--device", "cpu", "--format", "json")
    data = json.loads(out)
    assert code == 0, data["mismatches"]
    assert data["ok"] and data["device"] == "cpu" and data["mismatches"] == []
    rows = len([n for n in load_graph(name) if not n.is_input])
    assert data["summary"]["shape"] == {"agree": rows, "checks": rows, "tolerance": "exact"}
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
