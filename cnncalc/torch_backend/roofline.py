"""The roofline model of `cnncalc profile`: device peaks (NVIDIA datasheets, or measured) and
each layer's bound.

A layer moving `bytes` and computing `flops` cannot take less than max(flops / peak FLOP/s,
bytes / bandwidth); it is compute-bound when its intensity flops / bytes reaches the ridge point
peak / bandwidth. Pure arithmetic: no torch here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Peak:
    """What the device can do at most: FLOP/s in the profiled dtype, and memory bytes/s."""

    flops_per_s: float
    bytes_per_s: float
    source: str  # "datasheet" | "measured"
    unit: str  # which units the FLOP/s figure is for, e.g. "TF32 tensor cores"
    reference: str  # where the figures come from

    @property
    def ridge(self) -> float:
        """FLOPs per byte where the roofline turns from memory-bound to compute-bound."""
        return self.flops_per_s / self.bytes_per_s


@dataclass(frozen=True)
class Roofline:
    intensity: float  # FLOPs per byte moved
    bound_flops_per_s: float  # min(peak, intensity x bandwidth)
    bound: str  # "compute" | "memory"
    roofline_ms: float  # the least time the roofline allows: max(flops / peak, bytes / bandwidth)


def bound(intensity: float, ridge: float) -> str:
    """"compute" when the intensity (FLOP/byte) reaches the ridge point, else "memory"."""
    return "compute" if intensity >= ridge else "memory"


def roofline(flops: int, bytes_moved: int, peak: Peak) -> Roofline:
    """The roofline of one layer.

    >>> roofline(1000, 100, Peak(1e3, 1e2, "datasheet", "x", "")).bound
    'memory'
    """
    intensity = flops / bytes_moved if bytes_moved else math.inf
    attainable = min(peak.flops_per_s, intensity * peak.bytes_per_s)
    least_s = max(flops / peak.flops_per_s, bytes_moved / peak.bytes_per_s)
    return Roofline(intensity, attainable, bound(intensity, peak.ridge), least_s * 1e3)


@dataclass(frozen=True)
class GpuSheet:
    """Datasheet figures of one GPU: TFLOP/s (dense) and GB/s. None: the units do not exist."""

    tokens: frozenset[str]  # words that must all appear in torch.cuda.get_device_name()
    label: str
    fp32: float
    tf32: float | None
    float16: float | None  # tensor cores, FP32 accumulate
    bfloat16: float | None
    bandwidth_gbs: float


def _sheet(words: str, label: str, *figures: float | None) -> GpuSheet:
    fp32, tf32, float16, bfloat16, bandwidth = figures
    assert fp32 is not None and bandwidth is not None
    return GpuSheet(frozenset(words.split()), label, fp32, tf32, float16, bfloat16, bandwidth)


# Sources: NVIDIA's product datasheets (nvidia.com/en-us/data-center/<gpu>/: H100, H200, A100,
# L40S, L4, A10, T4, V100) and, for the RTX 4090, the "NVIDIA Ada GPU Architecture" whitepaper
# (appendix A). Datasheets print tensor figures "with sparsity"; these are the dense halves.
# The first entry whose words all appear in the device name wins, so specific names come first.
GPUS = (
    _sheet("h100 nvl", "H100 NVL", 60.0, 417.5, 835.5, 835.5, 3900),
    _sheet("h100 pcie", "H100 PCIe", 51.2, 378.0, 756.0, 756.0, 2000),
    _sheet("h100", "H100 SXM", 67.0, 494.7, 989.4, 989.4, 3350),
    _sheet("h200 nvl", "H200 NVL", 60.0, 417.5, 835.5, 835.5, 4800),
    _sheet("h200", "H200 SXM", 67.0, 494.7, 989.4, 989.4, 4800),
    _sheet("a100 80gb pcie", "A100 80GB PCIe", 19.5, 156.0, 312.0, 312.0, 1935),
    _sheet("a100 pcie", "A100 40GB PCIe", 19.5, 156.0, 312.0, 312.0, 1555),
    _sheet("a100 80gb", "A100 80GB SXM", 19.5, 156.0, 312.0, 312.0, 2039),
    _sheet("a100", "A100 40GB SXM", 19.5, 156.0, 312.0, 312.0, 1555),
    _sheet("l40s", "L40S", 91.6, 183.0, 362.0, 362.0, 864),
    _sheet("l4", "L4", 30.3, 60.0, 121.0, 121.0, 300),
    _sheet("a10", "A10", 31.2, 62.5, 125.0, 125.0, 600),
    _sheet("rtx 4090", "GeForce RTX 4090", 82.6, 82.6, 165.2, 165.2, 1008),
    _sheet("v100s", "V100S PCIe", 16.4, None, 130.0, None, 1134),
    _sheet("v100 pcie", "V100 PCIe", 14.0, None, 112.0, None, 900),
    _sheet("v100", "V100 SXM2", 15.7, None, 125.0, None, 900),
    _sheet("t4", "T4", 8.1, None, 65.0, None, 320),
)


def datasheet_peak(device_name: str, dtype: str, tf32: bool) -> Peak | None:
    """The datasheet peak of a known GPU in `dtype`; None for other GPUs, MIG slices and units
    the GPU lacks. `tf32`: float32 convolutions run on TF32 tensor cores (cuDNN's default).

    >>> datasheet_peak("NVIDIA H100 80GB HBM3", "bfloat16", True).flops_per_s
    989400000000000.0
    """
    words = set(re.split(r"[^a-z0-9]+", device_name.lower()))
    sheet = next((s for s in GPUS if s.tokens <= words), None)
    if sheet is None or "mig" in words:
        return None
    if dtype == "float32":
        tflops, unit = (sheet.tf32, "TF32 tensor cores") if tf32 and sheet.tf32 else (sheet.fp32, "FP32 cores")
    else:
        tflops, unit = getattr(sheet, dtype), f"{dtype} tensor cores"
    if tflops is None:
        return None
    reference = f"NVIDIA datasheet, {sheet.label} (dense, without sparsity)"
    return Peak(tflops * 1e12, sheet.bandwidth_gbs * 1e9, "datasheet", unit, reference)
