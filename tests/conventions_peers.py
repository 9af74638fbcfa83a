"""Measure cnncalc-built models with one peer FLOP counter, in a process of its own.

Run as `python -m tests.conventions_peers PEER` with a JSON list of jobs on stdin; prints one
JSON object: job id -> {"total": int, "layers": {module index: count}, ...}. The peers leak
global state (ptflops patches torch.nn.functional, thop registers buffers on every module,
torchinfo keeps a forward cache), so each runs in a fresh interpreter, which measures every job.

A job is {"id", "graph": graph_to_json(graph), "train": bool}: the test process loads the spec
(or builds a one-layer graph for a layer test case) once, and sends the expanded graph, so both
sides count the very same graph and the peers' processes skip the YAML.

Per layer means per module of `GraphModule.layers` (a layer that `share`s weights runs its
owner's module, so both calls land on the owner's index), with everything the module's call
contains (children included), as each tool attributes it. Models are built without random
initialization (counts do not depend on values) and run on the CPU in eval mode.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import io
import json
import logging
import os
import sys
import time
import warnings
from collections.abc import Iterator
from typing import Any

from cnncalc.graph import LayerGraph, LayerNode
from cnncalc.layers import lookup
from cnncalc.layers.base import Attrs

PEERS = ("fvcore", "torchinfo", "ptflops", "thop", "torchscan", "flopcounter")
#: the module each peer is imported as (a peer whose module is missing is skipped)
PEER_MODULES = {"fvcore": "fvcore", "torchinfo": "torchinfo", "ptflops": "ptflops", "thop": "thop",
                "torchscan": "torchscan", "flopcounter": "torch.utils.flop_counter"}


def layer_graph(kind_name: str, attrs: dict[str, Any], shapes: list[list[int]]) -> LayerGraph:
    """One layer reading graph inputs of `shapes` (batch axis first)."""
    graph = LayerGraph("case", batch=shapes[0][0] if shapes[0] else 1)
    source = lookup("input")
    names = []
    for index, shape in enumerate(shapes):
        name = f"x{index}"
        attrs_in = source.make_attrs({"shape": list(shape[1:]), "batch": shape[0]})
        graph.add(LayerNode(name, source, attrs_in, ()))
        names.append(name)
    kind = lookup(kind_name)
    graph.add(LayerNode("layer", kind, kind.make_attrs(attrs), tuple(names)))
    graph.outputs = ["layer"]
    return graph


def graph_to_json(graph: LayerGraph) -> dict[str, Any]:
    """The expanded graph as plain data (no spans): enough to rebuild the same LayerGraph."""
    return {
        "name": graph.name, "dtype": graph.dtype, "batch": graph.batch, "outputs": list(graph.outputs),
        "nodes": [{"name": n.name, "kind": n.kind.name, "attrs": dict(n.attrs), "inputs": list(n.inputs),
                   "scopes": list(n.scopes), "refs": list(n.refs), "share": n.share, "trainable": n.trainable}
                  for n in graph],
    }


def _tuples(value: Any) -> Any:
    """JSON lists back to the tuples the attribute converters made."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def graph_from_json(data: dict[str, Any]) -> LayerGraph:
    graph = LayerGraph(data["name"], dtype=data["dtype"], batch=data["batch"])
    for n in data["nodes"]:
        graph.add(LayerNode(
            n["name"], lookup(n["kind"]), Attrs({k: _tuples(v) for k, v in n["attrs"].items()}),
            tuple(n["inputs"]), scopes=tuple(n["scopes"]), refs=tuple(n["refs"]), share=n["share"],
            trainable=n["trainable"]))
    graph.outputs = list(data["outputs"])
    return graph


# -- the measuring side (imports torch) ---------------------------------------------------------


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Peers print banners and warnings; keep stdout for the JSON answer."""
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.disable(logging.WARNING)
        try:
            yield
        finally:
            logging.disable(logging.NOTSET)


@contextlib.contextmanager
def no_init() -> Iterator[None]:
    """Build models without random initialization (the weights stay as allocated): counts do
    not depend on the values, and initializing VGG's 100M-weight classifier costs a second."""
    from torch.nn import init

    names = ("kaiming_uniform_", "kaiming_normal_", "uniform_", "normal_", "xavier_uniform_",
             "xavier_normal_", "trunc_normal_")
    saved = {name: getattr(init, name) for name in names}

    def keep(tensor: Any, *args: Any, **kwargs: Any) -> Any:
        return tensor

    try:
        for name in names:
            setattr(init, name, keep)
        yield
    finally:
        for name, function in saved.items():
            setattr(init, name, function)


