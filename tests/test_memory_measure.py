"""The memory MEASUREMENT harness (cnncalc.torch_backend.memory) on tiny models whose numbers are
worked out by hand: the reference the analytic memory model is checked against must itself be
right. Every size below is float32 (4 bytes) unless said otherwise.

Two independent CPU methods meet here: the profiler's allocator events (`peak`) and the storages
operators return (`tensor_peak`). On models whose kernels allocate nothing but their outputs
(linear layers, 1x1 convolutions, concatenation) the two must agree to the byte.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from cnncalc.graph import LayerGraph
from cnncalc.spec import Overrides, load_graph
from tests.conftest import HAS_TORCH, needs_torch

HAS_CUDA = HAS_TORCH and __import__("torch").cuda.is_available()
F32 = 4


def load(tmp_path: Path, text: str, batch: int | None = None) -> LayerGraph:
    path = tmp_path / "memory.yaml"
    path.write_text(text)
    return load_graph(str(path), Overrides(batch=batch))


def conv_params(cin: int, cout: int, k: int) -> int:
    return (cout * cin * k * k + cout) * F32


# three convolutions: 3x3 (3->8), in-place relu, 3x3 (8->16), 1x1 (16->4), over 3x32x32
CHAIN = """\
input: [3, 32, 32]
layers:
  - conv2d: {name: c1, out: 8, kernel: 3, padding: 1}
  - relu: {name: r1, inplace: true}
  - conv2d: {name: c2, out: 16, kernel: 3, padding: 1}
  - conv2d: {name: c3, out: 4, kernel: 1}
"""
HW = 32 * 32
CHAIN_PARAMS = conv_params(3, 8, 3) + conv_params(8, 16, 3) + conv_params(16, 4, 1)
CHAIN_INPUT = 3 * HW * F32
C1, C2, C3 = 8 * HW * F32, 16 * HW * F32, 4 * HW * F32

# linear layers over [4, 64]: nothing but outputs is allocated, in either direction
MLP = """\
input: [64]
layers:
  - linear: {name: fc1, out: 128}
  - relu: {name: act, inplace: INPLACE}
  - linear: {name: fc2, out: 32}
"""
MLP_PARAMS = (64 * 128 + 128 + 128 * 32 + 32) * F32


def mlp(tmp_path: Path, inplace: bool) -> LayerGraph:
    return load(tmp_path, MLP.replace("INPLACE", "true" if inplace else "false"), batch=4)


# --- inference ---------------------------------------------------------------------------------


@needs_torch
def test_inference_peak_of_a_conv_chain_is_params_input_and_the_largest_pair(tmp_path):
    from cnncalc.torch_backend.memory import measure_inference

    m = measure_inference(load(tmp_path, CHAIN))
    assert (m.params, m.buffers, m.inputs) == (CHAIN_PARAMS, 0, CHAIN_INPUT)
    assert m.baseline == CHAIN_PARAMS + CHAIN_INPUT
    # the relu overwrites c1's output; c2 reads it while writing its own: the largest pair
    assert m.tensor_peak == m.baseline + max(C1 + C2, C2 + C3)
    assert m.end == m.tensor_end == m.baseline + C3  # the output is kept
    # the allocator also sees the kernels' own buffers (im2col of the 3x3 convolutions)
    assert m.peak >= m.tensor_peak and m.unmatched == 0
    assert (m.mode, m.method, m.release, m.forward_peak) == ("inference", "profiler", True, None)


@needs_torch
def test_keeping_every_output_holds_them_all(tmp_path):
    from cnncalc.torch_backend.memory import measure_inference

    m = measure_inference(load(tmp_path, CHAIN), release=False)
    assert m.tensor_peak == m.baseline + C1 + C2 + C3
    assert m.end == m.baseline + C3


@needs_torch
@pytest.mark.parametrize("inplace", [True, False])
def test_inplace_relu_adds_nothing_and_both_methods_agree(tmp_path, inplace):
    from cnncalc.torch_backend.memory import measure_inference

    m = measure_inference(mlp(tmp_path, inplace))
    fc1, fc2 = 4 * 128 * F32, 4 * 32 * F32
    relu = 0 if inplace else fc1
    assert m.baseline == MLP_PARAMS + 4 * 64 * F32
    assert m.tensor_peak == m.baseline + max(fc1 + relu, fc1 + fc2, relu + fc2)
    assert m.peak == m.tensor_peak  # addmm and relu allocate nothing else
    assert m.end == m.baseline + fc2


@needs_torch
def test_concat_holds_its_inputs_and_its_output_at_once(tmp_path):
    from cnncalc.torch_backend.memory import measure_inference

    graph = load(tmp_path, """\
