"""torchsummary's and torchinfo's memory estimates, reproduced from a spec (no torch needed).

Both tools run the model once with forward hooks and add up what the hooks saw. Here the hooked
calls are derived from the LayerGraph, so `cnncalc memory SPEC --style torchsummary|torchinfo`
prints the figures those tools print for the torch model the spec mirrors, to the printed digit.

torchsummary 1.5.1 (`torchsummary.summary(model, input_size, batch_size=-1)`)
    A row for every call of every module except `nn.Sequential`/`nn.ModuleList` containers and
    the root model. Each row holds the call's output shape with the batch axis replaced by
    `batch_size` (-1 by default, so the sums are per sample: the tool takes `abs()` at the end)
    and the call's parameters, counted as `weight` + `bias` of the module on every call (a
    shared module is counted again). MB = 2**20 bytes, 4 bytes per element whatever the dtype:

    - Input size = prod(all input dims, no batch) * |batch_size| * 4 (several inputs: the product
      of all their dims together, as `np.prod` of the list of shapes computes it);
    - Forward/backward pass size = 2 * sum over rows of prod(output shape) * 4;
    - Params size = sum over rows of the params * 4;
    - Estimated Total Size = the sum of the three unrounded sizes.

torchinfo 1.8 (`torchinfo.summary(model, input_size=(N, ...))`)
    Counts leaf modules (no children) at the graph's batch and dtype. MB = 10**6 bytes:

    - Input size = the bytes of every input tensor as `sys.getsizeof(tensor.untyped_storage())`
      reports them: the data plus a Python object header (64 bytes with torch 2.x on CPython
      3.11; `storage_overhead`);
    - Forward/backward pass size = 2 * output bytes of every call of a leaf that owns parameters;
    - Params size = bytes of the parameters, each counted once;
    - Estimated Total Size = (input + forward/backward + params bytes) / 10**6;
    - Total mult-adds: per call of a leaf with parameters, a module whose class name contains
      "Conv" costs its weight+bias elements * N * prod(output spatial dims), any other module its
      weight+bias elements * N (so a BatchNorm costs N * 2C, a Linear N * (in+1) * out).

Which spec layers are torch modules (the rows)
    Every layer of the spec is assumed to be one leaf module of the kind's torch class (the kind
    class names are torch's: `Conv2d`, `BatchNorm2d`, `ReLU`, ...), called once per spec layer; a
    layer that `share:`s another's weights is another call of the same module. Two exceptions
    make the spec match how torchvision writes its models, and only matter for torchsummary (its
    rows include parameter-free calls; torchinfo counts only layers with parameters):

    1. Functional kinds (`FUNCTIONAL_KINDS`: add, multiply, concat, matmul, flatten, reshape,
       permute, slice, pad, crop, center_crop, channel_shuffle, scale) are tensor operations in
       `forward` (the residual `out += identity`, `torch.flatten`, `x.view`, `torch.cat`, SE's
       `scale * x`, `F.pad`, `x.chunk`), not modules: no row. Pass `functional=` to change the
       set (e.g. without "flatten" for a model that uses `nn.Flatten`).
    2. Blocks. A block instance or repeat group of the spec (a `LayerNode.scopes` entry) is a
       module of its own, with a row holding the block's output after its layers' rows, when its
       layers cannot be an `nn.Sequential`: when, taking the layers and nested scopes directly
       inside it as members in order, some member does not read exactly the previous member's
       one output (the first: exactly one tensor from outside), or some member's output is read
       by anything but the next member (a skip, a branch, a merge of two tensors, an
       intermediate output). torchvision's residual blocks (Bottleneck, BasicBlock), Inception,
       Fire, dense layers, MBConv/InvertedResidual with a residual and SqueezeExcitation are
       such modules; its plain chains (`features`, `classifier`, `layer1` = a Sequential of
       blocks, Conv2dNormActivation, VGG's stages that are no module at all) are Sequentials or
       not modules, and add no row. This reproduces seed 003's ResNet-50 table (one Bottleneck
       row per block, none for layer1..4) and its VGG/AlexNet/LeNet tables (no block rows).
       Where a model's module structure differs (a chain written as a custom module, e.g.
       GoogLeNet's BasicConv2d), `blocks=` takes fnmatch patterns of the scope names that are
       modules instead of the rule ("none": no block rows).

    Known gaps of the rule: torchvision's InvertedResidual/MBConv blocks without a residual
    (stride 2 or a channel change) are modules but chains in a spec, so they get no row unless
    `blocks=` names them; DenseNet's `_DenseBlock` concatenates in its own forward, which a spec
    writes differently. For torchinfo, kinds whose torch module has children (partial_conv2d,
    deform_conv2d as cnncalc builds them) are counted through their leaf modules, as described
    by `cnncalc.conventions.modules` (the same calls `--convention torchinfo` counts).

A spec that mirrors an older torchvision model (no adaptive average pool in VGG/AlexNet before
torchvision 0.3) says so with a var (`--set avgpool=false` in vgg16.yaml and alexnet.yaml).

>>> from cnncalc.spec import load_graph
>>> print("\\n".join(torchsummary_estimate(load_graph("lenet5")).lines()[4:8]))
Input size (MB): 0.00
Forward/backward pass size (MB): 0.11
Params size (MB): 0.24
Estimated Total Size (MB): 0.35
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from math import prod

from cnncalc.analysis.memory import element_bytes
from cnncalc.analysis.shapes import infer_shapes
from cnncalc.graph import LayerGraph, LayerNode
from cnncalc.layers.base import Shape

__all__ = [
    "FUNCTIONAL_KINDS", "TORCHINFO_STORAGE_OVERHEAD", "Call", "Estimate", "module_scopes",
    "torchinfo_estimate", "torchsummary_estimate",
]

#: kinds torchvision writes as tensor operations in `forward`: no module, no torchsummary row
FUNCTIONAL_KINDS = frozenset({
    "add", "multiply", "concat", "matmul", "flatten", "reshape", "permute", "slice", "pad",
    "crop", "center_crop", "channel_shuffle", "scale",
})
#: what `sys.getsizeof(tensor.untyped_storage())` adds to the data bytes (torch 2.x, CPython 3.11)
TORCHINFO_STORAGE_OVERHEAD = 64

_MB = {"torchsummary": 2**20, "torchinfo": 10**6}
_SUMMARY_RULE = "-" * 64
_SUMMARY_DOUBLE = "=" * 64


@dataclass(frozen=True)
class Call:
    """One hooked module call: a spec layer, or a block that is a module of its own."""

    name: str  # the spec layer, or the block's scope name
    label: str  # as the tool prints it: `Conv2d-1` (torchsummary), `Conv2d` (torchinfo)
    output_shape: Shape  # torchsummary: batch axis = batch_size (-1: per sample)
    params: int  # weight + bias elements of the module (again on every call of a shared one)
    trainable: bool = True
    block: bool = False
    mult_adds: int = 0  # torchinfo only

    @property
    def output_elements(self) -> int:
        return abs(prod(self.output_shape))


@dataclass(frozen=True)
class Estimate:
    """The memory lines of one tool. Bytes are exact integers; `mb` applies the tool's unit."""

    style: str  # "torchsummary" or "torchinfo"
    params: int
    trainable_params: int
    input_bytes: int
    forward_backward_bytes: int
    params_bytes: int
    mult_adds: int | None = None  # torchinfo's "Total mult-adds"
    calls: tuple[Call, ...] = ()  # torchsummary: its rows; torchinfo: the calls it counts

    @property
    def total_bytes(self) -> int:
        return self.input_bytes + self.forward_backward_bytes + self.params_bytes

    @property
    def megabyte(self) -> int:
        return _MB[self.style]

    @property
    def non_trainable_params(self) -> int:
        return self.params - self.trainable_params

    def mb(self) -> dict[str, float]:
        """The four sizes in the tool's MB, computed as the tool computes them (same floats)."""
        unit = float(self.megabyte)
        sizes = {
            "input": self.input_bytes / unit,
            "forward_backward": self.forward_backward_bytes / unit,
            "params": self.params_bytes / unit,
        }
        if self.style == "torchsummary":  # the sum of the three rounded-to-float sizes
            sizes["total"] = sizes["params"] + sizes["forward_backward"] + sizes["input"]
        else:
            sizes["total"] = self.total_bytes / unit
        return sizes

    def lines(self, width: int = 90) -> list[str]:
        """The summary block below the layer table, exactly as the tool prints it.

        torchsummary's rules are 64 characters wide; torchinfo's `=` rules are as wide as its
        table (`width`; 90 with the default columns and short layer names).
        """
        mb = self.mb()
        sizes = [
            f"Input size (MB): {mb['input']:0.2f}",
            f"Forward/backward pass size (MB): {mb['forward_backward']:0.2f}",
            f"Params size (MB): {mb['params']:0.2f}",
            f"Estimated Total Size (MB): {mb['total']:0.2f}",
        ]
        counts = [
            f"Total params: {self.params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.non_trainable_params:,}",
        ]
        if self.style == "torchsummary":
            return [*counts, _SUMMARY_RULE, *sizes, _SUMMARY_RULE]
        assert self.mult_adds is not None
        return [*counts, f"Total mult-adds{_torchinfo_number(self.mult_adds)}", "=" * width,
                *sizes, "=" * width]

    def table(self) -> list[str]:
        """torchsummary's whole printout: the layer table, then `lines()`."""
        if self.style != "torchsummary":
            raise ValueError("only torchsummary's table is rendered; torchinfo's lists layers by depth")
        rows = [_SUMMARY_RULE, "{:>20}  {:>25} {:>15}".format("Layer (type)", "Output Shape", "Param #"),
                _SUMMARY_DOUBLE]
        for call in self.calls:
            rows.append("{:>20}  {:>25} {:>15}".format(
                call.label, str(list(call.output_shape)), f"{call.params:,}"))
        return [*rows, _SUMMARY_DOUBLE, *self.lines()]


