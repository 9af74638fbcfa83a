"""Counting conventions (cnncalc.conventions) against the tools they reproduce.

Differential: every zoo spec (at a reduced input where the spec allows, ResNet-50 at 224) and
every layer test case of tests/layers is built by cnncalc's torch backend and measured by each
installed peer (fvcore, torchinfo, ptflops, thop, torchscan, FlopCounterMode) in a process of
its own (tests/conventions_peers.py: one process per peer, since they leak global state); the
matching profile must give the peer's total and its count for every module exactly. A peer
that is not installed is skipped.

Without torch: the quirks each profile reproduces, on a small spec counted by hand from the
tools' documented rules; ResNet-50's totals as the tools print them; `cnncalc explain` adding
up exactly; `summary --convention` in every format.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from cnncalc.analysis import analyze
from cnncalc.analysis.shapes import infer_shapes
from cnncalc.cli.app import main
from cnncalc.conventions import NAMES, Convention
from cnncalc.conventions.base import by_module, plain
from cnncalc.conventions.explain import explain
from cnncalc.conventions.registry import PROFILES, calls, context, count
from cnncalc.errors import CnncalcError, UsageError
from cnncalc.graph import LayerGraph
from cnncalc.spec import Overrides, load_graph, zoo_names
from tests.conftest import needs_torch
from tests.conventions_peers import PEER_MODULES, PEERS, graph_to_json, layer_graph
from tests.layers import (
    test_activation,
    test_conv,
    test_linear,
    test_merge,
    test_norm,
    test_pool,
    test_upsample,
)

ROOT = Path(__file__).parent.parent
#: zoo specs whose training step FlopCounterMode also counts (grouped and depthwise convolutions,
#: a frozen layer, transposed convolutions); every layer test case is counted too
TRAIN = {"lenet5_original", "mobilenet_v2", "resnext50_32x4d", "shufflenet_v2_x0_5", "alexnet_original",
         "conv_autoencoder"}
#: what each peer's answer is compared with: (profile, total key, per-module key or None)
SERIES = {
    "fvcore": [("fvcore", "total", "layers")],
    "torchinfo": [("torchinfo", "total", "layers")],
    "ptflops": [("ptflops", "total", "layers")],
    "thop": [("thop", "total", "layers")],
    "torchscan": [("torchscan", "total", "layers"), ("torchscan_macs", "macs", "macs_layers")],
    "flopcounter": [("flopcounter", "total", "layers"), ("flopcounter_train", "train", None)],
}
LAYER_CASES = [*test_conv.CASES, *test_pool.CASES, *test_norm.CASES, *test_linear.CASES, *test_merge.CASES,
               *test_upsample.CASES, *test_activation.CASES,
               # ptflops divides module hooks by the batch, but Upsample's hook counts one sample
               ("upsample", {"size": [3, 5]}, [(2, 1, 3, 5)]),
               ("upsample", {"scale": 3}, [(2, 1, 1, 1)])]

QUIRKS = """
name: quirks
input: [3, 8, 8]
layers:
  - conv2d: {name: conv, out: 4, kernel: 3, padding: 1}
  - batchnorm2d: {name: bn}
  - relu: {name: relu}
  - maxpool2d: {name: pool, kernel: 2}
  - conv_transpose2d: {name: up, out: 2, kernel: 2, stride: 2}
  - adaptive_avgpool2d: {name: gap, output_size: 4}
  - flatten: {name: flat}
  - linear: {name: fc, out: 5}
"""
SHARED = """
name: shared
input: [3, 16, 16]
layers:
  - conv2d: {name: a, out: 3, kernel: 3, padding: 1}
  - relu
  - conv2d: {name: b, out: 3, kernel: 3, padding: 1, share: a}
  - batchnorm2d: {name: bn}
  - conv2d: {name: c, out: 3, kernel: 3, padding: 1, share: a}
  - conv_transpose2d: {name: up, out: 4, kernel: 4, stride: 2}
  - conv2d: {name: g, out: 4, kernel: 3, groups: 2, trainable: false}
  - conv2d: {name: h, out: 4, kernel: 3, groups: 2}