input: [4, 16, 16]
layers:
  - conv2d: {name: a, out: 8, kernel: 1}
  - conv2d: {name: b, out: 8, kernel: 1, from: input}
  - concat: {name: cat, from: [a, b]}
""", batch=2)
    m = measure_inference(graph)
    branch = 2 * 8 * 256 * F32
    assert m.baseline == 2 * conv_params(4, 8, 1) + 2 * 4 * 256 * F32
    assert m.peak == m.tensor_peak == m.baseline + 2 * branch + 2 * branch
    assert m.end == m.baseline + 2 * branch


@needs_torch
def test_following_tensors_does_not_change_what_the_allocator_sees(tmp_path, monkeypatch):
    # the dispatch mode and its storage finalizers run in the same region as the profiler:
    # they must not move a single allocation or free
    from cnncalc.torch_backend import memory

    graph = load(tmp_path, CHAIN + "  - batchnorm2d: {name: bn}\n  - maxpool2d: {name: pool, kernel: 2}\n",
                 batch=2)
    with_tracker = memory.measure_training(graph)

    class Untracked:
        def __init__(self, torch: object, known: object) -> None:
            self.timeline = memory._Timeline()

        def __enter__(self) -> Untracked:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def close(self) -> None:
            pass

    monkeypatch.setattr(memory, "_storage_tracker", Untracked)
    without = memory.measure_training(graph)
    for field in ("peak", "end", "forward_peak", "after_forward"):
        assert getattr(with_tracker, field) == getattr(without, field), field
    assert without.tensor_peak == without.baseline  # nothing was followed


@needs_torch
def test_inference_mode_allocates_like_no_grad(tmp_path):
    from cnncalc.torch_backend.memory import measure_inference

    graph = load(tmp_path, CHAIN + "  - batchnorm2d: {name: bn}\n  - maxpool2d: {name: pool, kernel: 2}\n")
    no_grad, inference = measure_inference(graph), measure_inference(graph, inference_mode=True)
    for field in ("baseline", "peak", "end", "tensor_peak", "tensor_end"):
        assert getattr(no_grad, field) == getattr(inference, field), field


@needs_torch
def test_max_pool_allocates_its_int64_indices_even_without_grad(tmp_path):
    # on the CPU torch's max_pool2d runs max_pool2d_with_indices under no_grad too: the int64
    # indices (twice the float32 output) are allocated and dropped at once
    from cnncalc.torch_backend.memory import measure_inference

    graph = load(tmp_path, "input: [4, 16, 16]\nlayers:\n  - maxpool2d: {name: pool, kernel: 2}\n", batch=2)
    m = measure_inference(graph)
    out = 2 * 4 * 8 * 8
    assert m.peak == m.tensor_peak == m.baseline + out * F32 + out * 8
    assert m.end == m.baseline + out * F32


# --- training ----------------------------------------------------------------------------------


@needs_torch
def test_training_step_of_an_mlp_by_hand(tmp_path):
    from cnncalc.torch_backend.memory import measure_training

    m = measure_training(mlp(tmp_path, inplace=False))
    fc1, fc2 = 4 * 128 * F32, 4 * 32 * F32
    assert m.baseline == MLP_PARAMS + 4 * 64 * F32
    # forward: fc1's output is read by the relu only (which saves its own output): at most
    # fc1 + relu at once; after it, relu's output (saved by relu and fc2) and fc2's output
    assert m.forward_peak == m.tensor_forward_peak == m.baseline + 2 * fc1
    assert m.after_forward == m.tensor_after_forward == m.baseline + fc1 + fc2
    # backward ends holding every gradient (as large as the parameters), the gradient that
    # flowed through the relu, the output (the step's caller still holds it) and scalars (the
    # loss and its seed)
    assert m.peak == m.tensor_peak
    assert 0 <= m.peak - (m.baseline + MLP_PARAMS + fc1 + fc2) <= 16
    assert m.end == m.tensor_end == m.baseline  # zero_grad(set_to_none=True) freed the gradients
    assert (m.mode, m.unmatched) == ("training", 0)


@needs_torch
def test_training_step_of_a_conv_chain(tmp_path):
    from cnncalc.torch_backend.memory import measure_training

    m = measure_training(load(tmp_path, CHAIN))
    # kept for backward: c1's output (relu's saved output, c2's saved input), c2's output (c3's
    # input); and the output; the input is saved too but is in the baseline
    assert m.tensor_after_forward == m.after_forward == m.baseline + C1 + C2 + C3
    assert m.tensor_forward_peak == m.baseline + C1 + C2 + C3
    assert m.forward_peak is not None and m.forward_peak >= m.tensor_forward_peak
    assert m.peak >= m.tensor_peak >= m.baseline + CHAIN_PARAMS  # the gradients exist at once
    assert m.end == m.tensor_end == m.baseline


# --- saved for backward ------------------------------------------------------------------------


def summary(saved):  # type: ignore[no-untyped-def]
    """Per layer: (dtype, shape, flag) of each saved tensor."""
    def flag(t):  # type: ignore[no-untyped-def]
        return "param" if t.is_parameter else "buffer" if t.is_buffer else "input" if t.is_input else "act"
    return {name: [(t.dtype, t.shape, flag(t)) for t in layer.tensors] for name, layer in saved.items()}


@needs_torch
def test_what_conv_relu_batchnorm_maxpool_and_linear_save(tmp_path):
    from cnncalc.torch_backend.memory import saved_bytes, saved_for_backward

    graph = load(tmp_path, """\