def torchsummary_estimate(
    graph: LayerGraph,
    shapes: dict[str, Shape] | None = None,
    *,
    batch_size: int = -1,
    functional: Collection[str] = FUNCTIONAL_KINDS,
    blocks: str | Iterable[str] = "branching",
    block_label: str | Callable[[str], str] = "Block",
) -> Estimate:
    """What `torchsummary.summary(model, input_size, batch_size)` (1.5.1) prints for the model
    the spec mirrors. `blocks` and `functional` select the rows (see the module docstring);
    `block_label` names a block row's class (torchvision: `Bottleneck`), by scope name if a
    callable. The graph's batch and dtype play no part: torchsummary uses `batch_size` and 4 bytes.

    >>> from cnncalc.spec import load_graph
    >>> e = torchsummary_estimate(load_graph("resnet50"))
    >>> [c.label for c in e.calls[4:16]][-1], e.lines()[5]
    ('Block-16', 'Forward/backward pass size (MB): 286.56')
    """
    shapes = infer_shapes(graph) if shapes is None else shapes
    modules = _scope_selection(graph, blocks)
    label_of = block_label if callable(block_label) else (lambda _scope, _l=block_label: _l)
    last_node = _last_nodes(graph)
    outputs = _block_outputs(graph)
    calls: list[Call] = []

    def add(name: str, cls: str, shape: Shape, params: int, trainable: bool, block: bool) -> None:
        shown = (batch_size, *shape[1:]) if shape else shape
        calls.append(Call(name, f"{cls}-{len(calls) + 1}", shown, params, trainable, block))

    for node in graph:
        if node.is_input:
            continue
        if node.kind.name not in functional:
            owner = graph.nodes[node.share] if node.share is not None else node
            add(node.name, type(node.kind).__name__, shapes[node.name], _params(node, shapes),
                owner.trainable, False)
        for scope in reversed(node.scopes):  # blocks finish innermost first, after their layers
            if last_node[scope] == node.name and scope in modules:
                add(scope, label_of(scope), shapes[outputs[scope]], 0, True, True)

    params = sum(c.params for c in calls)
    dims = [d for n in graph.inputs for d in shapes[n.name][1:]]  # np.prod of all input shapes
    return Estimate(
        style="torchsummary",
        params=params,
        trainable_params=sum(c.params for c in calls if c.trainable),
        input_bytes=abs(prod(dims) * batch_size) * 4,
        forward_backward_bytes=2 * abs(sum(prod(c.output_shape) for c in calls)) * 4,
        params_bytes=params * 4,
        calls=tuple(calls),
    )