"""
GROUPED = """
name: grouped
input: [4, 6, 6]
layers:
  - conv2d: {name: a, out: 4, kernel: 3, padding: 1}
  - conv2d: {name: dw, out: 4, kernel: 3, padding: 1, groups: 4}
"""


def spec_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / (text.split("name: ")[1].split()[0] + ".yaml")
    path.write_text(text)
    return str(path)


# -- the differential test ------------------------------------------------------------------------


def reduced_input(name: str) -> tuple[int, ...] | None:
    """The smallest of a few square sizes the spec accepts (fast to measure), None to keep the
    spec's own: ResNet-50 stays at 224 (the figures the tools are known for), and specs
    without a single [C, H, W] input larger than 64."""
    graph = load_graph(name)
    shape = tuple(graph.inputs[0].attrs.shape)
    if name == "resnet50" or len(graph.inputs) != 1 or len(shape) != 3 or shape[1] <= 64:
        return None
    for size in (32, 48, 64, 96, 128, 188):
        try:
            infer_shapes(load_graph(name, Overrides(inputs={"": (shape[0], size, size)})))
            return (shape[0], size, size)
        except CnncalcError:
            continue
    return None


@functools.cache
def differential_graphs() -> dict[str, tuple[LayerGraph, bool]]:
    """Job id -> (graph, whether FlopCounterMode also counts its training step)."""
    jobs: dict[str, tuple[LayerGraph, bool]] = {}
    for name in zoo_names():
        size = reduced_input(name)
        graph = load_graph(name, Overrides(inputs={"": size} if size else {}))
        jobs[name] = (graph, name in TRAIN)
    for index, (kind, attrs, shapes) in enumerate(LAYER_CASES):
        jobs[f"{kind}#{index} {attrs} {shapes}"] = (layer_graph(kind, attrs, [list(s) for s in shapes]), True)
    for text in (SHARED, GROUPED, QUIRKS):
        graph = load_graph_text(text)
        jobs[graph.name] = (graph, True)
    return jobs


def load_graph_text(text: str) -> LayerGraph:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        return load_graph(spec_file(Path(folder), text))


@functools.cache
def measured(peer: str) -> dict[str, Any]:
    jobs = [{"id": key, "graph": graph_to_json(graph), "train": train}
            for key, (graph, train) in differential_graphs().items()]
    result = subprocess.run(
        [sys.executable, "-m", "tests.conventions_peers", peer], input=json.dumps(jobs),
        capture_output=True, text=True, cwd=ROOT, timeout=600,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


#: the releases the profiles reproduce (distribution, version prefix): another release may count
#: differently, so it is skipped with its version rather than failed (CI pins these)
RELEASES = {"fvcore": ("fvcore", "0.1.5"), "torchinfo": ("torchinfo", "1.8."), "ptflops": ("ptflops", "0.7.5"),
            "thop": ("thop", "0.1.1"), "torchscan": ("torchscan", "0.2.0"), "flopcounter": ("torch", "2.")}


def unavailable(peer: str) -> str | None:
    """Why the peer cannot be compared here, or None."""
    if importlib.util.find_spec(PEER_MODULES[peer].split(".")[0]) is None:
        return f"{PEER_MODULES[peer]} is not installed"
    distribution, prefix = RELEASES[peer]
    version = importlib.metadata.version(distribution)
    if not version.startswith(prefix):
        return f"the {peer} profile reproduces {distribution} {prefix}*, {version} is installed"
    return None


def same(ours: int | Fraction, theirs: int | float) -> bool:
    """Exact, except a fraction against the float the tool printed for it."""
    if isinstance(ours, Fraction) and ours.denominator != 1:
        return isinstance(theirs, float) and abs(float(ours) - theirs) <= 1e-9 * abs(theirs)
    return ours == theirs


def compare(peer: str, key: str, graph: LayerGraph, answer: dict[str, Any]) -> list[str]:
    """What differs between the peer's answer and its profiles, as lines for the failure message."""
    if "error" in answer:
        return [f"{key}: {peer} failed: {answer['error']}"]
    shapes = infer_shapes(graph)
    layer_calls, where = calls(graph, shapes), context(graph, shapes)
    problems = []
    for name, total_key, layers_key in SERIES[peer]:
        if total_key not in answer:
            continue
        counts = PROFILES[name].count(layer_calls, where)
        total = int(counts.total) if name == "ptflops" else counts.total  # ptflops prints int(total)
        if not same(total, answer[total_key]):
            problems.append(f"{key}: {name} total {plain(counts.total)} != {peer} {answer[total_key]}")
        if layers_key is None:
            continue
        ours = by_module(counts, layer_calls)
        theirs = {int(k): v for k, v in answer[layers_key].items()}
        names = {c.index: c.name for c in reversed(layer_calls)}
        for index in sorted(set(ours) | set(theirs)):
            if not same(ours.get(index, 0), theirs.get(index, 0)):
                problems.append(f"{key}: {name} layer `{names.get(index)}` {plain(ours.get(index, 0))} "
                                f"!= {peer} {theirs.get(index, 0)}")
    return problems


