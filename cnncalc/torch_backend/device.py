"""The backend a command needs: torch (and fvcore), and the device it runs on.

A missing package or GPU is BackendUnavailable (exit 5) with the install hint, never an import
traceback; this module itself imports neither.
"""

from __future__ import annotations

from typing import Any

from cnncalc.errors import BackendUnavailable

INSTALL_HINT = 'install it with `pip install "cnncalc[torch]"`'


def require_torch(command: str) -> Any:
    try:
        import torch
    except ImportError:
        raise BackendUnavailable(f"{command} needs torch, which is not installed", hint=INSTALL_HINT) from None
    return torch


def require_fvcore(command: str) -> Any:
    try:
        from fvcore.nn import FlopCountAnalysis
    except ImportError:
        raise BackendUnavailable(f"{command} needs fvcore, which is not installed", hint=INSTALL_HINT) from None
    return FlopCountAnalysis


def resolve_device(device: str, command: str) -> str:
    """"auto" becomes "cuda" when torch sees a GPU, else "cpu"; "cuda" without one is an error."""
    torch = require_torch(command)
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise BackendUnavailable("--device cuda: torch sees no CUDA device", hint="use --device cpu")
    return device