def torchinfo_estimate(
    graph: LayerGraph,
    shapes: dict[str, Shape] | None = None,
    *,
    storage_overhead: int = TORCHINFO_STORAGE_OVERHEAD,
) -> Estimate:
    """What `torchinfo.summary(model, input_size=...)` (1.8) prints for the model the spec
    mirrors, at the graph's batch and dtype.

    >>> from cnncalc.spec import load_graph
    >>> e = torchinfo_estimate(load_graph("mnist1d_cnn"))
    >>> e.mult_adds, e.forward_backward_bytes
    (1072000, 392000)
    """
    from cnncalc.conventions import registry, torchinfo  # the module calls the hooks see

    shapes = infer_shapes(graph) if shapes is None else shapes
    size = element_bytes(graph)
    calls: list[Call] = []
    owned = trainable = 0
    for layer in registry.calls(graph, shapes):
        node = layer.node
        owner = graph.nodes[node.share] if node.share is not None else node
        if node.share is None:
            count = _params(node, shapes)
            owned += count
            trainable += count if node.trainable else 0
        for module in layer.module.walk():  # leaves: a composite module is counted through them
            params = sum(elements for _, elements in module.params)
            if module.leaf and params:
                calls.append(Call(node.name, module.cls, module.out, params, owner.trainable,
                                  mult_adds=sum(torchinfo.module_mult_adds(module).values())))
    inputs = sum(prod(shapes[n.name]) * size + storage_overhead for n in graph.inputs)
    return Estimate(
        style="torchinfo",
        params=owned,
        trainable_params=trainable,
        input_bytes=inputs,
        forward_backward_bytes=2 * sum(prod(c.output_shape) * size for c in calls),
        params_bytes=owned * size,
        mult_adds=sum(c.mult_adds for c in calls),
        calls=tuple(calls),
    )


