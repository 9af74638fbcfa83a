"""The analytic path never imports torch or fvcore (DESIGN.md principle 3)."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = """
import sys
from cnncalc.cli.app import main
try:
    main({args!r})
except SystemExit as done:
    code = done.code
heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'fvcore'))
print('HEAVY', code, heavy, file=sys.stderr)
"""


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["summary", "vgg16.yaml", "--format", "json"],
        ["summary", "resnet50", "--depth", "1"],
        ["rf", "lenet5"],
        ["memory", "resnet50", "--fit", "24GiB", "--format", "json"],
        ["memory", "mobilenet_v2", "--amp", "bf16", "--optimizer", "adam"],
        ["layers"],
        ["layers", "conv2d"],
        ["zoo"],
        ["check", "resnet50", "vgg16", "--format", "sarif"],
        ["diff", "resnet18", "resnet34"],
        ["calc", "conv2d", "--input", "3x32x32", "--out", "10", "--kernel", "5", "--stride", "1", "--padding", "2"],
        ["calc", "conv2d", "--matrix", "1 2 3; 4 5 6; 7 8 9", "--weights", "1 0; 0 -1", "--toeplitz"],
        ["calc", "--chain", "conv(10,k=5,p=2) -> relu -> maxpool(2)", "--input", "3x32x32"],
        ["solve", "--input", "32", "--output", "16"],
        ["summary", "--notation", "INPUT(3x32x32) -> [[CONV(32, k=3, p=1) -> RELU]*2 -> POOL]*3 -> [FC(512) -> RELU]*2 -> FC(10)", "--format", "json"],
        ["convert", "vgg16", "--to", "notation"],
        ["exam", "--torch-check", "off", "--count", "3"],
        ["exam", "templates"],
        ["summary", "resnet50", "--convention", "fvcore", "--format", "json"],
        ["explain", "resnet50", "--from", "torchinfo", "--to", "fvcore"],
        ["convert", "--notation", "INPUT(3x32x32) -> [CONV(8, k=3) -> RELU -> POOL?]*2 -> FC(10)", "--to", "yaml"],
    ],
)
def test_command_does_not_import_torch(args, tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args)],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )
    line = [text for text in result.stderr.splitlines() if text.startswith("HEAVY")][-1]
    assert line == "HEAVY 0 []", result.stderr[-2000:]


def test_help_does_not_import_networkx_or_yaml(tmp_path):
    code = "import sys; from cnncalc.cli.app import main\ntry: main(['--help'])\nexcept SystemExit: pass\n" \
        "print(sorted(m for m in ('networkx', 'yaml', 'torch') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert result.stdout.strip().splitlines()[-1] == "[]"
