"""The layer graph: expanded, fully named layers in execution order.

Nodes are added in the order the spec writes them and may only read earlier nodes, so insertion
order is a topological order. The networkx view is built on demand for graph queries.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cnncalc.errors import Span
from cnncalc.layers.base import Attrs, LayerKind

if TYPE_CHECKING:
    import networkx as nx


@dataclass(frozen=True)
class LayerNode:
    """One layer call in the expanded graph."""

    name: str
    kind: LayerKind
    attrs: Attrs
    inputs: tuple[str, ...]
    span: Span | None = None
    #: enclosing block instances and repeat groups, outermost first ("layer1", "layer1.0")
    scopes: tuple[str, ...] = ()
    #: other layers this one refers to by attribute (e.g. the pool whose indices unpooling uses)
    refs: tuple[str, ...] = ()
    #: the layer whose parameters this call uses (weight sharing), if any
    share: str | None = None
    trainable: bool = True

    @property
    def is_input(self) -> bool:
        return self.kind.max_inputs == 0


@dataclass
class LayerGraph:
    name: str
    dtype: str = "float32"
    batch: int = 1
    nodes: dict[str, LayerNode] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    #: the spec's `budgets:` and `lints:` sections (source nodes), read by `cnncalc check`
    sections: dict[str, Any] = field(default_factory=dict)

    def add(self, node: LayerNode) -> None:
        assert node.name not in self.nodes, node.name
        self.nodes[node.name] = node

    def __iter__(self) -> Iterator[LayerNode]:
        return iter(self.nodes.values())

    def __len__(self) -> int:
        return len(self.nodes)

    @property
    def inputs(self) -> list[LayerNode]:
        return [node for node in self.nodes.values() if node.is_input]

    def with_batch(self, batch: int) -> LayerGraph:
        """The same graph with every input's batch size set to `batch`."""
        from dataclasses import replace

        nodes = {name: replace(node, attrs=Attrs({**node.attrs, "batch": batch})) if node.is_input else node
                 for name, node in self.nodes.items()}
        return replace(self, batch=batch, nodes=nodes)

    def to_networkx(self) -> nx.DiGraph:
        """A DiGraph with an edge from every input (and attribute reference) to its reader."""
        import networkx as nx

        graph = nx.DiGraph()
        for node in self.nodes.values():
            graph.add_node(node.name, node=node)
            for source in (*node.inputs, *node.refs):
                graph.add_edge(source, node.name)
        return graph

    def unused(self) -> list[str]:
        """Layers whose output reaches no model output (a reverse walk; no networkx needed)."""
        needed: set[str] = set()
        stack = list(self.outputs)
        while stack:
            name = stack.pop()
            if name in needed:
                continue
            needed.add(name)
            node = self.nodes[name]
            stack.extend(node.inputs)
            stack.extend(node.refs)
        return [name for name in self.nodes if name not in needed]