def module_scopes(graph: LayerGraph) -> list[str]:
    """The block scopes that cannot be an `nn.Sequential` (the default rule for block rows)."""
    readers: dict[str, list[str]] = {}
    for node in graph:
        for source in (*node.inputs, *node.refs):
            readers.setdefault(source, []).append(node.name)
    outputs = set(graph.outputs)
    return [scope for scope, depth in _scopes(graph).items()
            if not _is_chain(graph, scope, depth, readers, outputs)]


# ---------------------------------------------------------------------------------------------


def _params(node: LayerNode, shapes: dict[str, Shape]) -> int:
    """The parameters of the module this node calls (a shared module's, on each call)."""
    return node.kind.params(node.attrs, [shapes[n] for n in node.inputs], shapes[node.name]).params


def _scopes(graph: LayerGraph) -> dict[str, int]:
    """Every scope with its depth (1: outermost), in order of first appearance."""
    found: dict[str, int] = {}
    for node in graph:
        for depth, scope in enumerate(node.scopes, 1):
            found.setdefault(scope, depth)
    return found


def _scope_selection(graph: LayerGraph, blocks: str | Iterable[str]) -> set[str]:
    if blocks == "branching":
        return set(module_scopes(graph))
    if blocks == "none":
        return set()
    if isinstance(blocks, str):
        raise ValueError(f"blocks={blocks!r}: expected 'branching', 'none' or scope name patterns")
    patterns = list(blocks)
    return {scope for scope in _scopes(graph) if any(fnmatchcase(scope, p) for p in patterns)}