input: [3, 8, 8]
layers:
  - conv2d: {name: conv, out: 4, kernel: 3, padding: 1}
  - batchnorm2d: {name: bn}
  - relu: {name: relu}
  - maxpool2d: {name: pool, kernel: 2}
  - flatten: {name: flat}
  - linear: {name: fc, out: 10}
""", batch=2)
    saved = saved_for_backward(graph)
    x, act, pooled = (2, 3, 8, 8), (2, 4, 8, 8), (2, 4, 4, 4)
    assert summary(saved) == {
        "conv": [("float32", x, "input"), ("float32", (4, 3, 3, 3), "param")],
        "bn": [("float32", act, "act"), ("float32", (4,), "buffer"), ("float32", (4,), "buffer"),
               ("float32", (4,), "param"), ("float32", (4,), "act"), ("float32", (4,), "act")],
        "relu": [("float32", act, "act")],
        "pool": [("float32", act, "act"), ("int64", pooled, "act")],
        "fc": [("float32", (2, 64), "act"), ("float32", (64, 10), "param")],  # weight.t()
    }
    a, p = math.prod(act) * F32, math.prod(pooled)
    per_layer = saved_bytes(saved).per_layer
    assert per_layer == {
        "conv": math.prod(x) * F32,
        "bn": a + 2 * 4 * F32,  # its input, and the batch mean and inverse std per channel
        "relu": a,  # its output
        "pool": a + p * 8,  # its input (relu's output, the same storage) and int64 indices
        "fc": p * F32,  # its input: the flatten is a view of the pool's output
    }
    total = saved_bytes(saved)
    assert total.total == sum(per_layer.values()) - a  # relu's output counted once
    assert total.inputs == math.prod(x) * F32


@needs_torch
def test_after_the_forward_what_is_held_is_what_was_saved_and_the_output(tmp_path):
    # two independent views of one moment: the packing hooks' saved storages, and the storages
    # (and allocator blocks) alive when the training forward returns
    from cnncalc.torch_backend.memory import measure_training, saved_bytes, saved_for_backward

    graph = load(tmp_path, """\
input: [3, 8, 8]
layers:
  - conv2d: {name: conv, out: 8, kernel: 1}
  - batchnorm2d: {name: bn}
  - relu: {name: relu, inplace: true}
  - conv2d: {name: branch, out: 8, kernel: 1, from: input}
  - add: {name: res, from: [relu, branch]}
  - maxpool2d: {name: pool, kernel: 2}
  - flatten: {name: flat}
  - dropout: {name: drop, p: 0.5}
  - linear: {name: fc, out: 10}