def build_model(graph: LayerGraph) -> tuple[Any, tuple[Any, ...]]:
    import torch

    from cnncalc.analysis.shapes import infer_shapes
    from cnncalc.torch_backend.build import build

    with no_init():
        model = build(graph).eval()
    shapes = infer_shapes(graph)
    return model, tuple(torch.rand(*shapes[n.name]) for n in graph.inputs)


def owners(model: Any) -> dict[int, int]:
    """id of every module inside `model.layers[k]` (itself included) -> k."""
    found: dict[int, int] = {}
    for index, layer in enumerate(model.layers):
        for module in layer.modules():
            found.setdefault(id(module), index)
    return found


def measure_fvcore(model: Any, inputs: tuple[Any, ...], job: dict[str, Any]) -> dict[str, Any]:
    import torch
    from fvcore.nn import FlopCountAnalysis

    logging.getLogger("fvcore").setLevel(logging.ERROR)
    with torch.no_grad():
        analysis = FlopCountAnalysis(model, inputs)
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        by_module = analysis.by_module()
        total = analysis.total()
    return {"total": int(total),
            "layers": {k: int(by_module.get(f"layers.{k}", 0)) for k in range(len(model.layers))}}


def measure_torchinfo(model: Any, inputs: tuple[Any, ...], job: dict[str, Any]) -> dict[str, Any]:
    import torchinfo

    stats = torchinfo.summary(model, input_data=list(inputs), verbose=0)
    owner = owners(model)
    layers: dict[int, int] = {}
    for info in stats.summary_list:
        if info.is_leaf_layer and id(info.module) in owner:
            k = owner[id(info.module)]
            layers[k] = layers.get(k, 0) + int(info.macs)
    return {"total": int(stats.total_mult_adds), "layers": layers}


def measure_ptflops(model: Any, inputs: tuple[Any, ...], job: dict[str, Any]) -> dict[str, Any]:
    """The public API's total, and per layer what its pytorch backend (the default) adds up:
    each module's hook count divided by the batch counter, plus the patched functional and
    tensor-op calls made while that layer ran. A single input goes in as the tensor an
    input_constructor returns (the batch counter sees its batch); several as keyword arguments
    of a wrapper (the batch counter then assumes 1)."""
    import torch
    from ptflops import get_model_complexity_info
    from ptflops import pytorch_engine as engine

    target, res, constructor = _ptflops_call(model, inputs)
    total, _ = get_model_complexity_info(target, res, as_strings=False, print_per_layer_stat=False,
                                         input_constructor=constructor, backend="pytorch")
    collected: list[Any] = []
    per_layer: dict[int, float] = {}
    mark: dict[str, int] = {}

    def before(index: int, module: Any, args: Any) -> None:
        mark["start"] = len(collected)

    def after(index: int, module: Any, args: Any, output: Any) -> None:
        per_layer[index] = per_layer.get(index, 0) + sum(collected[mark["start"]:])

    hooks = [h for k, layer in enumerate(model.layers) for h in (
        layer.register_forward_pre_hook(lambda m, a, k=k: before(k, m, a)),
        layer.register_forward_hook(lambda m, a, o, k=k: after(k, m, a, o)))]
    flops_model = engine.add_flops_counting_methods(target)
    flops_model.eval()
    flops_model.start_flops_count(ost=sys.stdout, verbose=False, ignore_list=[])
    engine.patch_functional(collected)
    engine.patch_tensor_ops(collected)
    try:
        batch = constructor(res)
        with torch.no_grad():
            if isinstance(batch, dict):
                flops_model(**batch)
            else:
                flops_model(batch)
        divisor = flops_model.__batch_counter__
        for module in model.modules():  # what compute_average_flops_cost does before it sums
            module.accumulate_flops = engine.accumulate_flops.__get__(module)
        modules = {k: layer.accumulate_flops() for k, layer in enumerate(model.layers)}
    finally:
        engine.unpatch_functional()
        engine.unpatch_tensor_ops()
        flops_model.stop_flops_count()
        for hook in hooks:
            hook.remove()
    layers = {k: modules.get(k, 0) / divisor + per_layer.get(k, 0) for k in range(len(model.layers))}
    return {"total": int(total), "layers": {k: _exact(v) for k, v in layers.items()},
            "batch_counter": int(divisor)}


