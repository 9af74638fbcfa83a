"""The bundled zoo against independent references.

- Published parameter counts (../shared/reference/REFERENCE.md: torchvision's `num_params` and
  the papers' figures), exact.
- Published multiply-adds where a paper or torchvision states them: exact where the figure is
  exact, within the printed precision where it is rounded.
- `cnncalc verify` of every spec (the model built in torch by cnncalc's backend): every node's
  output shape (on the meta device), parameter and buffer counts, conv+linear MACs of every node
  as fvcore counts them, forward and backward FLOPs as torch's FlopCounterMode counts them, and
  receptive fields by a gradient probe.
"""

from __future__ import annotations

import re

import pytest

from cnncalc.analysis import analyze
from cnncalc.spec import Overrides, load_graph, resolve_spec, zoo_names
from cnncalc.torch_backend.verify import verify
from tests.conftest import needs_fvcore

ZOO = zoo_names()

# REFERENCE.md section 1 (torchvision) and section 2 (papers).
PUBLISHED_PARAMS = {
    "lenet5": 61_706,
    "mnist1d_cnn": 2_050,
    "alexnet": 61_100_840,
    "alexnet_original": 60_965_224,
    "vgg11": 132_863_336, "vgg13": 133_047_848, "vgg16": 138_357_544, "vgg19": 143_667_240,
    "vgg11_bn": 132_868_840, "vgg13_bn": 133_053_736, "vgg16_bn": 138_365_992,
    "vgg19_bn": 143_678_248,
    "vgg16_c": 133_638_952,
    "resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032,
    "resnet101": 44_549_160, "resnet152": 60_192_808,
    "resnet50_v1": 25_557_032,  # the stride moves, the weights stay
    "resnext50_32x4d": 25_028_904,
    "wide_resnet50_2": 68_883_240,
    "resnet20": 269_722, "resnet32": 464_154, "resnet44": 658_586, "resnet56": 853_018,
    "resnet110": 1_727_962,
    "googlenet": 6_624_904,
    "inception_v3": 27_161_264,
    "densenet121": 7_978_856, "densenet169": 14_149_480, "densenet201": 20_013_928,
    "mobilenet_v1": 4_231_976,
    "mobilenet_v2": 3_504_872,
    "mobilenet_v3_large": 5_483_032, "mobilenet_v3_small": 2_542_856,
    "squeezenet1_0": 1_248_424, "squeezenet1_1": 1_235_496,
    "shufflenet_v2_x1_0": 2_278_604,
    "xception": 22_855_952 + 54_528,  # trainable + Keras's BN moving statistics: see below
    "efficientnet_b0": 5_288_548, "efficientnet_b1": 7_794_184, "efficientnet_b2": 9_109_994,
    "efficientnet_b3": 12_233_232, "efficientnet_b4": 19_341_616, "efficientnet_b5": 30_389_784,
    "efficientnet_b6": 43_040_704, "efficientnet_b7": 66_347_960,
}
# The 1998 LeNet-5's 60,000 are its trainable parameters (the RBF centres were fixed by hand).
PUBLISHED_TRAINABLE = {"lenet5_original": 60_000}
# Specs the issue names without a published parameter count (checked against torch below).
UNPUBLISHED = ("cifar_convnet", "zfnet", "unet", "unet_padded", "fcn8s", "conv_autoencoder", "yolov1")

# Xception's published figure counts BN moving statistics as Keras "non-trainable params"; in
# cnncalc (as in torch) they are buffers, so params = 22,855,952 and buffers = 54,528.
PARAMS_WITHOUT_BUFFERS = {"xception": (22_855_952, 54_528)}

# Published multiply-adds: (figure, relative tolerance). 0 means exact.
PUBLISHED_MACS = {
    "alexnet_original": (724_406_816, 0),     # conv 665,784,864 + FC 58,621,952
    "mobilenet_v1": (568_740_352, 0),          # Howard et al. 2017, conv + FC
    "resnet18": (1.8e9, 0.05), "resnet34": (3.6e9, 0.05),  # He et al. 2016, Table 1
    "resnet50_v1": (3.8e9, 0.05), "resnet101": (7.6e9, 0.05), "resnet152": (11.3e9, 0.05),
    "mobilenet_v2": (300e6, 0.05),             # Sandler et al. 2018
    "inception_v3": (5e9, 0.2),                # "5 billion multiply-adds"
    "efficientnet_b0": (0.39e9, 0.05), "efficientnet_b1": (0.70e9, 0.05),
    "efficientnet_b2": (1.0e9, 0.1), "efficientnet_b3": (1.8e9, 0.05),
    "efficientnet_b4": (4.2e9, 0.06), "efficientnet_b5": (9.9e9, 0.05),
    "efficientnet_b6": (19e9, 0.05), "efficientnet_b7": (37e9, 0.05),
}