@needs_torch
@pytest.mark.parametrize("peer", PEERS)
def test_profiles_reproduce_the_peer(peer):
    """Every zoo spec and layer case: the profile's total and per-module counts equal the peer's."""
    reason = unavailable(peer)
    if reason:
        pytest.skip(reason)
    answers = measured(peer)
    problems = []
    for key, (graph, _) in differential_graphs().items():
        problems += compare(peer, key, graph, answers[key])
    assert not problems, f"{len(problems)} differences:\n" + "\n".join(problems[:40])
    if peer == "flopcounter":  # the training step was measured where asked (no in-place refusal)
        assert all("train" in answers[key] for key, (_, train) in differential_graphs().items() if train)


# -- the torch modules the profiles assume -------------------------------------------------------


def torch_calls(graph: LayerGraph) -> dict[int, list[tuple[str, tuple[int, ...], tuple[int, ...], tuple[Any, ...]]]]:
    """Per GraphModule.layers index, every module call inside it in hook order (a module before
    its children): class, first input shape, first output shape, own parameters."""
    import torch

    from cnncalc.torch_backend.build import build, example_inputs

    model = build(graph).eval()
    found: dict[int, list[Any]] = {}
    owner = {id(m): k for k, layer in enumerate(model.layers) for m in layer.modules()}
    pending: list[list[Any]] = []

    def first(value: Any) -> Any:
        return value if isinstance(value, torch.Tensor) else first(value[0])

    def before(module: Any, args: Any) -> None:
        params = tuple((n, p.numel()) for n, p in module.named_parameters(recurse=False))
        entry = [type(module).__name__, tuple(first(args).shape), None, params]
        found.setdefault(owner[id(module)], []).append(entry)
        pending.append(entry)

    def after(module: Any, args: Any, output: Any) -> None:
        entry = next(e for e in reversed(pending) if e[0] == type(module).__name__ and e[2] is None)
        entry[2] = tuple(first(output).shape)

    hooks = [h for m in model.layers.modules() if m is not model.layers
             for h in (m.register_forward_pre_hook(before), m.register_forward_hook(after))]
    with torch.no_grad():
        model(*example_inputs(graph))
    for hook in hooks:
        hook.remove()
    return {k: [tuple(e) for e in entries] for k, entries in found.items()}


def described_calls(graph: LayerGraph) -> dict[int, list[tuple[str, tuple[int, ...], tuple[int, ...], tuple[Any, ...]]]]:
    found: dict[int, list[Any]] = {}
    for call in calls(graph):
        for module in call.module.walk():
            found.setdefault(call.index, []).append(
                (module.cls, tuple(module.ins[0]), tuple(module.out), tuple(module.params)))
    return found


@needs_torch
def test_module_descriptions_match_the_built_modules():
    """conventions.modules describes, for every layer case and a few specs, the module classes,
    their calls' shapes and their parameters as torch_backend builds and runs them."""
    graphs = [layer_graph(kind, attrs, [list(s) for s in shapes]) for kind, attrs, shapes in LAYER_CASES]
    graphs += [load_graph_text(SHARED), load_graph_text(QUIRKS), load_graph("googlenet", Overrides(
        inputs={"": (3, 32, 32)})), load_graph("xception", Overrides(inputs={"": (3, 32, 32)}))]
    problems = []
    for graph in graphs:
        ours, theirs = described_calls(graph), torch_calls(graph)
        if ours != theirs:
            where = next(k for k in sorted(set(ours) | set(theirs)) if ours.get(k) != theirs.get(k))
            problems.append(f"{graph.name} {[n.kind.name for n in graph][-1]}: {ours.get(where)} != torch "
                            f"{theirs.get(where)}")
    assert not problems, "\n".join(problems[:20])


