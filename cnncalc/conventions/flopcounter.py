"""torch.utils.flop_counter.FlopCounterMode (torch 2.x): `get_total_flops()` of an inference
forward (profile `flopcounter`) and of one training step, forward + backward of a scalar loss
(profile `flopcounter_train`).

FlopCounterMode counts the aten operators it has a formula for, 2 FLOPs per multiply-add:
convolutions (transposed ones on the input grid), mm / addmm / bmm / baddbmm (so linear layers
and matmuls; the bias add of addmm is not counted) and attention kernels. Nothing else:
normalization, activations, pooling, merges, upsampling and bias adds cost 0. A matmul whose
second operand is a vector runs as `mv`/`dot`, which it does not count.

Its forward is therefore 2 * cnncalc's MACs. Its backward counts grad-input and grad-weight of
every convolution and product (cnncalc's `backward_flops` without grad-bias), except that the
grad-weight of a grouped convolution is counted `groups` times over: its formula correlates
every input channel with every output channel (flagged; `cnncalc verify` corrects it).
"""

from __future__ import annotations

from cnncalc.conventions.base import Call, Context, Flag, LayerCount, Profile, flagged, split
from cnncalc.layers import conv


def _forward(call: Call) -> int:
    if call.module.cls == "MatMul" and len(call.ins[1]) == 1:
        return 0  # mv / dot
    return 2 * call.cost.macs


def forward(call: Call, context: Context) -> LayerCount:
    return split(call, macs=_forward(call))


def grouped_excess(call: Call) -> int:
    """What FlopCounterMode adds to a grouped convolution's grad-weight: (groups - 1) times it.
    The deformable convolution's grouped product is its main convolution (the offset
    convolution has no groups)."""
    kind, a = call.node.kind, call.node.attrs
    groups = int(a.get("groups", 1))
    grad_weight = call.cost.backward_by_part.get("grad_weight", 0)
    if groups == 1 or not grad_weight:
        return 0
    if isinstance(kind, conv.DeformConv2d):
        return (groups - 1) * 2 * conv.ConvNd.macs(kind, a, call.ins, call.out)
    if isinstance(kind, (conv.ConvNd, conv.ConvTransposeNd)):
        return (groups - 1) * grad_weight
    return 0


def train(call: Call, context: Context) -> LayerCount:
    parts = call.cost.backward_by_part
    excess = grouped_excess(call)
    backward = parts.get("grad_input", 0) + parts.get("grad_weight", 0) + excess
    result = split(call, macs=_forward(call) + backward)
    if excess:
        result = flagged(result, Flag(
            "grouped-conv-backward", call.name,
            f"FlopCounterMode counts the grad-weight of grouped convolution `{call.name}` "
            f"(groups={call.node.attrs['groups']}) {call.node.attrs['groups']} times over: "
            f"{parts['grad_weight'] + excess:,} FLOPs; the layer computes {parts['grad_weight']:,}"))
    return result


PROFILE = Profile(
    "flopcounter", "FLOPs", "torch FlopCounterMode, inference forward: get_total_flops()",
    "FlopCounterMode: 2 per conv/linear/matmul multiply-add, nothing else", forward, multiply_add=2,
)
TRAIN_PROFILE = Profile(
    "flopcounter_train", "FLOPs",
    "torch FlopCounterMode around forward + sum(outputs).backward(): get_total_flops()",
    "FlopCounterMode, training step: forward + grad-input + grad-weight (grouped conv grad-weight x groups)",
    train,
    multiply_add=2,
)
