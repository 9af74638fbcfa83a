"""Measured memory of the torch model of a LayerGraph: the reference the analytic memory model
is checked against.

Every figure is bytes. What is measured:

- `baseline`: the distinct storages of the model's parameters, its buffers and the input
  tensor(s), from the tensors themselves (`untyped_storage().nbytes()`): what is allocated before
  the measured region starts.
- `peak`: baseline + the highest net amount the *allocator* had handed out at any moment of the
  region (its allocations minus its frees, replayed in time order). On the CPU the events come
  from the torch profiler (`profile_memory=True`); on CUDA from the caching allocator's counters
  (`max_memory_allocated()` minus `memory_allocated()` at the start, after a synchronize). It
  includes what kernels allocate for themselves and free before returning: im2col buffers of CPU
  convolutions, oneDNN reorders and scratchpads, cuDNN workspaces.
- `tensor_peak`: the same running maximum over the storages operators *return* only: a
  TorchDispatchMode sees every operator's outputs and a `weakref.finalize` on each new storage
  sees its free (torch keeps a storage's Python object alive as long as the storage). Kernel
  workspaces are not in it: it is the figure a model of tensor lifetimes should reproduce.
- `end`, `tensor_end`: baseline + what is still allocated when the region ends.
- training only: `forward_peak` / `tensor_forward_peak`, the maximum during the forward alone,
  and `after_forward` / `tensor_after_forward`, baseline + what is allocated just after the
  forward returned (the tensors saved for backward, and the outputs).

The regions (the model in `graph.dtype` on `device`, a random input of the graph's input shapes):

- inference: `model.eval()`, one forward under `torch.no_grad()`, after one unmeasured forward
  (lazy allocations, such as oneDNN's caches, are excluded); the outputs are kept, so `end` is
  baseline + outputs;
- training: `model.train()`, plain SGD (lr 0.01, no momentum), one unmeasured step, then one
  measured step: forward, `loss = sum(o.sum())` over the floating outputs (each output handed a
  gradient of its own size, as a real loss does), `loss.backward()`,
  `opt.step()`, `opt.zero_grad(set_to_none=True)`, the outputs and the loss referenced until the
  step ends. The gradients are None when it starts, so `end` is the baseline again.

The forward is GraphModule's (`run_graph`), which drops each node's output after its last
reader, as a hand-written model's locals go out of scope; `release=False` keeps every output to
the end of the forward (a forward that keeps a dict of all outputs).

On the CPU, the profiler reports a free only when it saw the allocation (a block allocated
before the profile starts frees silently), and it records events through thread-local state,
so an allocation made on an intra-op worker thread may go unseen: measure with
`torch.set_num_threads(1)` for a reference figure (`Measured.unmatched` counts the frees seen
without their allocation; it is 0 on every model tried, with 1 or 2 threads). `prof.events()`
is no use for this: it folds the allocations inside an operator into the operator's
`cpu_memory_usage`, leaving as `[memory]` rows only those made outside any operator; the raw
event tree (`prof.profiler.kineto_results.experimental_event_tree()`) has every allocation with
its pointer, signed size and time. CPU blocks are the exact size asked for; CUDA's caching
allocator rounds each block up to a multiple of 512 bytes, and its `peak` includes that.

`saved_for_backward` lists, per layer, the tensors autograd packs for backward.

This module imports torch lazily; the analytic path never imports it.
"""

from __future__ import annotations

import contextlib
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from cnncalc.graph import LayerGraph
from cnncalc.torch_backend.device import require_torch, resolve_device

__all__ = [
    "Measured", "SavedBytes", "SavedTensor", "SavedTensors", "measure_inference",
    "measure_training", "run_graph", "saved_bytes", "saved_for_backward",
]

LEARNING_RATE = 0.01
#: the profiler range around the forward of a measured training step
FORWARD_RANGE = "cnncalc.memory.forward"
COMMAND = "memory"


# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """One measurement (see the module docstring for what each figure is); bytes."""

    mode: str  # "inference" or "training"
    device: str
    method: str  # "profiler" (CPU allocator events) or "cuda" (caching allocator counters)
    batch: int
    dtype: str
    release: bool  # each output dropped after its last reader (False: all kept to the end)
    params: int
    buffers: int
    inputs: int
    peak: int
    end: int
    tensor_peak: int
    tensor_end: int
    forward_peak: int | None = None
    after_forward: int | None = None
    tensor_forward_peak: int | None = None
    tensor_after_forward: int | None = None
    unmatched: int = 0  # CPU: frees seen without their allocation (0 when the trace is whole)
    wall_s: float = 0.0  # seconds of the measured region, measuring overhead included

    @property
    def baseline(self) -> int:
        """Parameters + buffers + inputs."""
        return self.params + self.buffers + self.inputs

    @property
    def workspace(self) -> int:
        """How far the allocator's peak exceeds the tensors' (kernel-internal buffers; the two
        peaks may fall at different moments)."""
        return self.peak - self.tensor_peak


@dataclass(frozen=True)
class SavedTensor:
    """One tensor autograd packed for backward."""

    data_ptr: int  # of its untyped storage
    nbytes: int  # of its untyped storage (a view holds its whole storage)
    dtype: str
    shape: tuple[int, ...]
    is_parameter: bool  # a parameter or a view of one (linear's weight.t())
    is_buffer: bool = False  # a buffer or a view of one
    is_input: bool = False  # a model input or a view of one


@dataclass(frozen=True)
class SavedTensors:
    """What one layer's operators packed for backward, in packing order."""

    layer: str
    tensors: tuple[SavedTensor, ...]

    @property
    def bytes(self) -> int:
        """The distinct storages that are not parameters or buffers (a model input counts)."""
        return sum(_activation_storages(self.tensors).values())


@dataclass(frozen=True)
class SavedBytes:
    per_layer: dict[str, int]  # SavedTensors.bytes of each layer that saved anything
    total: int  # over the model, each storage once however many layers saved it
    inputs: int  # the part of `total` that is model inputs (already in the baseline)


# --- following tensors -------------------------------------------------------------------------


class _Timeline:
    """A running total of bytes, its maximum, and named marks (total, maximum so far)."""

    def __init__(self) -> None:
        self.total = 0
        self.peak = 0
        self.marks: dict[str, tuple[int, int]] = {}

    def add(self, nbytes: int) -> None:
        self.total += nbytes
        self.peak = max(self.peak, self.total)

    def mark(self, name: str) -> None:
        self.marks[name] = (self.total, self.peak)


def _storages(tensors: Iterable[Any]) -> dict[int, int]:
    """The distinct storages (data pointer -> nbytes) of `tensors`, empty ones left out."""
    out: dict[int, int] = {}
    for tensor in tensors:
        storage = tensor.untyped_storage()
        if storage.nbytes():
            out[storage.data_ptr()] = storage.nbytes()
    return out