# -- quirks, counted by hand from each tool's rules ----------------------------------------------

#: per layer of QUIRKS (conv 3->4 3x3 pad 1 on 8x8, BN, ReLU, 2x2 max pool to 4x4, transposed conv
#: 4->2 2x2 stride 2 to 8x8, adaptive avg pool to 4x4, flatten, linear 32->5), each tool's rule:
QUIRK_COUNTS = {
    # conv: 4*64 outputs x 27 taps = 6,912 MACs, 256 bias adds; bn: 256 elements, 4 channels;
    # relu 256; pool 64 outputs of 4 (256 inputs); up: input grid 4*16*2*4 = 512 MACs, output
    # grid 128 outputs x 4 channels x 4 taps = 2,048, 128 bias adds; gap: 32 outputs of 4 (128
    # inputs); fc: 160 MACs + 5
    "macs": {"conv": 6912, "up": 512, "fc": 160},
    "flops": {"conv": 2 * 6912 + 256, "bn": 2 * 256, "relu": 256, "pool": 3 * 64, "up": 1024 + 128,
              "gap": 128, "fc": 320 + 5},
    "fvcore": {"conv": 6912, "bn": 2 * 256, "up": 512, "gap": 128, "fc": 160},  # adaptive pool: inputs
    "torchinfo": {"conv": (108 + 4) * 64, "bn": 1 * 8, "up": (32 + 2) * 64, "fc": 160 + 5},  # params x positions
    "ptflops": {"conv": 6912 + 256, "bn": 2 * 256, "relu": 256 + 256, "pool": 256 + 256, "up": 512 + 128,
                "gap": 128 + 128, "fc": 160 + 5},  # hook + patched function for relu and pools
    "thop": {"conv": 6912, "bn": 4 * 256, "up": 2048, "gap": (4 + 1) * 32, "fc": 160},
    "torchscan": {"conv": 256 * 54, "bn": 8 + 512 + 512, "relu": 256, "pool": 64 * 3, "up": 16 + 128 * 32,
                  "gap": 32 * (4 - 1 + 2), "fc": 5 * 63 + 5},
    "torchscan_macs": {"conv": 6912, "bn": 2 * 256, "pool": 64 * 3, "up": 8 + 128 * 16, "gap": 32 * 5, "fc": 160},
    "flopcounter": {"conv": 2 * 6912, "up": 2 * 512, "fc": 2 * 160},
}
QUIRK_FLAGS = {
    "torchinfo": {("transposed-output-grid", "up")},
    "thop": {("transposed-output-grid", "up")},
    "torchscan": {("transposed-output-grid", "up")},
    "torchscan_macs": {("transposed-output-grid", "up")},
    "ptflops": {("ptflops-counted-twice", layer) for layer in ("relu", "pool", "gap")},
}


@pytest.mark.parametrize("name", sorted(QUIRK_COUNTS))
def test_quirks_counted_by_hand(tmp_path, name):
    counts = count(load_graph(spec_file(tmp_path, QUIRKS)), name)
    assert {layer.name: layer.count for layer in counts.layers if layer.count} == QUIRK_COUNTS[name]
    assert counts.total == sum(QUIRK_COUNTS[name].values())
    assert {(flag.code, flag.layer) for flag in counts.flags} == QUIRK_FLAGS.get(name, set())


def test_flopcounter_counts_grouped_grad_weight_groups_times(tmp_path):
    """a: 4*36 outputs x 36 taps = 5,184 MACs, first layer (no grad-input); dw (groups 4):
    4*36 x 9 = 1,296 MACs, grad-weight counted 4 times over by FlopCounterMode."""
    counts = count(load_graph(spec_file(tmp_path, GROUPED)), "flopcounter_train")
    assert {layer.name: layer.count for layer in counts.layers} == {
        "a": 2 * 5184 + 2 * 5184, "dw": 2 * 1296 + 2 * 1296 + 4 * 2 * 1296}
    assert [(flag.code, flag.layer) for flag in counts.flags] == [("grouped-conv-backward", "dw")]