def _ptflops_call(model: Any, inputs: tuple[Any, ...]) -> tuple[Any, tuple[int, ...], Any]:
    from torch import nn

    if len(inputs) == 1:
        return model, tuple(inputs[0].shape[1:]), lambda _res: inputs[0]

    class Keywords(nn.Module):
        def __init__(self, inner: Any):
            super().__init__()
            self.inner = inner

        def forward(self, **kwargs: Any) -> Any:
            return self.inner(*kwargs.values())

    return Keywords(model), (1,), lambda _res: {f"x{i}": x for i, x in enumerate(inputs)}


def _exact(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def measure_thop(model: Any, inputs: tuple[Any, ...], job: dict[str, Any]) -> dict[str, Any]:
    import thop

    total, _params, info = thop.profile(model, inputs, verbose=False, ret_layer_info=True)
    layers = info["layers"][2]
    return {"total": _exact(total),
            "layers": {k: _exact(layers[str(k)][0]) for k in range(len(model.layers))}}


def measure_torchscan(model: Any, inputs: tuple[Any, ...], job: dict[str, Any]) -> dict[str, Any]:
    import torchscan

    report = torchscan.crawl_module(model, args=inputs)
    result: dict[str, Any] = {}
    for metric, key in (("module_flops", "total"), ("macs", "macs")):
        per_layer: dict[int, int] = {}
        for layer in report["layers"]:
            parts = layer["path"].split(".")
            if len(parts) < 2 or parts[0] != "layers" or metric not in layer["metrics"]:
                continue
            value = layer["metrics"][metric]["known_value"] or 0
            per_layer[int(parts[1])] = per_layer.get(int(parts[1]), 0) + int(value)
        total = report["totals"][metric]
        value = total["value"] if total["value"] is not None else total["known_value"]
        result[key] = int(value or 0)
        result["layers" if key == "total" else "macs_layers"] = per_layer
    return result


def measure_flopcounter(model: Any, inputs: tuple[Any, ...], job: dict[str, Any]) -> dict[str, Any]:
    """FlopCounterMode: an inference forward (no_grad) per module, then one training step's
    forward + backward of sum(outputs), as FlopCounterMode counts them (no correction)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(*inputs)
    counts = counter.get_flop_counts()
    layers = {k: int(sum(counts.get(f"GraphModule.layers.{k}", {}).values()))
              for k in range(len(model.layers))}
    result: dict[str, Any] = {"total": int(counter.get_total_flops()), "layers": layers}
    if not job.get("train", True):
        return result
    try:
        with FlopCounterMode(display=False) as counter:
            outputs = model(*inputs)
            outputs = outputs if isinstance(outputs, tuple) else (outputs,)
            trained = [o for o in outputs if o.requires_grad]
            if trained:
                sum(o.float().sum() for o in trained).backward()
    except RuntimeError as error:  # an in-place layer overwrote a tensor its neighbour saved
        result["train_refused"] = str(error).split(". Hint")[0]
        return result
    result["train"] = int(counter.get_total_flops())
    return result


MEASURE = {
    "fvcore": measure_fvcore,
    "torchinfo": measure_torchinfo,
    "ptflops": measure_ptflops,
    "thop": measure_thop,
    "torchscan": measure_torchscan,
    "flopcounter": measure_flopcounter,
}


def main(peer: str) -> None:
    import torch

    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    importlib.import_module(PEER_MODULES[peer])
    jobs = json.load(sys.stdin)
    gc.freeze()  # the imports and the jobs: the cyclic collector skips them from here on
    results: dict[str, Any] = {}
    for job in jobs:
        started = time.perf_counter()
        model, inputs = build_model(graph_from_json(job["graph"]))
        try:
            with quiet():
                results[job["id"]] = MEASURE[peer](model, inputs, job)
        except Exception as error:  # noqa: BLE001 - reported to the test, which fails on it
            results[job["id"]] = {"error": f"{type(error).__name__}: {error}"}
        del model, inputs
        if os.environ.get("CNNCALC_PEER_TIMES"):
            print(f"{job['id']} {time.perf_counter() - started:.2f}", file=sys.stderr)
    sys.stdout.write(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1])