def _last_nodes(graph: LayerGraph) -> dict[str, str]:
    last: dict[str, str] = {}
    for node in graph:
        for scope in node.scopes:
            last[scope] = node.name
    return last


def _block_outputs(graph: LayerGraph) -> dict[str, str]:
    """The layer whose output a block returns: the last of its layers read from outside it (or
    a model output), else its last layer."""
    members: dict[str, list[LayerNode]] = {}
    for node in graph:
        for scope in node.scopes:
            members.setdefault(scope, []).append(node)
    order = {name: index for index, name in enumerate(graph.nodes)}
    read_outside: dict[str, str] = {}
    for node in graph:
        for source in (*node.inputs, *node.refs):
            for scope in graph.nodes[source].scopes:
                if scope not in node.scopes:
                    read_outside[scope] = max(read_outside.get(scope, source), source, key=order.__getitem__)
    result = {}
    for scope, nodes in members.items():
        result[scope] = read_outside.get(scope, nodes[-1].name)
        if nodes[-1].name in graph.outputs:
            result[scope] = nodes[-1].name
    return result


def _is_chain(graph: LayerGraph, scope: str, depth: int, readers: dict[str, list[str]],
              outputs: set[str]) -> bool:
    """Whether the scope's direct members (its own layers and nested scopes, in order) form a
    chain: each reads exactly one tensor from outside itself, the previous member's output (the
    first: the scope's input), and only the next member reads a member's output (the last's
    output leaves the scope)."""
    members: dict[str, list[str]] = {}  # member (a layer or a nested scope) -> its layers
    for node in graph:
        if len(node.scopes) >= depth and node.scopes[depth - 1] == scope:
            key = node.scopes[depth] if len(node.scopes) > depth else node.name
            members.setdefault(key, []).append(node.name)
    member_of = {name: key for key, names in members.items() for name in names}
    keys = list(members)
    previous: list[str] | None = None
    for index, key in enumerate(keys):
        inside = set(members[key])
        reads = list(dict.fromkeys(
            source for name in members[key] for node in [graph.nodes[name]]
            for source in (*node.inputs, *node.refs) if source not in inside))
        if len(reads) != 1 or (previous is not None and reads != previous):
            return False
        leaving = [name for name in members[key]
                   if name in outputs or any(r not in inside for r in readers.get(name, ()))]
        if len(leaving) > 1:
            return False
        if index < len(keys) - 1 and any(  # read by a later member, or outside the scope
            name in outputs or member_of.get(reader) != keys[index + 1]
            for name in leaving for reader in readers.get(name, ()) if reader not in inside
        ):
            return False
        previous = leaving
    return True


def _torchinfo_number(num: int) -> str:
    """torchinfo's `ModelStatistics.format_output_num(num, Units.AUTO)`, unit label included.

    Its `Units` is a `str` Enum formatted with an f-string: `M` before Python 3.11,
    `Units.MEGABYTES` from 3.11 on (what seed 001 shows).
    """
    if num >= 1e12:
        unit, value = "TERABYTES", num / 1e12
    elif num >= 1e9:
        unit, value = "GIGABYTES", num / 1e9
    else:
        unit, value = "MEGABYTES", num / 1e6
    label = f"Units.{unit}" if sys.version_info >= (3, 11) else unit[0]
    shown = f"{int(value):,d}" if value.is_integer() else f"{value:,.2f}"
    return f" ({label}): {shown}"