""", batch=2)
    saved = saved_bytes(saved_for_backward(graph))
    m = measure_training(graph)
    held = m.baseline + saved.total - saved.inputs + 2 * 10 * F32
    assert m.tensor_after_forward == m.after_forward == held
    assert m.unmatched == 0


@needs_torch
def test_inplace_relu_saves_the_overwritten_storage_and_relu6_a_copy(tmp_path):
    from cnncalc.torch_backend.memory import measure_training, saved_for_backward

    chain = saved_for_backward(load(tmp_path, CHAIN))
    conv_output = chain["c2"].tensors[0]  # c2's input: c1's output, overwritten by the relu
    assert chain["r1"].tensors == (conv_output,)

    relu6 = load(tmp_path, "input: [64]\nlayers:\n  - linear: {name: fc, out: 128}\n"
                           "  - relu6: {name: act, inplace: true}\n", batch=4)
    saved = saved_for_backward(relu6)
    assert summary(saved)["act"] == [("float32", (4, 128), "act")]
    # in place or not, relu6 (hardtanh_) keeps a clone of its input: two tensors after forward
    m = measure_training(relu6)
    assert m.tensor_after_forward == m.after_forward == m.baseline + 2 * 4 * 128 * F32


@needs_torch
def test_dropout_saves_a_float_mask_on_the_cpu(tmp_path):
    from cnncalc.torch_backend.memory import saved_bytes, saved_for_backward

    graph = load(tmp_path, "input: [64]\nlayers:\n  - linear: {name: fc, out: 128}\n"
                           "  - dropout: {name: drop, p: 0.5}\n", batch=4)
    saved = saved_for_backward(graph)
    assert summary(saved)["drop"] == [("float32", (4, 128), "act")]  # not a bool mask
    assert saved_bytes(saved).per_layer["drop"] == 4 * 128 * F32


@needs_torch
def test_a_frozen_first_layer_saves_nothing(tmp_path):
    from cnncalc.torch_backend.memory import saved_for_backward

    frozen = CHAIN.replace("name: c1,", "name: c1, trainable: false,")
    saved = saved_for_backward(load(tmp_path, frozen))
    assert "c1" not in saved and "r1" not in saved  # nothing upstream of c2 needs a gradient
    assert summary(saved)["c2"] == [("float32", (1, 8, 32, 32), "act"), ("float32", (16, 8, 3, 3), "param")]


# --- the executor --------------------------------------------------------------------------


@needs_torch
def test_run_graph_computes_what_graph_module_computes(tmp_path):
    import torch

    from cnncalc.torch_backend.build import build, example_inputs
    from cnncalc.torch_backend.memory import run_graph

    graph = load(tmp_path, """\
input: [3, 16, 16]
layers:
  - conv2d: {name: c1, out: 4, kernel: 3, padding: 1}
  - maxpool2d: {name: pool1, kernel: 2}
  - conv2d: {name: c2, out: 4, kernel: 3, padding: 1}
  - add: {name: res, from: [c2, pool1]}
  - max_unpool2d: {name: unpool1, indices: pool1, kernel: 2}
""")
    model = build(graph).eval()
    inputs = example_inputs(graph)
    with torch.no_grad():
        expected = model(*inputs)
        for release in (True, False):
            assert torch.equal(run_graph(model, inputs, release=release), expected)


# --- devices and a real network ------------------------------------------------------------


@needs_torch
@pytest.mark.skipif(not HAS_CUDA, reason="no CUDA device")
def test_cuda_measures_with_the_caching_allocator(tmp_path):  # pragma: no cover - needs a GPU
    from cnncalc.torch_backend.memory import measure_inference, measure_training

    graph = load(tmp_path, CHAIN)
    m = measure_inference(graph, "cuda")
    assert m.method == "cuda" and m.device == "cuda"
    assert m.tensor_peak == m.baseline + C1 + C2
    assert m.peak >= m.tensor_peak  # blocks rounded up to 512 bytes, cuDNN workspaces
    t = measure_training(graph, "cuda")
    assert t.forward_peak is not None and t.after_forward is not None
    assert t.peak >= t.forward_peak >= t.after_forward >= t.baseline


@needs_torch
def test_cuda_without_a_gpu_is_backend_unavailable(tmp_path):
    from cnncalc.errors import BackendUnavailable
    from cnncalc.torch_backend.memory import measure_inference

    if HAS_CUDA:
        pytest.skip("a CUDA device is present")
    with pytest.raises(BackendUnavailable):
        measure_inference(load(tmp_path, CHAIN), "cuda")


@needs_torch
def test_resnet50_inference_runs_and_peaks_above_its_baseline():
    from cnncalc.torch_backend.memory import measure_inference

    m = measure_inference(load_graph("resnet50"))
    assert m.params == 25_557_032 * F32
    assert m.peak >= m.tensor_peak > m.baseline
    assert m.end == m.baseline + 1000 * F32 and m.unmatched == 0
