"""Build the torch model of a LayerGraph: one nn.Module that runs the nodes in order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from cnncalc.analysis.shapes import infer_shapes
from cnncalc.graph import LayerGraph
from cnncalc.layers.upsample import MaxUnpoolNd


class GraphModule(nn.Module):
    """Runs a LayerGraph's nodes in execution order.

    `layers[k]` is the module of the k-th non-input node (a node that shares weights reuses its
    owner's module). With `record = True`, `forward` keeps every node's output in `outputs`;
    with `label = True`, each node runs inside a profiler range named `cnncalc:NODE` (for
    `cnncalc profile`; off by default, when it costs one flag test per node).
    Max unpooling gets the indices of the max pool it names (that pool returns them).
    Unless recording, each output is dropped after its last reader (an output nothing reads at
    once), as a hand-written model's locals are, so the memory a forward holds is what the graph
    needs (`cnncalc memory`). `on_layer(name)`, when set, is called before each node runs.
    """

    def __init__(self, graph: LayerGraph):
        super().__init__()
        shapes = infer_shapes(graph)
        self.graph = graph
        self.layers = nn.ModuleList()
        self.index: dict[str, int] = {}
        self.record = False
        self.label = False
        self.outputs: dict[str, torch.Tensor] = {}
        self.on_layer: Callable[[str], None] | None = None
        #: max unpooling layer -> the max pool whose indices it takes
        self.indices_from: dict[str, str] = {}
        for node in graph:
            if node.is_input:
                continue
            if node.share is not None:
                self.index[node.name] = self.index[node.share]
                continue
            module = node.kind.torch_module(
                node.attrs, [shapes[n] for n in node.inputs], shapes[node.name]
            )
            if not node.trainable:
                for parameter in module.parameters():
                    parameter.requires_grad_(False)
            self.index[node.name] = len(self.layers)
            self.layers.append(module)
            if isinstance(node.kind, MaxUnpoolNd) and node.refs:
                pool = self.layers[self.index[node.refs[0]]] if node.refs[0] in self.index else None
                if isinstance(pool, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)):
                    pool.return_indices = True
                    self.indices_from[node.name] = node.refs[0]
        self.pools_with_indices = frozenset(self.indices_from.values())
        #: node -> the names whose outputs (and indices) no later node reads
        self.drop_after: dict[str, list[str]] = {}
        last: dict[str, str] = {node.name: node.name for node in graph}
        for node in graph:
            for name in (*node.inputs, *node.refs):
                last[name] = node.name
        for name, reader in last.items():
            if name not in graph.outputs:
                self.drop_after.setdefault(reader, []).append(name)

    def forward(self, *inputs: torch.Tensor) -> Any:
        values: dict[str, torch.Tensor] = {}
        indices: dict[str, torch.Tensor] = {}
        feed = iter(inputs)
        for node in self.graph:
            if node.is_input:
                values[node.name] = next(feed)
                continue
            if self.on_layer is not None:
                self.on_layer(node.name)
            module = self.layers[self.index[node.name]]
            args = [values[n] for n in node.inputs]
            if node.name in self.indices_from:
                args.append(indices[self.indices_from[node.name]])
            if self.label:
                with torch.profiler.record_function(f"cnncalc:{node.name}"):
                    value = module(*args)
            else:
                value = module(*args)
            if node.name in self.pools_with_indices:
                value, indices[node.name] = value
            values[node.name] = value
            del args, value  # no reference outlives the values the graph still needs
            if not self.record:
                for name in self.drop_after.get(node.name, ()):
                    values.pop(name, None)
                    indices.pop(name, None)
        if self.record:
            self.outputs = values
        results = tuple(values[name] for name in self.graph.outputs)
        return results[0] if len(results) == 1 else results


def build(graph: LayerGraph, device: str = "cpu", dtype: Any = None) -> GraphModule:
    model = GraphModule(graph)
    return model.to(device=device, dtype=dtype) if dtype is not None else model.to(device)


def example_inputs(graph: LayerGraph, device: str = "cpu", dtype: Any = torch.float32) -> tuple[torch.Tensor, ...]:
    shapes = infer_shapes(graph)
    generator = torch.Generator().manual_seed(0)
    return tuple(
        torch.randn(*shapes[node.name], generator=generator, dtype=dtype).to(device)
        for node in graph.inputs
    )
