"""`cnncalc profile`: the JSON contract, its numbers against analyze() and torch, the roofline rules
on hand numbers, and the errors (exit 2, 3, 5). Timings on a shared CPU are noise: no test asserts
on how fast anything ran, only on how the reported numbers relate to each other."""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys

import pytest

from cnncalc.analysis import analyze
from cnncalc.cli.app import main
from cnncalc.cli.profile import parse_batches
from cnncalc.spec import Overrides, load_graph
from cnncalc.torch_backend.profile import Timing, percentile
from cnncalc.torch_backend.roofline import Peak, bound, datasheet_peak, roofline
from tests.conftest import HAS_TORCH, needs_torch

QUICK = ("--repeat", "2", "--warmup", "1")
HAS_CUDA = HAS_TORCH and __import__("torch").cuda.is_available()


def run(capsys, *args: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


def profile_json(capsys, *args: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    code, out, err = run(capsys, "profile", *args, *QUICK, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9)


# --- pure rules ------------------------------------------------------------------------------


def test_bound_compares_intensity_with_the_ridge_point():
    assert bound(10.0, 5.0) == "compute"
    assert bound(5.0, 5.0) == "compute"  # on the ridge the compute roof is reached
    assert bound(4.99, 5.0) == "memory"
    assert bound(0.0, 0.1) == "memory"


def test_roofline_on_hand_numbers():
    peak = Peak(1e9, 1e8, "datasheet", "test", "hand")  # ridge: 10 FLOP/B
    assert peak.ridge == 10
    compute = roofline(2_000_000, 100_000, peak)  # 20 FLOP/B
    assert (compute.intensity, compute.bound) == (20, "compute")
    assert compute.bound_flops_per_s == 1e9 and close(compute.roofline_ms, 2.0)  # 2e6 / 1e9 s
    memory = roofline(100_000, 100_000, peak)  # 1 FLOP/B
    assert (memory.intensity, memory.bound) == (1, "memory")
    assert memory.bound_flops_per_s == 1e8 and close(memory.roofline_ms, 1.0)  # 1e5 B / 1e8 B/s
    reshape = roofline(0, 4096, peak)  # no FLOPs: only the traffic bounds it
    assert reshape.bound == "memory" and close(reshape.roofline_ms, 4096 / 1e8 * 1e3)


def test_percentile_and_timing_spread():
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile([7.0], 90) == 7.0
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 25) == 2.0
    timing = Timing((5.0, 1.0, 3.0, 2.0, 4.0))
    assert (timing.median_ms, timing.min_ms, timing.max_ms, timing.iqr_ms) == (3.0, 1.0, 5.0, 2.0)


@pytest.mark.parametrize("name, dtype, tf32, tflops, gbs", [
    ("NVIDIA H100 80GB HBM3", "bfloat16", True, 989.4, 3350),
    ("NVIDIA H100 80GB HBM3", "float32", True, 494.7, 3350),
    ("NVIDIA H100 80GB HBM3", "float32", False, 67.0, 3350),
    ("NVIDIA H100 PCIe", "float16", True, 756.0, 2000),
    ("NVIDIA H200", "float16", True, 989.4, 4800),
    ("NVIDIA A100-SXM4-80GB", "float16", True, 312.0, 2039),
    ("NVIDIA A100-PCIE-40GB", "float32", False, 19.5, 1555),
    ("NVIDIA L40S", "bfloat16", True, 362.0, 864),
    ("NVIDIA L4", "bfloat16", True, 121.0, 300),
    ("Tesla V100-SXM2-16GB", "float32", True, 15.7, 900),  # no TF32 units: the FP32 figure
    ("NVIDIA GeForce RTX 4090", "float16", True, 165.2, 1008),
])
def test_datasheet_peaks_by_device_name(name, dtype, tf32, tflops, gbs):
    peak = datasheet_peak(name, dtype, tf32)
    assert peak is not None and peak.source == "datasheet"
    assert close(peak.flops_per_s, tflops * 1e12) and close(peak.bytes_per_s, gbs * 1e9)


@pytest.mark.parametrize("name, dtype", [
    ("NVIDIA GeForce GTX 1080", "float32"),  # unknown: measured instead
    ("Tesla T4", "bfloat16"),  # no bfloat16 units
    ("NVIDIA H100 80GB HBM3 MIG 1g.10gb", "float32"),  # a slice: the datasheet overstates it
])
def test_no_datasheet_peak(name, dtype):
    assert datasheet_peak(name, dtype, True) is None


def test_batches_repeat_or_comma_separated():
    assert parse_batches(None) == [None]
    assert parse_batches(["1,8", "8", "2"]) == [1, 8, 2]


# --- the command on the CPU ------------------------------------------------------------------


def analytic(name: str, batch: int):  # type: ignore[no-untyped-def]
    return analyze(load_graph(name, Overrides(batch=batch)))


@needs_torch
def test_json_numbers_agree_with_analyze_and_with_each_other(capsys):
    data = profile_json(capsys, "lenet5", "-b", "1,2", "--train", "--layers", "--device", "cpu")
    assert data["schema"] == "cnncalc.profile/1"
    assert (data["model"], data["device"], data["dtype"]) == ("lenet5", "cpu", "float32")
    peak = data["peak"]
    assert peak["source"] == "measured" and "not a datasheet figure" in peak["reference"]
    assert close(peak["ridge_flops_per_byte"], peak["tflops"] * 1e3 / peak["bandwidth_gbs"])
    assert [b["batch"] for b in data["batches"]] == [1, 2]
    for entry in data["batches"]:
        totals = analytic("lenet5", entry["batch"]).totals
        flops = {"forward": totals.flops, "backward": totals.backward_flops,
                 "step": totals.flops + totals.backward_flops}
        for phase, expected in flops.items():
            timing = entry[phase]
            assert timing["flops"] == expected > 0
            assert len(timing["samples_ms"]) == 2
            assert timing["median_ms"] == statistics.median(timing["samples_ms"])
            assert 0 < timing["min_ms"] <= timing["median_ms"] <= timing["max_ms"] and timing["iqr_ms"] >= 0
            seconds = timing["median_ms"] / 1e3
            assert close(timing["achieved_tflops"] * 1e12 * seconds, expected)
            assert close(timing["samples_per_s"], entry["batch"] / seconds)
            assert close(timing["percent_of_peak"], 100 * timing["achieved_tflops"] / peak["tflops"])
    assert data["batches"][0]["forward"]["mode"] == "eval, inference_mode"
    assert data["batches"][0]["step"]["mode"].startswith("train")
    assert any("CPU timings are wall-clock" in note for note in data["notes"])


@needs_torch
def test_layer_rows_cover_every_layer_with_their_rooflines(capsys):
    data = profile_json(capsys, "lenet5", "-b", "1,2", "--layers", "--device", "cpu")
    layers = data["layers"]
    assert layers["batch"] == 2 and layers["clock"] == "CPU wall time"  # the largest batch
    report = analytic("lenet5", 2)
    rows = layers["rows"]
    assert [r["name"] for r in rows] == [r.name for r in report.rows]
    assert all(r["time_ms"] >= 0 for r in rows)
    # disjoint ranges inside the profiled forwards (a little slack for the two clocks)
    assert sum(r["time_ms"] for r in rows) <= layers["forward_ms"] * 1.05
    conv1 = rows[0]
    # conv1 at batch 2, float32: 156 params, input 2x1x32x32, output 2x6x28x28
    assert conv1["bytes_moved"] == 4 * (156 + 2 * 32 * 32 + 2 * 6 * 28 * 28)
    assert conv1["flops"] == report.rows[0].flops
    fc1 = next(r for r in rows if r["name"] == "fc1")  # reads flatten's output
    assert fc1["bytes_moved"] == 4 * (120 * 84 + 84 + 2 * 120 + 2 * 84)
    ridge = data["peak"]["ridge_flops_per_byte"]
    for row in rows:
        assert close(row["intensity"], row["flops"] / row["bytes_moved"])
        assert row["bound"] == ("compute" if row["intensity"] >= ridge else "memory")
        assert row["roofline_tflops"] <= data["peak"]["tflops"] * (1 + 1e-12)
        if row["time_ms"] > 0:
            assert close(row["percent_of_roofline"], 100 * row["roofline_ms"] / row["time_ms"])


@needs_torch
def test_analytic_conv_and_linear_flops_match_torch_flop_counter():
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from cnncalc.torch_backend.build import build, example_inputs

    graph = load_graph("lenet5", Overrides(batch=2))
    model = build(graph).eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(*example_inputs(graph))
    totals = analyze(graph).totals
    assert counter.get_total_flops() == 2 * totals.macs  # one multiply-add = 2 FLOPs in both
    assert totals.flops >= 2 * totals.macs  # profile's forward FLOPs add bias and elementwise work


@needs_torch
def test_several_batches_skip_layers_unless_asked_and_forward_only_without_train(capsys):
    data = profile_json(capsys, "lenet5", "-b", "2", "-b", "1", "--device", "cpu")
    assert data["layers"] is None
    assert [(b["batch"], b["backward"], b["step"]) for b in data["batches"]] == [(2, None, None), (1, None, None)]


@needs_torch
def test_table_output(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # the table's width when stdout is not a terminal
    code, out, err = run(capsys, "profile", "lenet5", "--train", "--top", "3", *QUICK)
    assert code == 0, err
    for text in ("profile lenet5", "forward", "backward", "step", "% peak", "measured here",
                 "layers at batch 1", "3 of 13 layers, slowest first", "note: forward: model.eval()"):
        assert text in out
    if not HAS_CUDA:
        assert "note: no CUDA device: profiled on the CPU" in out
    assert "profiler_start" not in err  # kineto's chatter is kept off stderr


@needs_torch
def test_spec_dtype_torch_cannot_profile_runs_in_float32(capsys, tmp_path):
    spec = tmp_path / "tiny.yaml"
    spec.write_text("name: tiny\ninput: [1, 8, 8]\ndtype: float64\nlayers:\n  - conv2d: {out: 2, kernel: 3}\n")
    data = profile_json(capsys, str(spec), "--device", "cpu")
    assert data["dtype"] == "float32"
    assert data["notes"][0] == "the spec's dtype float64 is not profiled: float32 used (see --dtype)"
    assert data["layers"]["rows"][0]["bytes_moved"] == 4 * (2 * 9 + 2 + 64 + 2 * 36)


@needs_torch
def test_bfloat16_on_cpu(capsys):
    data = profile_json(capsys, "lenet5", "--dtype", "bfloat16", "--device", "cpu", "--no-layers")
    assert data["dtype"] == "bfloat16" and data["layers"] is None
    assert data["batches"][0]["forward"]["flops"] == analytic("lenet5", 1).totals.flops


# --- errors ----------------------------------------------------------------------------------


@needs_torch
def test_float16_on_cpu_is_a_usage_error(capsys):
    code, out, err = run(capsys, "profile", "lenet5", "--dtype", "float16", "--device", "cpu")
    assert code == 2 and out == ""
    assert "--dtype float16 on the CPU" in err and "hint: use --dtype bfloat16" in err


@pytest.mark.parametrize("value, message", [("0", "batch sizes must be positive"),
                                            ("1,x", "expected positive integers")])
def test_bad_batch_is_a_usage_error(capsys, value, message):
    code, _, err = run(capsys, "profile", "lenet5", "-b", value)
    assert code == 2 and message in err


def test_bad_spec_exits_3(capsys, tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("name: bad\ninput: [1, 8, 8]\nlayers:\n  - conv2d: {out: 2, kernel: 9}\n")
    code, out, err = run(capsys, "profile", str(spec))
    assert code == 3 and out == "" and "bad.yaml:4" in err and "Traceback" not in err


def test_without_torch_exits_5_with_the_install_hint(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    code, out, err = run(capsys, "profile", "lenet5")
    assert code == 5 and out == ""
    assert "profile needs torch" in err and 'pip install "cnncalc[torch]"' in err


@needs_torch
@pytest.mark.skipif(HAS_CUDA, reason="a CUDA device is present")
def test_cuda_without_a_gpu_exits_5(capsys):
    code, _, err = run(capsys, "profile", "lenet5", "--device", "cuda")
    assert code == 5 and "torch sees no CUDA device" in err


def test_help_does_not_import_torch(tmp_path):
    code = ("import sys; from cnncalc.cli.app import main\ntry: main(['profile', '--help'])\n"
            "except SystemExit: pass\nprint(sorted(m for m in sys.modules if m.split('.')[0] == 'torch'))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stderr[-2000:]


# --- CUDA (skipped without a GPU) ------------------------------------------------------------


@pytest.mark.skipif(not HAS_CUDA, reason="no CUDA device")
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_cuda_profile(capsys, dtype):
    data = profile_json(capsys, "resnet18", "-b", "2", "--train", "--device", "cuda", "--dtype", dtype)
    assert data["device"] == "cuda" and data["dtype"] == dtype
    assert data["peak"]["source"] in ("datasheet", "measured")
    assert any("torch.cuda.Event" in note for note in data["notes"])
    entry = data["batches"][0]
    totals = analytic("resnet18", 2).totals
    assert entry["forward"]["flops"] == totals.flops
    assert entry["step"]["flops"] == totals.flops + totals.backward_flops
    for phase in ("forward", "backward", "step"):
        assert entry[phase]["median_ms"] > 0
    layers = data["layers"]
    assert layers["clock"] == "CUDA kernel time"
    assert len(layers["rows"]) == len(analytic("resnet18", 2).rows)
    assert sum(r["time_ms"] for r in layers["rows"]) > 0  # kernels were attributed to layers
    assert sum(r["time_ms"] for r in layers["rows"]) <= layers["forward_ms"] * 1.05
