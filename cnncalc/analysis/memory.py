"""Memory pass: parameter and output bytes, the inference peak, and a training step's memory.

Every number comes from walking the graph in execution order with tensor liveness, the way
PyTorch's caching allocator sees a model written as plain Python:

- a layer's output is allocated when it runs and freed after its last reader (model outputs and
  the input, which the caller holds, stay); an in-place layer or a view (flatten, reshape,
  crop, identity, dropout at inference) shares its input's storage; concatenation allocates;
- the **inference peak** is the largest sum of live activations while a layer runs (its
  inputs, its output, and the intermediates it makes, such as an explicit padded copy), plus
  parameters and buffers;
- a **training step** (forward, backward, optimizer step) keeps, besides parameters and
  buffers: the tensors each layer's backward reads (`LayerKind.saved`, as torch's derivative
  formulas save them: a convolution its input, ReLU its output, batch norm its input and
  per-channel statistics, max pooling its input and int64 argmax...), until that layer's
  backward has run; the gradient of every activation, from the layer that produces it until it
  has been passed back (add, concat and views pass views of their output's gradient); the
  weight gradients (none for frozen layers), and the optimizer's state (`momentum`: one copy of
  the trainable weights, `adam`/`adamw`: two). The step's peak is the largest total at any
  layer of the forward, of the backward, or in the optimizer step (Adam's `foreach` update on
  CUDA makes one temporary copy of all weights; the CPU's per-tensor loop one of the largest).
- **Mixed precision** (`amp`: torch.autocast with fp32 master weights): each kind declares the
  precision autocast runs it in on each device (`LayerKind.autocast`, from torch's CUDA and CPU
  op lists). Convolutions, linear layers, matmuls and PReLU run in bf16/fp16 on both; softmax
  and layer/group norm in float32 on CUDA and in their input's dtype on CPU; 3-D pooling,
  max-unpooling and reflection/replication padding in float32 on CPU only; everything else in
  its input's dtype. A layer that casts an input keeps the cast copy for its backward instead
  of the input; low-precision layers also cast their weights (cached until the forward ends).
  Parameters, gradients and optimizer state stay float32. Left out: the second copy of a
  gradient that a cast's backward holds briefly at a dtype boundary.

The model counts tensors, not allocator blocks: CUDA's caching allocator rounds blocks up (to
512 bytes, 2 MiB segments) and convolution algorithms take workspaces, which `verify` measures
and this pass leaves out. Memory is affine in the batch size (every activation is), which
`fit_batch` solves for the largest batch that fits a budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from math import prod

from cnncalc.analysis.cost import LayerCost, layer_costs
from cnncalc.analysis.shapes import infer_shapes
from cnncalc.dtypes import DTYPE_BYTES
from cnncalc.graph import LayerGraph, LayerNode
from cnncalc.layers.base import Saved, Shape

OPTIMIZERS = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}
AMP_DTYPES = {"bf16": "bfloat16", "fp16": "float16"}
DEVICES = ("cuda", "cpu")
#: extra saved tensors' element sizes ("act" is the activation dtype)
EXTRA_BYTES = {"float32": 4, "int64": 8, "bool": 1}


def element_bytes(graph: LayerGraph) -> int:
    return DTYPE_BYTES[graph.dtype]


def output_bytes(graph: LayerGraph, shapes: dict[str, Shape]) -> dict[str, int]:
    size = element_bytes(graph)
    return {name: prod(shape) * size for name, shape in shapes.items()}


@dataclass(frozen=True)
class Options:
    """How the model is run: the optimizer, mixed precision, and the device's torch kernels
    (dropout keeps a float mask on CPU, a bool mask on CUDA; Adam's update is foreach on CUDA)."""

    optimizer: str = "sgd"
    amp: str | None = None  # "bf16" | "fp16"
    device: str = "cuda"


@dataclass(frozen=True)
class LayerMemory:
    name: str
    output_bytes: int  # new storage its output takes (0 in place or a view)
    saved_bytes: int  # what its backward keeps (distinct tensors), 0 without a backward
    grad_bytes: int  # weight gradients it owns
    inference_live: int  # activations live while it runs at inference
    forward_live: int  # activations live while it runs in a training forward
    backward_live: int  # activations and gradients live while its backward runs (0: none)


@dataclass(frozen=True)
class Peak:
    bytes: int
    phase: str  # "forward" | "backward" | "optimizer" | "inference"
    layer: str | None
    #: the largest tensors live at the peak: (what, bytes), largest first
    live: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Memory:
    batch: int
    dtype: str
    options: Options
    param_bytes: int
    buffer_bytes: int
    input_bytes: int
    grad_bytes: int  # weight gradients (trainable weights only)
    optimizer_bytes: int
    #: activations held at the end of the training forward: what the backward will read, and
    #: the model outputs (the input, which the caller holds, not included)
    saved_bytes: int
    inference: Peak  # parameters and buffers included
    training: Peak  # parameters, buffers, gradients and optimizer state included
    layers: list[LayerMemory] = field(default_factory=list)
    #: the totals at every point the walks check, in order (inference, training): each is
    #: affine in the batch size, which `fit_batch` uses
    timeline: tuple[tuple[int, ...], tuple[int, ...]] = ((), ())


def saved_bytes(saved: Saved, ins: Sequence[Shape], out: Shape, in_bytes: Sequence[int],
                out_bytes: int, act: int, aliases: bool) -> int:
    """Bytes of the distinct tensors in `saved`: an in-place output is its input's storage."""
    storages = {f"in{i}": prod(ins[i]) * in_bytes[i] for i in saved.inputs}
    if saved.output:
        storages["in0" if aliases else "out"] = prod(out) * out_bytes
    return sum(storages.values()) + sum(n * (act if dtype == "act" else EXTRA_BYTES[dtype])
                                        for n, dtype in saved.extra)


def analyze_memory(graph: LayerGraph, options: Options = Options(),
                   shapes: dict[str, Shape] | None = None,
                   costs: dict[str, LayerCost] | None = None) -> Memory:
    shapes = shapes if shapes is not None else infer_shapes(graph)
    costs = costs if costs is not None else layer_costs(graph, shapes)
    return _Walk(graph, shapes, costs, options).run()


class _Walk:
    """The liveness walk. Storages are named: a node's output by the node that allocated it
    (in-place layers and views resolve to their input's), extras as "node#k", gradients as
    "d:tensor"."""

    def __init__(self, graph: LayerGraph, shapes: dict[str, Shape], costs: dict[str, LayerCost],
                 options: Options):
        if options.optimizer not in OPTIMIZERS:
            raise ValueError(options.optimizer)
        self.graph, self.shapes, self.costs, self.options = graph, shapes, costs, options
        nodes = list(graph)
        self.nodes = nodes
        base = DTYPE_BYTES[graph.dtype]
        self.master = 4 if options.amp else base  # parameter element size
        low = DTYPE_BYTES[AMP_DTYPES[options.amp]] if options.amp else base

        # dtypes (element sizes) of every output under autocast, and the precision autocast
        # runs each layer in ("low", "float32", or None: its inputs' dtype)
        self.size: dict[str, int] = {}
        self.precision: dict[str, str | None] = {}
        for node in nodes:
            precision = (None if node.is_input or not options.amp else
                         node.kind.autocast_precision(node.attrs, self.ins(node), options.device))
            self.precision[node.name] = precision
            if node.is_input or not options.amp:
                self.size[node.name] = base
            elif precision == "low":
                self.size[node.name] = low
            elif precision == "float32":
                self.size[node.name] = 4
            else:
                self.size[node.name] = max(self.size[n] for n in node.inputs)

        # which layers train, which tensors need gradients, which layers have a backward
        self.trains: dict[str, bool] = {}
        self.needs_grad: dict[str, bool] = {}
        for node in nodes:
            owner = graph.nodes[node.share] if node.share is not None else node
            trains = owner.trainable and costs[owner.name].params > 0
            self.trains[node.name] = trains
            self.needs_grad[node.name] = not node.is_input and (
                trains or any(self.needs_grad[n] for n in node.inputs))

        # storage roots (in place and views share their input's storage)
        self.root = self.roots(training=True)
        self.infer_root = self.roots(training=False)

    # -- helpers --------------------------------------------------------------------------------

    def roots(self, training: bool) -> dict[str, str]:
        """Each tensor's storage: the node that allocated it."""
        root: dict[str, str] = {}
        for node in self.nodes:
            aliases = not node.is_input and node.kind.aliases_input(node.attrs, self.ins(node), training)
            root[node.name] = root[node.inputs[0]] if aliases else node.name
        return root

    def ins(self, node: LayerNode) -> list[Shape]:
        return [self.shapes[n] for n in node.inputs]

    def out_bytes(self, name: str) -> int:
        return prod(self.shapes[name]) * self.size[name]

    def saved(self, node: LayerNode) -> Saved:
        grads = [self.needs_grad[n] for n in node.inputs]
        return node.kind.saved(node.attrs, self.ins(node), self.shapes[node.name], grads,
                               self.trains[node.name], self.options.device)

    def extras(self, node: LayerNode, saved: Saved) -> list[int]:
        """Bytes of each tensor in `saved.extra` (made by `node` for its backward)."""
        act = self.size[node.name]
        return [n * (act if dtype == "act" else EXTRA_BYTES[dtype]) for n, dtype in saved.extra]

    def workspace(self, node: LayerNode) -> int:
        return node.kind.workspace(node.attrs, self.ins(node), self.shapes[node.name],
                                   self.options.device) * self.size[node.name]

    def cast_copies(self, node: LayerNode) -> tuple[dict[int, int], int]:
        """Autocast's copies, in the precision the layer runs in: of each input of another dtype
        (input index -> bytes; the layer's backward keeps the copy, not the original), and of
        the weights (low precision only)."""
        precision = self.precision[node.name]
        if precision is None:
            return {}, 0
        size = self.size[node.name]
        inputs = {k: prod(self.shapes[n]) * size for k, n in enumerate(node.inputs) if self.size[n] != size}
        weights = self.costs[node.name].params * size if precision == "low" and node.share is None else 0
        return inputs, weights

    # -- the walk -------------------------------------------------------------------------------

    def run(self) -> Memory:
        graph, nodes = self.graph, self.nodes
        total_params = sum(c.params for c in self.costs.values())
        trainable = sum(c.trainable_params for c in self.costs.values())
        param_bytes = total_params * self.master
        buffer_bytes = sum(c.buffers for c in self.costs.values()) * self.master
        grad_bytes = trainable * self.master
        optimizer_bytes = OPTIMIZERS[self.options.optimizer] * trainable * self.master
        input_bytes = sum(self.out_bytes(n.name) for n in graph.inputs)
        fixed = param_bytes + buffer_bytes
        self.points: dict[str, list[int]] = {"inference": [], "training": []}

        inference, inference_live = self.inference(fixed)
        training, saved_total, forward_live, backward_live, grads_by_layer, saved_by_layer = \
            self.training(fixed, optimizer_bytes, grad_bytes)
        layers = []
        for node in nodes:
            if node.is_input:
                continue
            name = node.name
            layers.append(LayerMemory(
                name=name,
                output_bytes=0 if self.root[name] != name else self.out_bytes(name),
                saved_bytes=saved_by_layer.get(name, 0),
                grad_bytes=grads_by_layer.get(name, 0),
                inference_live=inference_live[name],
                forward_live=forward_live[name],
                backward_live=backward_live.get(name, 0),
            ))
        return Memory(
            batch=graph.batch, dtype=graph.dtype, options=self.options,
            param_bytes=param_bytes, buffer_bytes=buffer_bytes, input_bytes=input_bytes,
            grad_bytes=grad_bytes, optimizer_bytes=optimizer_bytes, saved_bytes=saved_total,
            inference=inference, training=training, layers=layers,
            timeline=(tuple(self.points["inference"]), tuple(self.points["training"])),
        )

    def last_readers(self, root: dict[str, str]) -> dict[str, int]:
        """Storage -> position of its last reader (never freed: model outputs and inputs)."""
        end = len(self.nodes)
        last: dict[str, int] = {}
        for i, node in enumerate(self.nodes):
            last.setdefault(root[node.name], i)
            last[root[node.name]] = max(last[root[node.name]], i)
            for name in (*node.inputs, *node.refs):
                last[root[name]] = max(last.get(root[name], i), i)
        for name in (*self.graph.outputs, *(n.name for n in self.graph.inputs)):
            last[root[name]] = end
        return last

    def inference(self, fixed: int) -> tuple[Peak, dict[str, int]]:
        root = self.infer_root
        last = self.last_readers(root)
        live: dict[str, int] = {n.name: self.out_bytes(n.name) for n in self.graph.inputs}
        best = Peak(0, "inference", None)
        per_layer: dict[str, int] = {}
        weights_cached = 0  # autocast keeps its weight copies until the forward ends
        for i, node in enumerate(self.nodes):
            if node.is_input:
                continue
            if root[node.name] == node.name:
                live[node.name] = self.out_bytes(node.name)
            transient = self.workspace(node)
            if node.kind.family != "dropout":  # the identity at inference
                saved = self.saved(node)  # its intermediates exist at inference too, briefly
                transient += sum(size for (_, dtype), size in zip(saved.extra, self.extras(node, saved), strict=True)
                                 if dtype == "act")
            copies, weights = self.cast_copies(node)
            weights_cached += weights
            now = sum(live.values()) + transient + sum(copies.values()) + weights_cached
            per_layer[node.name] = now
            self.points["inference"].append(fixed + now)
            if fixed + now > best.bytes:
                best = Peak(fixed + now, "inference", node.name, _largest(live))
            for storage in [s for s in live if last.get(s, -1) <= i]:
                del live[storage]
        return best, per_layer

    def training(self, fixed: int, optimizer_bytes: int, grad_bytes: int) -> tuple[
            Peak, int, dict[str, int], dict[str, int], dict[str, int], dict[str, int]]:
        nodes, root = self.nodes, self.root
        last = self.last_readers(root)
        persistent = fixed + optimizer_bytes
        live: dict[str, int] = {n.name: self.out_bytes(n.name) for n in self.graph.inputs}
        savers: dict[str, set[str]] = {}  # storage -> layers whose backward still reads it
        reads: dict[str, list[str]] = {}  # layer -> the storages its backward reads
        own: dict[str, list[str]] = {}  # layer -> the extra storages it made for its backward
        saved_by_layer: dict[str, int] = {}
        best = Peak(0, "forward", None)
        forward_live: dict[str, int] = {}

        def check(phase: str, layer: str | None, extra: int = 0) -> int:
            nonlocal best
            now = sum(live.values()) + extra
            self.points["training"].append(persistent + now)
            if persistent + now > best.bytes:
                best = Peak(persistent + now, phase, layer, _largest(live))
            return now

        for i, node in enumerate(nodes):
            if node.is_input:
                continue
            name = node.name
            if root[name] == name:
                live[name] = self.out_bytes(name)
            copies, weights = self.cast_copies(node)
            transient = self.workspace(node)
            if self.needs_grad[name]:
                saved = self.saved(node)
                ins = self.ins(node)
                kept = {k: copies.pop(k) for k in saved.inputs if k in copies}  # saved instead of the input
                in_sizes = [self.size[n] if k not in kept else self.size[name] for k, n in enumerate(node.inputs)]
                aliases = root[name] != name
                reads[name] = ([root[node.inputs[k]] for k in saved.inputs if k not in kept]
                               + ([root[name]] if saved.output else []))
                for storage in reads[name]:
                    savers.setdefault(storage, set()).add(name)
                made = [*self.extras(node, saved), *kept.values()] + ([weights] if weights else [])
                own[name] = []
                for k, size in enumerate(made):
                    key = f"{name}#{k}"
                    live[key] = size
                    own[name].append(key)
                saved_by_layer[name] = saved_bytes(
                    saved, ins, self.shapes[name], in_sizes, self.size[name], self.size[name], aliases
                ) + weights
            transient += sum(copies.values())  # copies the backward does not keep
            forward_live[name] = check("forward", name, transient)
            for storage in [s for s in live if "#" not in s and last.get(s, -1) <= i
                            and not savers.get(s)]:
                del live[storage]
        saved_total = sum(live.values()) - sum(self.out_bytes(n.name) for n in self.graph.inputs)

        # backward, in reverse order; the loss's gradient arrives for every model output
        grads: dict[str, str] = {}  # tensor -> its gradient's storage
        holders: dict[str, int] = {}  # gradient storage -> tensors referring to it
        grads_by_layer: dict[str, int] = {}
        backward_live: dict[str, int] = {}
        weight_grads = 0
        for name in self.graph.outputs:
            if self.needs_grad[name] and name not in grads:
                live[f"d:{name}"] = self.out_bytes(name)
                grads[name], holders[f"d:{name}"] = f"d:{name}", 1
        done_weights: set[str] = set()
        for node in reversed(nodes):
            name = node.name
            if node.is_input or not self.needs_grad[name] or name not in grads:
                continue
            transient = 0
            for source in node.inputs:
                if not self.needs_grad[source]:
                    continue
                size = prod(self.shapes[source]) * self.size[source]
                if node.kind.grad_is_view:
                    storage = grads[name]
                else:
                    storage = f"d:{source}@{name}"
                    live[storage] = size
                if source in grads:
                    # autograd adds the gradients out of place (a new sum, then both operands
                    # freed): the incoming one and the sum are transient
                    if storage not in holders:
                        live.pop(storage, None)
                        transient += size
                    transient += size
                    continue
                grads[source] = storage
                holders[storage] = holders.get(storage, 0) + 1
            owner = node.share or name
            if self.trains[name] and owner not in done_weights:
                done_weights.add(owner)
                size = self.costs[owner].trainable_params * self.master
                weight_grads += size
                grads_by_layer[owner] = size
            backward_live[name] = check("backward", name, transient + weight_grads)
            # the output's gradient has been passed back; the saved tensors are released
            storage = grads.pop(name)
            holders[storage] -= 1
            if not holders[storage]:
                del holders[storage]
                live.pop(storage, None)
            for key in own.pop(name, []):
                del live[key]
            for storage in reads.pop(name, []):
                savers[storage].discard(name)
                if not savers[storage] and storage in live and last.get(storage, -1) < len(nodes):
                    del live[storage]
        # the optimizer step: everything else is freed; Adam's update makes temporaries
        trainable = [c.trainable_params * self.master for c in self.costs.values() if c.trainable_params]
        temporary = 0
        if OPTIMIZERS[self.options.optimizer] == 2 and trainable:
            temporary = sum(trainable) if self.options.device == "cuda" else max(trainable)
        check("optimizer", None, grad_bytes + temporary)
        return best, saved_total, forward_live, backward_live, grads_by_layer, saved_by_layer


def _largest(live: dict[str, int], count: int = 5) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(live.items(), key=lambda item: -item[1])[:count])


def fit_batch(graph: LayerGraph, budget: int, options: Options = Options(),
              training: bool = True) -> tuple[int, int, int]:
    """The largest batch whose peak fits `budget` bytes, with the peak's (fixed, per_sample)
    terms at that batch. Every point of the walk is affine in the batch (fixed + per_sample *
    batch), so two walks (batches 2 and 4; batch norm over single values is an error) give
    every point's two terms, and the largest batch is the smallest of (budget - fixed) //
    per_sample over the points. 0 means not even one sample fits."""
    timelines = []
    for batch in (2, 4):
        memory = analyze_memory(graph.with_batch(batch), options)
        timelines.append(memory.timeline[0 if not training else 1])
    lines = []
    for low, high in zip(*timelines, strict=True):
        per_sample = (high - low) // 2
        lines.append((low - 2 * per_sample, per_sample))
    fits = [(budget - fixed) // per_sample if per_sample > 0 else (None if fixed <= budget else -1)
            for fixed, per_sample in lines]
    bounded = [f for f in fits if f is not None]
    batch = max(0, min(bounded)) if bounded else 2**31  # nothing grows with the batch
    fixed, per_sample = max(lines, key=lambda line: line[0] + line[1] * max(batch, 1))
    return batch, fixed, per_sample