def _storage_tracker(torch: Any, known: set[int]) -> Any:
    """A TorchDispatchMode whose `timeline` follows the storages that operators return.

    A returned storage is new when its data pointer is neither live in the tracker nor `known`
    (the parameters', buffers', inputs'). Its free is seen by a `weakref.finalize` on its Python
    storage object, which torch keeps alive exactly as long as the storage itself.
    """
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_leaves

    class StorageTracker(TorchDispatchMode):  # type: ignore[no-untyped-call]
        def __init__(self) -> None:
            super().__init__()  # type: ignore[no-untyped-call]
            self.timeline = _Timeline()
            self.live: dict[int, int] = {}
            self.finalizers: list[Any] = []  # weakref.finalize

        def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            out = func(*args, **(kwargs or {}))
            for leaf in tree_leaves(out):
                if isinstance(leaf, torch.Tensor):
                    self._see(leaf)
            return out

        def _see(self, tensor: Any) -> None:
            try:
                storage = tensor.untyped_storage()
            except (RuntimeError, NotImplementedError):  # opaque (mkldnn) or sparse tensors
                return
            ptr, nbytes = storage.data_ptr(), storage.nbytes()
            if nbytes == 0 or ptr in self.live or ptr in known:
                return
            self.live[ptr] = nbytes
            self.timeline.add(nbytes)
            self.finalizers.append(weakref.finalize(storage, self._freed, ptr, nbytes))

        def _freed(self, ptr: int, nbytes: int) -> None:
            if self.live.get(ptr) == nbytes:
                del self.live[ptr]
                self.timeline.add(-nbytes)

        def close(self) -> None:
            """Stop following the storages still alive."""
            for finalizer in self.finalizers:
                finalizer.detach()
            self.finalizers.clear()

    return StorageTracker()


# --- the CPU allocator, through the profiler -------------------------------------------------


@dataclass
class _AllocatorTrace:
    """The allocator's events in time order, and the end of the forward when it is marked."""

    events: list[tuple[int, int, int]] = field(default_factory=list)  # (time ns, ptr, +/- bytes)
    forward_end_ns: int | None = None

    def timeline(self) -> tuple[_Timeline, int]:
        """The running total, and how many frees came without their allocation."""
        timeline = _Timeline()
        live: set[int] = set()
        unmatched = 0
        for when, ptr, delta in self.events:
            if self.forward_end_ns is not None and when > self.forward_end_ns and not timeline.marks:
                timeline.mark(FORWARD_RANGE)
            if delta > 0:
                live.add(ptr)
            elif ptr in live:
                live.discard(ptr)
            else:
                unmatched += 1
            timeline.add(delta)
        if self.forward_end_ns is not None and not timeline.marks:
            timeline.mark(FORWARD_RANGE)
        return timeline, unmatched


def _read_profile(prof: Any) -> _AllocatorTrace:
    """The CPU allocations and frees (pointer, signed size) in the profiler's raw event tree,
    sorted by time (ties in tree order), and the end of the FORWARD_RANGE range."""
    trace = _AllocatorTrace()
    events: list[tuple[int, int, int, int]] = []
    stack = list(reversed(prof.profiler.kineto_results.experimental_event_tree()))
    while stack:
        node = stack.pop()
        fields = node.extra_fields
        kind = type(fields).__name__
        if kind == "_ExtraFields_Allocation":
            if fields.device.type == "cpu" and fields.alloc_size != 0:
                events.append((node.start_time_ns, len(events), fields.ptr, fields.alloc_size))
        elif node.name == FORWARD_RANGE:
            trace.forward_end_ns = node.end_time_ns
        stack.extend(reversed(node.children))  # preorder: the tree's own order breaks ties
    events.sort()
    trace.events = [(when, ptr, size) for when, _, ptr, size in events]
    return trace


@contextlib.contextmanager
def _allocator_trace(torch: Any, device: str) -> Iterator[_AllocatorTrace]:
    """Record the CPU allocator's events in the block (the trace is filled in on exit); on
    CUDA, record nothing (the caller reads the caching allocator's counters)."""
    trace = _AllocatorTrace()
    if device != "cpu":
        yield trace
        return
    from torch.profiler import ProfilerActivity, profile

    from cnncalc.torch_backend.profile import _quiet_stderr

    with _quiet_stderr():
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            yield trace
    recorded = _read_profile(prof)
    trace.events, trace.forward_end_ns = recorded.events, recorded.forward_end_ns


# --- measuring ---------------------------------------------------------------------------------


