"""Activation memory of a small network for a batch (T18)."""

from __future__ import annotations

from fractions import Fraction
from math import prod
from random import Random

from cnncalc.dtypes import DTYPE_BYTES
from cnncalc.exam import misconceptions as m
from cnncalc.exam import parts
from cnncalc.exam.engine import chain
from cnncalc.exam.model import Draft
from cnncalc.exam.templates.base import IMPORT, Params, Template, pick, register
from cnncalc.exam.templates.params import _network, network_layers
from cnncalc.exam.text import answer, num, volume


@register
class ActivationMemory(Template):
    id = "activation_memory"
    number = "T18"
    short = "act_mem"
    title = "Activation memory"
    category = "memory"
    levels = (2, 3, 4)

    def sample(self, rng: Random, level: int, convention: str) -> Params:
        return {**_network(rng, 2), "batch": pick(rng, 2, 4, 8, 16) if level > 2 else 1,
                "dtype": pick(rng, "float32", "float16") if level > 2 else "float32",
                "unit": pick(rng, "MB", "MiB")}

    def build(self, p: Params, rng: Random, convention: str) -> Draft:
        registry, words, torch = network_layers(p)
        batch, dtype, unit = p["batch"], p["dtype"], p["unit"]
        shape = (batch, p["c"], p["n"], p["n"])
        facts = chain(shape, registry)
        stored = [f for f in facts if f.kind != "flatten"]  # Flatten returns a view
        values = prod(shape) + sum(prod(f.output) for f in stored)
        size = DTYPE_BYTES[dtype]
        divisor = 2**20 if unit == "MiB" else 10**6
        key = Fraction(values * size, divisor)
        stem = (f"A batch of {batch} {volume(p['c'], p['n'], p['n'], convention=convention)} inputs in {dtype} goes "
                "through:\n\n" + "\n".join(words) + "\n\n"
                f"How many {unit} ({'2²⁰' if unit == 'MiB' else '10⁶'} bytes) do the input and the outputs of every "
                "layer (ReLU and pooling included; Flatten is a view and stores nothing) take together? "
                "(2 decimals)")
        per_sample = values // batch
        solution = (f"Values per sample: input {num(prod(shape[1:]))} + "
                    + " + ".join(f"{f.kind} {num(prod(f.output[1:]))}" for f in stored)
                    + f" = {num(per_sample)}; ×{batch} samples ×{size} bytes = {num(values * size)} bytes = "
                    f"{answer(key)} {unit}.")
        params = sum(f.params for f in facts)
        wrongs = m.first(m.mb_vs_mib(values * size, unit), m.forgot_batch(key, batch),
                         m.bits_for_bytes(key, unit), m.params_for_activations(Fraction(params * size, divisor)))
        part = parts.numeric("memory", f"Activation memory ({unit})", key, "Correct.", wrongs,
                             tolerance=Fraction(1, 100), unit=unit)
        modules = [t for t in torch]
        kept = "[o] if not isinstance(mod, nn.Flatten) else []"
        return Draft(
            title=self.title, stem=stem, parts=(part,), solution=solution,
            snippet=(IMPORT,
                     f"m, x = nn.Sequential({', '.join(modules)}).to(torch.{dtype}), "
                     f"torch.zeros({', '.join(map(str, shape))}, dtype=torch.{dtype}); outs = [x]",
                     f"_ = [mod.register_forward_hook(lambda mod, i, o: outs.extend({kept})) for mod in m]; m(x)",
                     f"sum(t.numel() * t.element_size() for t in outs) / {divisor}"),
            expect=(key,), params=p, device="cpu",
        )
