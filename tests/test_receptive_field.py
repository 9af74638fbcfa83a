"""Receptive fields against a gradient probe in torch, and the effective RF against the
gradient of a uniform-weight network (Luo et al. 2016)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cnncalc.analysis.erf import effective_field
from cnncalc.analysis.receptive_field import receptive_fields
from cnncalc.analysis.shapes import infer_shapes
from cnncalc.errors import ShapeError
from cnncalc.spec import load_graph
from tests.conftest import needs_torch

conv = st.tuples(st.just("conv1d"), st.integers(1, 5), st.integers(1, 3), st.integers(0, 2), st.integers(1, 3))
pool = st.tuples(st.just("avgpool1d"), st.integers(1, 4), st.integers(1, 3), st.integers(0, 2), st.just(1))
chains = st.lists(st.one_of(conv, pool), min_size=1, max_size=5)


def chain_spec(path: Path, layers: list[tuple[str, int, int, int, int]], length: int = 300) -> Path:
    lines = ["name: probe", f"input: [2, {length}]", "layers:"]
    for kind, k, s, p, d in layers:
        if kind == "conv1d":
            lines.append(f"  - conv1d: {{out: 2, kernel: {k}, stride: {s}, padding: {p}, dilation: {d}, bias: false}}")
        else:
            lines.append(f"  - avgpool1d: {{kernel: {k}, stride: {s}, padding: {min(p, k // 2)}}}")
    path.write_text("\n".join(lines) + "\n")
    return path


def chain_graph(tmp_path: Path, layers):  # type: ignore[no-untyped-def]
    """The graph of a generated chain; chains whose shapes do not fit are not test cases."""
    try:
        graph = load_graph(str(chain_spec(tmp_path / "chain.yaml", layers)))
        return graph, infer_shapes(graph)
    except ShapeError:
        assume(False)
        raise


def probe(graph, weight_of):  # type: ignore[no-untyped-def]
    """Input gradient of the centre unit of channel 0 of the last layer, weights set by weight_of."""
    import torch

    from cnncalc.torch_backend.build import build, example_inputs

    model = build(graph).double()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (torch.nn.Conv1d, torch.nn.Conv2d)):
                module.weight.fill_(weight_of(module))
    x = example_inputs(graph, dtype=torch.float64)[0].requires_grad_(True)
    y = model(x)
    index = (0, 0, *(n // 2 for n in y.shape[2:]))
    y[index].backward()
    return x.grad[0].sum(dim=0), index[2:]  # summed over input channels


@needs_torch
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chains)
def test_rf_matches_gradient_support(tmp_path, layers):
    graph, shapes = chain_graph(tmp_path, layers)
    rf = receptive_fields(graph, shapes)[list(graph.nodes)[-1]]
    grad, unit = probe(graph, lambda m: 1.0)
    axis = rf.axes[0]
    centre = axis.start + unit[0] * axis.jump
    low, high = centre - (axis.size - 1) / 2, centre + (axis.size - 1) / 2
    assume(low >= 0 and high <= grad.shape[0] - 1)  # field inside the input: no clipping
    support = grad.nonzero().flatten().tolist()
    assert (Fraction(support[0]), Fraction(support[-1])) == (low, high)


@needs_torch
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chains)
def test_effective_rf_matches_uniform_network_gradient(tmp_path, layers):
    graph, shapes = chain_graph(tmp_path, layers)
    last = list(graph.nodes)[-1]
    rf = receptive_fields(graph, shapes)[last]
    grad, unit = probe(graph, lambda m: 1.0 / m.weight[0].numel())
    axis = rf.axes[0]
    centre = axis.start + unit[0] * axis.jump
    assume(centre - (axis.size - 1) / 2 >= 0 and centre + (axis.size - 1) / 2 <= grad.shape[0] - 1)
    (field,) = effective_field(graph, shapes, last)
    expected = (grad / grad.sum()).tolist()
    assert field.axes[0].weights == pytest.approx(expected, abs=1e-12)


def test_three_stacked_3x3_convs_see_7x7(tmp_path):
    # REFERENCE.md section 4: three 3x3 stride-1 convs see 7x7, like one 7x7 conv
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "input: [3, 32, 32]\nlayers:\n"
        + "".join("  - conv2d: {out: 8, kernel: 3, padding: 1}\n" for _ in range(3))
    )
    graph = load_graph(str(spec))
    rf = receptive_fields(graph, infer_shapes(graph))[list(graph.nodes)[-1]]
    assert [(a.size, a.jump, a.start) for a in rf.axes] == [(7, 1, 0), (7, 1, 0)]


def test_resnet50_final_stage_field():
    # Composed by hand for torchvision's ResNet-50 (stride on the 3x3): conv1 7x7/2 -> 7 (jump 2);
    # maxpool 3x3/2 -> 7 + 2*2 = 11 (jump 4); each 3x3 conv adds 2*jump: layer1 3 convs at jump 4
    # -> 35; layer2 first 3x3 at jump 4 -> 43 (jump 8), 3 more at 8 -> 91; layer3 first at 8 ->
    # 107 (jump 16), 5 more at 16 -> 267; layer4 first at 16 -> 299 (jump 32), 2 more -> 427.
    graph = load_graph("resnet50")
    fields = receptive_fields(graph, infer_shapes(graph))
    rf = fields["layer4.2.relu3"]
    assert [a.size for a in rf.axes] == [427, 427]
    assert [a.jump for a in rf.axes] == [32, 32]


def test_branches_on_different_grids_are_flagged(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "input: [4, 32, 32]\nlayers:\n"
        "  - conv2d: {name: a, out: 4, kernel: 3, stride: 2, padding: 1}\n"
        "  - avgpool2d: {name: b, from: input, kernel: 2, stride: 2}\n"
        "  - add: {name: sum, from: [a, b]}\n"
        "  - conv2d: {name: c, from: input, out: 4, kernel: 1, stride: 2}\n"
        "  - add: {name: aligned, from: [a, c]}\n"
    )
    graph = load_graph(str(spec))
    fields = receptive_fields(graph, infer_shapes(graph))
    assert not fields["sum"].aligned  # unit 0 centred at 0 in `a`, at 0.5 in `b`
    assert fields["aligned"].aligned
    assert [a.size for a in fields["aligned"].axes] == [3, 3]  # union of 3 and 1 around 0


def test_no_field_after_flatten():
    graph = load_graph("lenet5")
    fields = receptive_fields(graph, infer_shapes(graph))
    assert fields["conv3"] is not None and [a.size for a in fields["conv3"].axes] == [32, 32]
    assert fields["fc1"] is None


def test_size_only_input_does_not_enter_the_field(tmp_path):
    # U-Net's skip: crop the encoder map to the decoder's size; the decoder branch only gives a size
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "input: [4, 64, 64]\nlayers:\n"
        "  - conv2d: {name: enc, out: 4, kernel: 3}\n"
        "  - maxpool2d: {name: down, kernel: 2}\n"
        "  - conv2d: {name: deep, out: 4, kernel: 5}\n"
        "  - center_crop: {name: crop, from: [enc, deep]}\n"
    )
    graph = load_graph(str(spec))
    shapes = infer_shapes(graph)
    fields = receptive_fields(graph, shapes)
    assert shapes["crop"] == shapes["deep"]
    # enc 62 -> pool 31 -> deep 27; the crop keeps enc's field, unit 0 shifted by (62 - 27) // 2 = 17
    assert [(a.size, a.jump, a.start) for a in fields["crop"].axes] == [(3, 1, 1 + 17)] * 2
    (field,) = effective_field(graph, shapes, "crop")
    assert sum(1 for w in field.axes[0].weights if w > 0) == 3  # only enc's 3 taps


@needs_torch
def test_squeeze_excitation_gate_widens_the_field_to_the_whole_input(tmp_path):
    """The SE gate ([N, C, 1] broadcast over [N, C, L]) makes every unit depend on the whole
    input; the grid (jump, start) stays the feature branch's, so later adds stay aligned."""
    spec = tmp_path / "se.yaml"
    spec.write_text(
        "input: [2, 16]\nlayers:\n"
        "  - conv1d: {name: main, out: 4, kernel: 3, padding: 1}\n"
        "  - adaptive_avgpool1d: {name: squeeze, output_size: 1}\n"
        "  - conv1d: {name: excite, out: 4, kernel: 1}\n"
        "  - sigmoid: {name: gate}\n"
        "  - multiply: {name: scaled, from: [main, gate]}\n"
        "  - add: {name: residual, from: [scaled, main]}\n"
    )
    graph = load_graph(str(spec))
    fields = receptive_fields(graph, infer_shapes(graph))
    (axis,) = fields["residual"].axes
    assert fields["residual"].aligned and axis.jump == 1 and axis.start == 0
    low, high = axis.start - (axis.size - 1) / 2 + 8 * axis.jump, axis.start + (axis.size - 1) / 2 + 8 * axis.jump
    grad, unit = probe(graph, lambda m: 1.0)
    support = grad.nonzero().flatten().tolist()
    assert unit == (8,) and support == list(range(16))
    assert low <= 0 and high >= 15  # the field covers the gradient's support