def _setup(graph: LayerGraph, device: str) -> tuple[Any, str, Any, tuple[Any, ...]]:
    """torch, the resolved device, the model in graph.dtype and its example inputs."""
    from cnncalc.torch_backend.build import build, example_inputs

    torch = require_torch(COMMAND)
    device = resolve_device(device, COMMAND)
    dtype = getattr(torch, graph.dtype)
    return torch, device, build(graph, device, dtype), example_inputs(graph, device, dtype)


def run_graph(model: Any, inputs: Sequence[Any], *, release: bool = True,
              on_layer: Callable[[str], None] | None = None) -> Any:
    """`model(*inputs)` for a GraphModule, which drops each output after its last reader, as a
    hand-written model's locals are (a model output is kept); without `release`, every output is
    kept until the forward ends (GraphModule's `record`). `on_layer(name)` is called before each
    node runs."""
    record, hook = model.record, model.on_layer
    model.record, model.on_layer = not release, on_layer
    try:
        return model(*inputs)
    finally:
        model.record, model.on_layer, model.outputs = record, hook, {}


def _measure(torch: Any, graph: LayerGraph, model: Any, inputs: tuple[Any, ...], device: str,
             mode: str, release: bool, region: Callable[[Callable[[], None]], None],
             held: Sequence[Any] = ()) -> Measured:
    """Run `region(end_of_forward)` once, following the allocator and the tensors. `held`: other
    tensors that live across steps (the optimizer's state), counted in the baseline."""
    params = _storages(model.parameters())
    buffers = {p: n for p, n in _storages(model.buffers()).items() if p not in params}
    inputs_held = {p: n for p, n in _storages(inputs).items() if p not in params and p not in buffers}
    state = {p: n for p, n in _storages(held).items() if p not in params and p not in buffers}
    baseline = sum(params.values()) + sum(buffers.values()) + sum(inputs_held.values()) + sum(state.values())
    tracker = _storage_tracker(torch, {*params, *buffers, *inputs_held, *state})
    cuda = device.startswith("cuda")
    cuda_forward: list[tuple[int, int]] = []

    def end_of_forward() -> None:
        tracker.timeline.mark(FORWARD_RANGE)
        if cuda:
            torch.cuda.synchronize(device)
            cuda_forward.append((torch.cuda.memory_allocated(device), torch.cuda.max_memory_allocated(device)))

    start = 0
    if cuda:
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        start = torch.cuda.memory_allocated(device)
    begin = time.perf_counter()
    try:
        with _allocator_trace(torch, device) as trace:
            with tracker:
                region(end_of_forward)
            if cuda:
                torch.cuda.synchronize(device)
    finally:
        tracker.close()
    wall_s = time.perf_counter() - begin
    unmatched = 0
    if cuda:
        end = torch.cuda.memory_allocated(device) - start
        peak = torch.cuda.max_memory_allocated(device) - start
        forward = (cuda_forward[0][0] - start, cuda_forward[0][1] - start) if cuda_forward else None
        method = "cuda"
    else:
        allocator, unmatched = trace.timeline()
        end, peak, forward = allocator.total, allocator.peak, allocator.marks.get(FORWARD_RANGE)
        method = "profiler"
    tensors = tracker.timeline
    tensor_forward = tensors.marks.get(FORWARD_RANGE)

    def plus(value: int | None) -> int | None:
        return None if value is None else baseline + value

    return Measured(
        mode=mode, device=device, method=method, batch=graph.batch, dtype=graph.dtype, release=release,
        params=sum(params.values()), buffers=sum(buffers.values()), inputs=sum(inputs_held.values()),
        peak=baseline + peak, end=baseline + end,
        tensor_peak=baseline + tensors.peak, tensor_end=baseline + tensors.total,
        forward_peak=plus(forward[1] if forward else None),
        after_forward=plus(forward[0] if forward else None),
        tensor_forward_peak=plus(tensor_forward[1] if tensor_forward else None),
        tensor_after_forward=plus(tensor_forward[0] if tensor_forward else None),
        unmatched=unmatched, wall_s=wall_s,
    )