def test_shared_module_counted_on_every_call(tmp_path):
    """`b` and `c` call `a`'s module again: every tool counts each call (measured: the
    differential test's `shared` spec), so every forward profile counts them as `a`."""
    graph = load_graph(spec_file(tmp_path, SHARED))
    for name in NAMES[:-1]:  # a training step: `a`, the first layer, computes no grad-input
        counts = count(graph, name)
        assert counts.layer("a").count == counts.layer("b").count == counts.layer("c").count > 0, name


def test_ptflops_divides_module_hooks_by_the_batch(tmp_path):
    """At batch 2: the conv hook (2*2*9 outputs x 3 taps = 108 MACs) and the ReLU hook (36
    elements) are halved, F.relu (36) is not."""
    spec = spec_file(tmp_path, "name: batch2\ninput: [3, 3, 3]\nbatch: 2\nlayers:\n"
                               "  - conv2d: {name: conv, out: 2, kernel: 1, bias: false}\n  - relu: {name: relu}\n")
    counts = count(load_graph(spec), "ptflops")
    assert [layer.count for layer in counts.layers] == [108 // 2, 36 // 2 + 36]


def test_fvcore_misses_a_broadcast_batch():
    graph = layer_graph("matmul", {}, [[3, 4], [2, 4, 5]])
    counts = count(graph, "fvcore")
    assert counts.total == 3 * 4 * 5 and count(graph, "macs").total == 2 * 3 * 4 * 5
    assert [flag.code for flag in counts.flags] == ["fvcore-matmul-broadcast"]


def test_resnet50_totals_as_the_tools_print_them():
    """The figures the issue quotes (4.089 to 4.134 G, 8.18 G), as each tool printed them for
    the ResNet-50 cnncalc builds (torchvision's), batch 1, 224x224: re-measured by the
    differential test where the tools are installed."""
    printed = {
        "torchinfo": 4_089_238_376, "fvcore": 4_111_512_576, "ptflops": 4_132_436_968,
        "thop": 4_133_742_592, "torchscan": 8_223_080_320, "torchscan_macs": 4_113_120_256,
        "flopcounter": 8_178_368_512, "macs": 4_089_184_256,  # torchvision publishes 4.09 GFLOPS
    }
    graph = load_graph("resnet50")
    assert {name: count(graph, name).total for name in printed} == printed


def test_torchinfo_reproduces_the_seed_tables():
    """The seed tables' torchinfo "Total mult-adds" (shared/reference/REFERENCE.md section 3):
    VGG16 15,483,821,032 and the MNIST-1D CNN (batch 100) 1.07M, exactly 1,072,000."""
    assert count(load_graph("vgg16"), "torchinfo").total == 15_483_821_032
    assert count(load_graph("mnist1d_cnn"), "torchinfo").total == 1_072_000


# -- registry, explain, summary -------------------------------------------------------------------


def test_every_convention_is_registered_and_offered():
    assert tuple(PROFILES) == NAMES == tuple(c.value for c in Convention)
    with pytest.raises(UsageError, match="unknown convention `thopp`"):
        count(load_graph("lenet5"), "thopp")


PAIRS = [("torchinfo", "fvcore"), ("macs", "flopcounter"), ("ptflops", "thop"), ("torchscan", "flops"),
         ("flopcounter", "flopcounter_train"), ("thop", "torchscan_macs")]


@pytest.mark.parametrize("spec", ["resnet50", "mobilenet_v2", "conv_autoencoder", "googlenet", "unet_padded"])
@pytest.mark.parametrize("source, target", PAIRS)
def test_explain_adds_up_exactly(spec, source, target):
    gap = explain(load_graph(spec), source, target)
    assert gap.difference == gap.target.total - gap.source.total
    assert sum(after - before for before, after in gap.categories.values()) == gap.difference
    assert sum(layer.difference for layer in gap.layers) == gap.difference
    assert all(sum(layer.by_category.values()) == layer.difference for layer in gap.layers)
    assert sum(before for before, _ in gap.categories.values()) == gap.source.total


def run(capsys, *args: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    import gc
    import os

    # the table's width when stdout is not a terminal: fixed, whatever the worker inherited
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "200"
    try:
        with pytest.raises(SystemExit) as done:
            main(list(args))
    finally:
        gc.enable()  # main() turns the cyclic collector off for its short-lived process
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


def test_explain_json_and_flags(capsys):
    code, out, _ = run(capsys, "explain", "conv_autoencoder", "--from", "fvcore", "--to", "thop", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["schema"] == "cnncalc.explain/1"
    assert data["to"]["total"] - data["from"]["total"] == data["difference"]
    assert sum(row["difference"] for row in data["by_category"]) == data["difference"]
    assert sum(row["difference"] for row in data["layers"]) == data["difference"]
    transposed = [n.name for n in load_graph("conv_autoencoder") if n.kind.name.startswith("conv_transpose")]
    assert sorted(f["layer"] for f in data["flags"]) == sorted(transposed)
    assert {f["code"] for f in data["flags"]} == {"transposed-output-grid"}
    assert "per *output* element" in data["explanations"]["transposed-output-grid"]


def test_explain_table_sums_the_hidden_layers(capsys):
    code, out, _ = run(capsys, "explain", "resnet50", "--from", "torchinfo", "--to", "ptflops", "--top", "3")
    assert code == 0
    assert "torchinfo 4,089,238,376 MACs -> ptflops 4,132,436,968 MACs: +43,198,592" in out
    gap = explain(load_graph("resnet50"), "torchinfo", "ptflops")
    top = sorted(gap.layers, key=lambda layer: -abs(layer.difference))[:3]
    rest = gap.difference - sum(layer.difference for layer in top)
    assert f"({len(gap.layers) - 3} other layers)" in out and f"{rest:+,}" in out
    assert "ptflops is known to count wrong" in out and "ptflops-counted-twice" in out


@pytest.mark.parametrize("fmt", ["csv", "markdown"])
def test_explain_other_formats(capsys, fmt):
    code, out, _ = run(capsys, "explain", "lenet5", "--from", "macs", "--to", "torchscan", "-f", fmt)
    assert code == 0 and "torchscan" in out


def test_explain_rejects_an_unknown_convention(capsys):
    code, _, err = run(capsys, "explain", "lenet5", "--from", "tflops", "--to", "thop")
    assert code == 2 and "tflops" in err


def test_summary_convention_json(capsys):
    code, out, _ = run(capsys, "summary", "resnet50", "--convention", "thop", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["schema"] == "cnncalc.summary/1"
    assert data["convention"] == "thop" and data["convention_unit"] == "MACs"
    assert data["totals"]["convention_count"] == 4_133_742_592 == sum(row["convention_count"] for row in data["layers"])
    assert sum(data["totals"]["convention_count_by_category"].values()) == 4_133_742_592
    assert data["totals"]["macs"] == 4_089_184_256  # the default numbers are unchanged
    assert "Convention thop" in data["conventions"]


def test_summary_convention_table_and_collapsed_blocks(capsys):
    code, out, _ = run(capsys, "summary", "conv_autoencoder", "--convention", "torchinfo", "--depth", "0")
    assert code == 0
    assert "torchinfo MACs" in out and "Convention torchinfo (MACs)" in out
    assert "known to miscount" in out
    report = analyze(load_graph("resnet50"), convention="fvcore").collapsed(1)
    assert sum(row.convention_count or 0 for row in report.rows) == 4_111_512_576


@pytest.mark.parametrize("fmt", ["csv", "markdown"])
def test_summary_convention_other_formats(capsys, fmt):
    code, out, _ = run(capsys, "summary", "lenet5", "--convention", "flopcounter", "-f", fmt)
    assert code == 0 and ("convention_count" in out if fmt == "csv" else "flopcounter FLOPs" in out)


def test_summary_without_convention_is_unchanged(capsys):
    code, out, _ = run(capsys, "summary", "lenet5", "--format", "json")
    assert code == 0 and "convention" not in json.loads(out)