def test_the_zoo_has_every_spec_the_issue_names():
    missing = sorted({*PUBLISHED_PARAMS, *PUBLISHED_TRAINABLE, *UNPUBLISHED} - set(ZOO))
    assert not missing, missing


@pytest.mark.parametrize("name", ZOO)
def test_spec_header_names_its_source(name):
    text = resolve_spec(name).read_text()
    header = re.match(r"(?:#.*\n)+", text)
    assert header and len(header.group(0).splitlines()) >= 2, f"{name}: no header comment"


@pytest.mark.parametrize("name", sorted(set(PUBLISHED_PARAMS) & set(ZOO)))
def test_published_parameter_counts(name):
    totals = analyze(load_graph(name)).totals
    if name in PARAMS_WITHOUT_BUFFERS:
        assert (totals.params, totals.buffers) == PARAMS_WITHOUT_BUFFERS[name]
    else:
        assert totals.params == PUBLISHED_PARAMS[name]


def test_lenet5_original_trainable_parameters_and_connections():
    report = analyze(load_graph("lenet5_original"))
    assert report.totals.trainable_params == PUBLISHED_TRAINABLE["lenet5_original"]
    assert report.totals.non_trainable_params == 840  # 10 RBF centres of 84
    # LeCun et al. count 340,908 connections: every weight use, bias included (and the
    # subsampling layers' k*k-input sum + coefficient + bias per unit)
    flops = report.totals.flops_by_category
    assert report.totals.macs + flops["bias"] + flops["pool"] == 340_908


@pytest.mark.parametrize("name", sorted(set(PUBLISHED_MACS) & set(ZOO)))
def test_published_macs(name):
    figure, tolerance = PUBLISHED_MACS[name]
    macs = analyze(load_graph(name)).totals.macs
    if tolerance == 0:
        assert macs == figure
    else:
        assert abs(macs - figure) <= tolerance * figure, f"{macs:,} vs {figure:,.0f}"


#: specs whose default input makes the receptive-field probe slow (572x572, 500x500): fewer probes
FEW_PROBES = {"unet": 3, "unet_padded": 3, "fcn8s": 3}


@needs_fvcore
@pytest.mark.parametrize("name", ZOO)
def test_verify_passes_on_every_bundled_spec(name):
    """`cnncalc verify` on CPU: shapes, params, buffers, MACs (fvcore), forward and backward FLOPs
    (FlopCounterMode) and probed receptive fields, every layer, no mismatch."""
    graph = load_graph(name)
    result = verify(graph, "cpu", probes=FEW_PROBES.get(name, 8), memory=False)  # peaks: test_memory_peaks
    assert result.mismatches == []
    checked = result.counts()
    assert {"shape", "params", "buffers", "macs", "flops", "backward_flops", "rf"} <= set(checked)
    assert checked["shape"][1] == len([n for n in graph if not n.is_input])


# Howard et al. 2017, Tables 6 and 7: (vars, MACs, params without BN); BN adds gamma/beta.
MOBILENET_V1 = [
    ({"alpha": 1.0}, 568_740_352, 4_210_088),
    ({"alpha": 0.75}, 325_400_448, 2_569_144),
    ({"alpha": 0.5}, 149_497_088, 1_320_648),
    ({"alpha": 0.25}, 41_030_272, 464_600),
    ({"resolution": 192}, 418_121_728, 4_210_088),
    ({"resolution": 160}, 290_675_200, 4_210_088),
    ({"resolution": 128}, 186_400_768, 4_210_088),
]


@pytest.mark.parametrize(("knobs", "macs", "params"), MOBILENET_V1, ids=[str(k) for k, *_ in MOBILENET_V1])
def test_mobilenet_v1_width_and_resolution_multipliers(knobs, macs, params):
    totals = analyze(load_graph("mobilenet_v1", Overrides(vars={**knobs, "batch_norm": False}))).totals
    assert (totals.macs, totals.params) == (macs, params)


def test_mobilenet_v1_with_batch_norm_adds_gamma_and_beta():
    assert analyze(load_graph("mobilenet_v1")).totals.params == 4_231_976


@pytest.mark.parametrize(("name", "knobs", "params"), [
    ("inception_v3", {"aux_logits": False}, 23_834_568),   # torchvision, aux head excluded
    ("densenet121", {"growth_rate": 48, "num_init_features": 96, "block3": 36, "block4": 24},
     28_681_000),                                          # = torchvision densenet161
])
def test_published_variants_through_vars(name, knobs, params):
    assert analyze(load_graph(name, Overrides(vars=knobs))).totals.params == params


@pytest.mark.parametrize(("name", "figure"), [("resnet101", 7.6e9), ("resnet152", 11.3e9)])
def test_resnet_paper_macs_with_the_stride_on_the_first_1x1(name, figure):
    """He et al. 2016, Table 1 counts the original bottleneck (stride on the first 1x1)."""
    macs = analyze(load_graph(name, Overrides(vars={"stride_on_1x1": True}))).totals.macs
    assert abs(macs - figure) <= 0.01 * figure