def _autocast(torch: Any, device: str, amp: str | None) -> Any:
    """torch.autocast for `amp` ("bf16" | "fp16") on the device, or a context that does nothing."""
    import contextlib

    if amp is None:
        return contextlib.nullcontext()
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[amp]
    return torch.autocast(device.split(":")[0], dtype=dtype)


def measure_inference(graph: LayerGraph, device: str = "cpu", *, release: bool = True,
                      inference_mode: bool = False, amp: str | None = None) -> Measured:
    """Memory of one inference forward: `model.eval()` under `torch.no_grad()` (or
    `torch.inference_mode()`), after one unmeasured forward. `peak`: baseline + the allocator's
    highest net allocation during the forward; `tensor_peak`: operator outputs only; `end`:
    baseline + the outputs.

    no_grad is the default: inference_mode allocates the same bytes at the same moments (the
    tests check it; it only skips version counters and view tracking, which own no storage),
    and no_grad is what an ordinary evaluation loop runs.
    """
    torch, device, model, inputs = _setup(graph, device)
    model.eval()
    mode = torch.inference_mode if inference_mode else torch.no_grad
    with mode(), _autocast(torch, device, amp):
        run_graph(model, inputs, release=release)
    kept: list[Any] = []

    def region(end_of_forward: Callable[[], None]) -> None:
        with mode(), _autocast(torch, device, amp):
            kept.append(run_graph(model, inputs, release=release))

    result = _measure(torch, graph, model, inputs, device, "inference", release, region)
    kept.clear()
    return result


OPTIMIZERS = {
    "sgd": lambda torch, params: torch.optim.SGD(params, lr=LEARNING_RATE),
    "momentum": lambda torch, params: torch.optim.SGD(params, lr=LEARNING_RATE, momentum=0.9),
    "adam": lambda torch, params: torch.optim.Adam(params, lr=LEARNING_RATE),
    "adamw": lambda torch, params: torch.optim.AdamW(params, lr=LEARNING_RATE),
}


def measure_training(graph: LayerGraph, device: str = "cpu", *, release: bool = True,
                     amp: str | None = None, optimizer: str = "sgd") -> Measured:
    """Memory of one optimizer step (SGD lr 0.01 by default; `optimizer` momentum, adam or adamw
    with torch's defaults, their state created by the first step and counted in the baseline)
    in `model.train()`, after one unmeasured
    step: forward, `loss = sum(o.sum())` over the floating outputs (each output's gradient
    materialized, as a real loss's is: `_seeded_sum`), `loss.backward()`, `opt.step()`, `opt.zero_grad(set_to_none=True)`; the gradients are None when it starts, and
    the outputs and the loss stay referenced until the step ends (a training loop's locals).

    `peak` covers the whole step, `forward_peak` the forward alone; `after_forward` is what is
    allocated right after the forward (baseline + saved-for-backward tensors + outputs). The
    parameters of layers marked not trainable get no gradient. `amp` runs the forward under
    torch.autocast (bf16/fp16) with the float32 weights as masters, as a mixed-precision loop does.
    """
    torch, device, model, inputs = _setup(graph, device)
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = OPTIMIZERS[optimizer](torch, trainable) if trainable else None

    def step(end_of_forward: Callable[[], None]) -> None:
        # the outputs and the loss stay referenced until the step returns, as the locals of a
        # training loop (`out = model(x); loss = ...; loss.backward(); opt.step()`) do
        with torch.profiler.record_function(FORWARD_RANGE), _autocast(torch, device, amp):
            out = run_graph(model, inputs, release=release)
        end_of_forward()
        outputs = out if isinstance(out, tuple) else (out,)
        floating = [o for o in outputs if o.is_floating_point() and o.requires_grad]
        loss = sum(_seeded_sum(torch, o) for o in floating) if floating else None
        if loss is not None:
            loss.backward()
        if opt is not None:
            opt.step()
            opt.zero_grad(set_to_none=True)

    step(lambda: None)
    model.zero_grad(set_to_none=True)
    state = [t for entry in (opt.state.values() if opt is not None else ()) for t in entry.values()
             if isinstance(t, torch.Tensor)]
    return _measure(torch, graph, model, inputs, device, "training", release, step, held=state)


