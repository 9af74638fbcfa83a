"""The exam generator: reproducibility, distractors, published examples, the command line.

Every key below is checked against a number published outside cnncalc (EXAM.md Appendix B and
§5, the seed lecture notes) or against torch (tests/test_exam_stress.py runs every template's
snippet over 1,000 seeds); the misconception functions must reproduce the published *wrong*
answers too.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from fractions import Fraction
from random import Random

import pytest

from cnncalc.calc import numeric
from cnncalc.cli.app import main
from cnncalc.exam import misconceptions as m
from cnncalc.exam.engine import chain
from cnncalc.exam.generate import derive_seed, generate, plan
from cnncalc.exam.manifest import FORMATS, regenerate, render
from cnncalc.exam.model import Draft, ExamConfig, Part
from cnncalc.exam.templates import TEMPLATES
from cnncalc.exam.templates.design import Configure, pattern_of
from cnncalc.exam.templates.sizes import InferStride
from cnncalc.window import conv_output_size, transposed_output_size
from tests.conftest import needs_torch


def build(template: str, convention: str = "pytorch", **params: object) -> Draft:
    return TEMPLATES[template].build(dict(params), Random(0), convention)


def key(draft: Draft, index: int = 0) -> object:
    return draft.parts[index].key


def wrong(part: Part) -> dict[str, object]:
    return {o.tag: o.value for o in part.wrong}


# -- reproducibility --------------------------------------------------------------------------


def test_item_seed_is_sha256_of_master_index_template_version():
    text = b"cnncalc.exam/42/3/conv_output_size/1"
    assert derive_seed(42, 3, "conv_output_size", 1) == int.from_bytes(hashlib.sha256(text).digest()[:8], "big")


def test_the_same_config_gives_the_same_bytes_and_another_seed_another_exam():
    config = ExamConfig(seed=7, count=12, difficulty=3)
    first = render(generate(config, "off"), FORMATS)
    assert first == render(generate(config, "off"), FORMATS)
    other = render(generate(ExamConfig(seed=8, count=12, difficulty=3), "off"), FORMATS)
    assert other["exam.md"] != first["exam.md"]


def test_plan_cycles_the_selected_templates():
    config = ExamConfig(seed=1, count=6, templates=("conv_output_size", "conv_params", "T30"), difficulty=2)
    assert Counter(t.id for t in plan(config)) == {"conv_output_size": 2, "conv_params": 2, "shape_trace": 2}


def test_regenerate_reproduces_every_file_and_flags_an_edited_one():
    config = ExamConfig(seed=3, count=8, difficulty=2)
    files = render(generate(config, "off"), ["markdown", "gift"])
    data = json.loads(files["manifest.json"])
    again, differ = regenerate(data, "off")
    assert differ == [] and {k: v for k, v in again.items()} == files
    data["files"]["exam.gift"] = "0" * 64
    assert regenerate(data, "off")[1] == ["exam.gift"]


def test_the_catalogue_covers_the_issue():
    assert len(TEMPLATES) >= 20
    ids = set(TEMPLATES)
    required = {"conv_output_size", "pool_output_size", "transposed_output_size", "conv_params", "dense_params",
                "locally_connected_params", "grouped_conv", "depthwise_separable", "network_params", "conv_macs",
                "bottleneck", "receptive_field", "activation_memory", "conv2d_by_hand", "pool_by_hand",
                "unpool_by_hand", "toeplitz", "configure", "find_the_error", "shape_trace"}
    assert required <= ids


# -- items ----------------------------------------------------------------------------------------


def all_items(difficulty: int, convention: str = "pytorch", count: int = 120):
    return generate(ExamConfig(seed=difficulty, count=count, difficulty=difficulty, convention=convention), "off").items


@pytest.mark.parametrize("difficulty", [1, 2, 3, 4])
@pytest.mark.parametrize("convention", ["pytorch", "keras"])
def test_options_are_distinct_tagged_and_explained(difficulty, convention):
    for item in all_items(difficulty, convention):
        assert item.draft.solution and item.draft.stem
        lines = item.draft.snippet
        assert 3 <= len(lines) <= 5 and all(line.isascii() for line in lines), item.id
        for part in item.parts:
            assert sum(o.correct for o in part.options) == 1
            values = [o.value for o in part.options]
            texts = [o.text for o in part.options]
            assert len(set(texts)) == len(texts), (item.id, texts)
            for option in part.wrong:
                assert option.tag in m.CATALOGUE or option.tag == "filler", option.tag
                assert option.feedback
                if isinstance(option.value, (int, Fraction)):
                    gap = abs(Fraction(option.value) - Fraction(part.key)) / part.scale  # type: ignore[arg-type]
                    assert gap > 2 * part.tolerance, (item.id, option)
            if part.kind == "choice":
                assert len(values) >= 3, (item.id, texts)


def test_the_key_of_a_choice_sits_anywhere():
    positions = Counter()
    for difficulty in (1, 2, 3):
        for item in all_items(difficulty, count=150):
            for part in item.parts:
                if part.kind == "choice" and len(part.options) == 4:
                    positions[next(i for i, o in enumerate(part.options) if o.correct)] += 1
    total = sum(positions.values())
    assert total > 100 and all(positions[i] > total * 0.12 for i in range(4)), positions


def test_bad_options_are_usage_errors():
    from cnncalc.errors import UsageError
    for config, message in [(ExamConfig(difficulty=5), "--difficulty 5"),
                            (ExamConfig(templates=("conv_outptu_size",)), "unknown template"),
                            (ExamConfig(templates=("configure",), difficulty=1), "has no difficulty 1"),
                            (ExamConfig(convention="tf"), "expected pytorch or keras"),
                            (ExamConfig(count=0), "--count 0")]:
        with pytest.raises(UsageError, match=message):
            plan(config)


# -- published values (EXAM.md Appendix B, §2 examples, §5 mistakes, the seed notes) --------------


@pytest.mark.parametrize("n, k, s, p, d, out", [
    (63, 7, 2, 0, 1, 29), (121, 4, 3, 0, 1, 40), (224, 7, 2, 3, 1, 112), (224, 7, 2, 3, 2, 109),
    (32, 6, 2, 1, 1, 15), (227, 11, 4, 0, 1, 55), (224, 11, 4, 0, 1, 54),
])
def test_conv_output_sizes(n, k, s, p, d, out):
    assert key(build("conv_output_size", n=n, k=k, s=s, p=p, d=d, cin=3, cout=96)) == out


def test_the_gift_example_of_exam_md():
    draft = build("conv_output_size", n=63, k=7, s=2, p=0, d=1, cin=16, cout=32)
    assert key(draft) == 29
    assert {"no_plus_one": 28, "ignore_stride": 57, "depth_as_size": 32}.items() <= wrong(draft.parts[0]).items()


def test_the_coursera_parameter_question_and_its_published_wrong_key():
    draft = build("conv_params", k=5, cin=3, cout=100, n=300, bias=True)
    assert key(draft) == 7600
    assert wrong(draft.parts[0]) == {"forgot_cin": 2600, "forgot_bias": 7500, "dense_instead": 27000100}
    error = build("find_the_error", variant="forgot_depth", k=5, cin=3, cout=100, n=300)
    assert key(error) == 7600 and "2,600" in error.stem


@pytest.mark.parametrize("variant, n, k, s, p, claim, out", [
    ("padding_twice", 32, 6, 2, 1, 16, 15),     # EXAM.md §5 #21
    ("ceil_proposal", 224, 11, 4, 0, 55, 54),    # §5 #3: AlexNet's 224 input
    ("seed_slide", 32, 5, 1, 2, 30, 32),         # seed 004's ⌊(H + 2P − K)/S − 1⌋
    ("kernel_sign", 32, 5, 1, 0, 38, 28),        # §5 #6: (W + F + 2P)/S + 1
    ("precedence", 63, 7, 2, 0, 18, 29),         # §5 #5: (W − F + 2P)/(S + 1)
])
def test_find_the_error_reproduces_published_mistakes(variant, n, k, s, p, claim, out):
    draft = build("find_the_error", variant=variant, n=n, k=k, s=s, p=p, d=1, c=16)
    assert key(draft) == out
    assert draft.parts[0].wrong[0].value == claim and f"gives {claim}." in draft.stem


def test_tensorflow_same_with_stride_two_on_28_is_14_not_15():
    draft = build("tf_same_padding", n=28, k=3, s=2, c=3)
    assert [p.key for p in draft.parts] == [14, 0, 1, 13]
    assert wrong(draft.parts[0]) == {"same_keeps_size": 28}


@pytest.mark.parametrize("n, k, s, p, ceil, out", [
    (112, 3, 2, 0, False, 55), (112, 3, 2, 0, True, 56), (5, 3, 3, 1, True, 2), (7, 3, 2, 0, False, 3),
    (5, 2, 2, 0, False, 2), (5, 2, 2, 0, True, 3),
])
def test_pooling_sizes(n, k, s, p, ceil, out):
    draft = build("pool_output_size", n=n, k=k, s=s, p=p, ceil=ceil, c=64)
    assert key(draft) == out
    if (n, k, s, p, ceil) == (5, 3, 3, 1, True):
        assert wrong(draft.parts[0])["naive_ceil"] == 3


@pytest.mark.parametrize("n, k, s, p, op, out", [(3, 3, 2, 1, 0, 5), (3, 3, 2, 1, 1, 6), (2, 3, 2, 0, 0, 5)])
def test_transposed_sizes(n, k, s, p, op, out):
    assert key(build("transposed_output_size", n=n, k=k, s=s, p=p, op=op, d=1, cin=16, cout=8)) == out


def test_parameter_counts():
    assert key(build("dense_params", h=300, c=3, units=100, pool=False)) == 27_000_100
    assert key(build("dense_params", h=7, c=512, units=4096, pool=False)) == 102_764_544
    assert key(build("locally_connected_params", n=32, k=5, cin=3, cout=16)) == 953_344
    assert key(build("grouped_conv", cin=64, cout=128, k=3, g=4, n=56, macs=False)) == 18_560
    lenet = {"c": 1, "n": 32, "layers": [
        {"kind": "conv", "out": 6, "k": 5, "p": 0}, {"kind": "pool"}, {"kind": "conv", "out": 16, "k": 5, "p": 0},
        {"kind": "pool"}, {"kind": "dense", "out": 120}, {"kind": "dense", "out": 84}, {"kind": "dense", "out": 10}]}
    assert key(build("network_params", **lenet)) == 61_706


def test_depthwise_separable_and_the_inception_bottleneck():
    draft = build("depthwise_separable", cin=64, cout=128, k=3, n=56)
    assert [p.key for p in draft.parts[:2]] == [640 + 8_320, 27_496_448]
    assert draft.parts[2].key == Fraction(27_496_448, 231_211_008)
    assert abs(float(draft.parts[2].key) - (1 / 128 + 1 / 9)) < 1e-12  # type: ignore[arg-type]
    bottleneck = build("bottleneck", n=28, cin=192, mid=16, cout=32, k=5)
    assert [p.key for p in bottleneck.parts] == [120_422_400, 12_443_648]
    assert wrong(bottleneck.parts[0]) == {"flops_for_macs": 240_844_800}
    macs = build("conv_macs", n=28, cin=192, cout=32, k=5, s=1, flops=False)
    assert key(macs) == 120_422_400 and macs.parts[0].options[0].text == "120.4224"


@pytest.mark.parametrize("layers, size", [
    ([(3, 1, 1, 0)] * 3, 7),
    ([(5, 1, 1, 0), (2, 2, 1, 1), (5, 1, 1, 0)], 14),
    ([(5, 1, 2, 0), (2, 2, 1, 1), (5, 1, 1, 0)], 18),
    ([(3, 2, 1, 0), (3, 2, 1, 0)], 7),
])
def test_receptive_fields(layers, size):
    stack = [{"k": k, "s": s, "d": d, "pool": pool} for k, s, d, pool in layers]
    draft = build("receptive_field", layers=stack)
    assert key(draft) == size
    if size == 7 and len(layers) == 3:
        assert wrong(draft.parts[0])["sum_of_kernels"] == 9


def test_fc_as_convolution_and_doubling_configurations():
    assert [p.key for p in build("fc_to_conv", f=7, c=512, units=4096, g=12).parts] == [7, 6]
    for config in ((4, 2, 1, 0), (3, 2, 1, 1), (2, 2, 0, 0)):
        assert transposed_output_size(16, config[0], config[1], (config[2], config[2]), 1, config[3]) == 32
        draft = build("upsample_design", n=16, key=list(config))
        assert key(draft) == config
        assert {o.value: o.tag for o in draft.parts[0].wrong}.get((3, 2, 1, 0)) in (None, "config_without_output_padding")


def test_vgg16_activations_are_15_2_million_not_24_million():
    """CS231n's VGG table totals 24M activations; its rows add up to 15,237,608 (EXAM.md §5 #1):
    the input and every conv, pool and FC output, counted through the registry as T18 counts."""
    layers = []
    for width in (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"):
        layers.append(("maxpool2d", {"kernel": 2}) if width == "M" else ("conv2d", {"out": width, "kernel": 3, "padding": 1}))
    layers += [("flatten", {}), ("linear", {"out": 4096}), ("linear", {"out": 4096}), ("linear", {"out": 1000})]
    facts = chain((1, 3, 224, 224), layers)
    values = 3 * 224 * 224 + sum(numeric_size(f.output) for f in facts if f.kind != "flatten")
    assert values == 15_237_608
    assert sum(f.params for f in facts) == 138_357_544


def numeric_size(shape: tuple[int, ...]) -> int:
    size = 1
    for dim in shape:
        size *= dim
    return size


def test_inverse_items_are_unique_and_exam_md_counts_eleven_configurations():
    """32 → 16 has 11 solutions over K ≤ 7, S ≤ 3, P ≤ 3, D ≤ 2, P ≤ ⌊K̂/2⌋ (EXAM.md T05): why an
    inverse item must state its range and be checked for uniqueness."""
    found = [(k, s, p, d) for k in range(1, 8) for s in range(1, 4) for d in (1, 2) for p in range(0, 4)
             if p <= (d * (k - 1) + 1) // 2 and d * (k - 1) + 1 <= 32 + 2 * p
             and conv_output_size(32, k, s, (p, p), d) == 16]
    assert len(found) == 11
    assert InferStride().solutions(32, 3, 1, 1, 16) == [2]
    for seed in range(60):
        params = TEMPLATES["infer_stride"].sample(Random(seed), 3, "pytorch")
        assert len(InferStride().solutions(params["n"], params["k"], params["p"], params["d"], params["out"])) == 1


def test_configure_items_are_unique_and_match_exam_md():
    assert pattern_of(9, 3, 2, 0, 2) == ((0, 2, 4), (2, 4, 6), (4, 6, 8))
    assert Configure().matches(9, ((0, 2, 4), (2, 4, 6), (4, 6, 8))) == [(3, 2, 2, 0)]
    for seed in range(40):
        p = TEMPLATES["configure"].sample(Random(seed), 4, "pytorch")
        assert Configure().matches(p["n"], pattern_of(p["n"], p["k"], p["s"], p["p"], p["d"])) == [
            (p["k"], p["s"], p["d"], p["p"])]


def test_numeric_worked_examples_of_the_seed_notes():
    # 003: a 4×4 image and a 3×3 kernel, and its convolution matrix U (4×16)
    x = [[4, 5, 8, 7], [1, 8, 8, 8], [3, 6, 6, 4], [6, 5, 7, 8]]
    u = [[1, 4, 1], [1, 4, 3], [3, 3, 1]]
    assert key(build("conv2d_by_hand", x=x, w=u, kernel="", s=1, p=0)) == ((122, 148), (126, 134))
    assert numeric.toeplitz(4, u)[0] == [1, 4, 1, 0, 1, 4, 3, 0, 3, 3, 1, 0, 0, 0, 0, 0]
    # 004: transposed convolution of [[0, 1], [2, 3]] with itself; 2×1 input, 3×1 filter, stride 2 → 5
    assert key(build("transposed_by_hand", x=[[0, 1], [2, 3]], w=[[0, 1], [2, 3]], s=1)) == (
        (0, 0, 1), (0, 4, 6), (4, 12, 9))
    assert key(build("transposed_by_hand", x=[[1, 2]], w=[[1, 2, 3]], s=2)) == ((1, 2, 5, 4, 6),)
    # 004: nearest neighbour and bed of nails of [[1, 2], [3, 4]]
    assert numeric.nearest_upsample2d([[1, 2], [3, 4]], 2)[0] == [1, 1, 2, 2]
    assert numeric.bed_of_nails2d([[1, 2], [3, 4]], 2)[2] == [3, 0, 4, 0]
    # EXAM.md T19 and T23/T24
    assert key(build("conv1d_by_hand", x=[3, 7, 2, 8, 4], w=[1, 0, -1], s=1, p=0)) == (1, -1, -2)
    image = [[1, 2, 6, 3], [3, 5, 2, 1], [1, 2, 2, 1], [7, 3, 4, 8]]
    assert key(build("pool_by_hand", x=image, k=2, s=2, p=0, mode="max", include_pad=True)) == ((5, 6), (7, 8))
    ones = [[1] * 3] * 3
    assert key(build("pool_by_hand", x=ones, k=3, s=1, p=1, mode="avg", include_pad=True))[0][0] == Fraction(4, 9)  # type: ignore[index]
    assert key(build("pool_by_hand", x=ones, k=3, s=1, p=1, mode="avg", include_pad=False))[0][0] == 1  # type: ignore[index]
    unpool = build("unpool_by_hand", x=image, variant="max_unpool")
    assert key(unpool) == ((0, 0, 6, 0), (0, 5, 0, 0), (0, 0, 0, 0), (7, 0, 0, 8))
    assert wrong(unpool.parts[0])["bed_of_nails_for_unpool"] == ((5, 0, 6, 0), (0, 0, 0, 0), (7, 0, 8, 0), (0, 0, 0, 0))


def test_conv1d_box_filter_of_lecture_002():
    """Seed 002: f = [10, 50, 60, 10, 20, 40, 30] through a 1/3 box filter with zero padding 1. The
    slide prints h = [20, 40, 40, 30, 20, 30, 23.333]; its fifth value is a slip: (10 + 20 + 40)/3
    = 23.333, not 20 (the other six agree)."""
    h = numeric.conv2d([[10, 50, 60, 10, 20, 40, 30]], [[Fraction(1, 3)] * 3], padding=(0, 1))[0]
    assert h == [20, 40, 40, 30, Fraction(70, 3), 30, Fraction(70, 3)]
    slide = [20, 40, 40, 30, 20, 30, Fraction(70, 3)]
    assert [i for i, (a, b) in enumerate(zip(h, slide)) if a != b] == [4]


# -- torch agrees on the published examples -----------------------------------------------------


@needs_torch
def test_snippets_of_published_examples_run_in_torch():
    from cnncalc.torch_backend.exam_check import check

    drafts = [
        build("conv_output_size", n=63, k=7, s=2, p=0, d=1, cin=16, cout=32),
        build("conv_params", k=5, cin=3, cout=100, n=300, bias=True),
        build("bottleneck", n=28, cin=192, mid=16, cout=32, k=5),
        build("conv2d_by_hand", x=[[4, 5, 8, 7], [1, 8, 8, 8], [3, 6, 6, 4], [6, 5, 7, 8]],
              w=[[1, 4, 1], [1, 4, 3], [3, 3, 1]], kernel="", s=1, p=0),
        build("receptive_field", layers=[{"k": 5, "s": 1, "d": 2, "pool": 0}, {"k": 2, "s": 2, "d": 1, "pool": 1},
                                         {"k": 5, "s": 1, "d": 1, "pool": 0}]),
        build("configure", n=9, k=3, s=2, d=2, p=0),
    ]
    assert [check(d) for d in drafts] == [None] * len(drafts)


@needs_torch
def test_a_disagreeing_key_is_refused(monkeypatch):
    from cnncalc.errors import CheckFailed
    from cnncalc.exam.templates.sizes import ConvOutputSize

    original = ConvOutputSize.build

    def off_by_one(self, p, rng, convention):  # type: ignore[no-untyped-def]
        draft = original(self, p, rng, convention)
        return Draft(**{**draft.__dict__, "expect": (draft.expect[0] + 1,)})

    monkeypatch.setattr(ConvOutputSize, "build", off_by_one)
    with pytest.raises(CheckFailed, match=r"item \d+ \(conv_output_size, seed \d+\) refused: torch gives"):
        generate(ExamConfig(count=3, templates=("conv_output_size",)), "on")


# -- the command line ---------------------------------------------------------------------------


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out = capsys.readouterr()
    return int(done.value.code or 0), out.out, out.err


def test_cli_writes_a_directory_and_regenerates_it(tmp_path, capsys):
    target = tmp_path / "exam"
    code, out, err = run(capsys, "exam", "--seed", "5", "--count", "6", "-f", "all", "-o", str(target),
                         "--torch-check", "off")
    assert code == 0, err
    names = sorted(p.name for p in target.iterdir())
    assert names == sorted(["exam.md", "answers.md", "exam.tex", "answers.tex", "moodle.xml", "exam.gift",
                            "canvas_qti12.zip", "qti21.zip", "manifest.json"])
    assert json.loads((target / "manifest.json").read_text())["torch_check"] == "disabled"
    code, out, err = run(capsys, "exam", "regenerate", str(target / "manifest.json"), "--torch-check", "off")
    assert code == 0 and "8 files reproduced byte-identically" in out
    code, out, err = run(capsys, "exam", "--seed", "5", "-o", str(target), "--torch-check", "off")
    assert code == 2 and "not empty" in err and "--force" in err


def test_cli_prints_markdown_and_rejects_bad_options(capsys):
    code, out, err = run(capsys, "exam", "--count", "2", "--torch-check", "off")
    assert code == 0 and out.startswith("# CNN shape arithmetic") and "answer key" in out
    for args, message in [(("--difficulty", "9"), "expected 1, 2, 3 or 4"), (("-f", "pdf"), "unknown format"),
                          (("-f", "gift"), "need --output DIR"), (("-t", "conv_outptu"), "did you mean"),
                          (("--convention", "tf"), "")]:
        code, out, err = run(capsys, "exam", *args, "--torch-check", "off")
        assert code == 2 and message in err, (args, err)


def test_cli_leaves_nothing_behind_when_writing_fails(tmp_path, capsys, monkeypatch):
    from pathlib import Path

    written = []
    original = Path.write_bytes

    def fail_on_third(self: Path, data: bytes) -> int:
        written.append(self.name)
        if len(written) == 3:
            raise OSError(28, "No space left on device")
        return original(self, data)

    monkeypatch.setattr(Path, "write_bytes", fail_on_third)
    code, out, err = run(capsys, "exam", "-f", "all", "-o", str(tmp_path / "exam"), "--torch-check", "off")
    assert code == 1 and "No space left" in err
    assert list(tmp_path.iterdir()) == []  # neither the directory nor its staging copy


def test_without_torch_the_manifest_says_the_check_was_skipped(monkeypatch):
    from cnncalc.exam import generate as module

    monkeypatch.setattr(module, "torch_available", lambda: False)
    files = render(generate(ExamConfig(count=2)), ["markdown"])
    assert json.loads(files["manifest.json"])["torch_check"] == "skipped (torch is not installed)"
    from cnncalc.errors import BackendUnavailable
    with pytest.raises(BackendUnavailable):
        generate(ExamConfig(count=2), "on")