def _seeded_sum(torch: Any, output: Any) -> Any:
    """`output.sum()`, whose backward hands the output a gradient of its own size and dtype, as
    a real loss does (cross-entropy's is softmax minus one-hot, a fresh tensor), not the
    expanded scalar `sum` passes back (no memory at all, so a dense output's gradient, which a
    per-pixel loss allocates, would go unmeasured)."""

    class SeededSum(torch.autograd.Function):  # type: ignore[misc]  # torch is imported lazily (Any)
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            ctx.shape = x.shape
            return x.sum()

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            return grad.expand(ctx.shape).contiguous()

    return SeededSum.apply(output)


# --- saved for backward ------------------------------------------------------------------------


def saved_for_backward(graph: LayerGraph, device: str = "cpu") -> dict[str, SavedTensors]:
    """What each layer's operators pack for backward, from one forward in `model.train()`.

    The forward (`run_graph`) runs under `torch.autograd.graph.saved_tensors_hooks`; a packed
    tensor belongs to the node being run when it is packed. The input does not require grad;
    parameters do unless their layer is not trainable. Layers that save nothing are absent.
    A tensor is flagged parameter / buffer / input when its storage is one of theirs (so
    linear's `weight.t()` is the weight). Every packed tensor stays alive until the forward
    ends, so one data pointer is one storage. Nothing is unpacked: backward never runs.
    """
    torch, device, model, inputs = _setup(graph, device)
    model.train()
    params = _storages(model.parameters())
    buffers = _storages(model.buffers())
    ins = _storages(inputs)
    current: list[str | None] = [None]
    records: dict[str, list[SavedTensor]] = {}
    alive: list[Any] = []

    def pack(tensor: Any) -> Any:
        alive.append(tensor)
        name = current[0]
        if name is None:
            return tensor.detach()
        try:
            storage = tensor.untyped_storage()
            ptr, nbytes = storage.data_ptr(), storage.nbytes()
        except (RuntimeError, NotImplementedError):  # an opaque tensor: its own bytes
            ptr, nbytes = id(tensor), tensor.numel() * tensor.element_size()
        records.setdefault(name, []).append(SavedTensor(
            ptr, nbytes, str(tensor.dtype).removeprefix("torch."), tuple(tensor.shape),
            is_parameter=ptr in params, is_buffer=ptr in buffers and ptr not in params,
            is_input=ptr in ins,
        ))
        return tensor.detach()  # no reference cycle through the tensor's own grad_fn

    def on_layer(name: str) -> None:
        current[0] = name

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        out = run_graph(model, inputs, on_layer=on_layer)
    del out
    alive.clear()
    return {name: SavedTensors(name, tuple(tensors)) for name, tensors in records.items()}


def _activation_storages(tensors: Iterable[SavedTensor]) -> dict[int, int]:
    return {t.data_ptr: t.nbytes for t in tensors if not (t.is_parameter or t.is_buffer)}


def saved_bytes(saved: dict[str, SavedTensors]) -> SavedBytes:
    """Bytes saved for backward per layer (its distinct storages that are not parameters or
    buffers) and over the model (each such storage once, however many layers saved it)."""
    everything: dict[int, int] = {}
    inputs: dict[int, int] = {}
    for layer in saved.values():
        everything.update(_activation_storages(layer.tensors))
        inputs.update((t.data_ptr, t.nbytes) for t in layer.tensors if t.is_input)
    return SavedBytes({name: layer.bytes for name, layer in saved.items()},
                      sum(everything.values()), sum(inputs.values()))
