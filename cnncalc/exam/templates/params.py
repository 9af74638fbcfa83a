"""Parameter-count templates: convolution (T08), dense after Flatten (T09), a whole network
(T10), locally connected (T11), grouped (T12) and depthwise-separable (T13) convolutions."""

from __future__ import annotations

from fractions import Fraction
from random import Random
from typing import Any

from cnncalc.exam import misconceptions as m
from cnncalc.exam import parts
from cnncalc.exam.engine import apply, chain
from cnncalc.exam.model import Draft
from cnncalc.exam.templates.base import IMPORT, IMPORT_FLOPS, Params, Template, pick, register, span
from cnncalc.exam.text import num, volume

PARAMS = "sum(p.numel() for p in {}.parameters())"


@register
class ConvParams(Template):
    id = "conv_params"
    number = "T08"
    short = "conv_params"
    title = "Parameters of a convolution"
    category = "parameters"

    def sample(self, rng: Random, level: int, convention: str) -> Params:
        return {"k": pick(rng, 1, 3, 5, 7, 11) if level > 1 else pick(rng, 3, 5),
                "cin": pick(rng, 1, 3, 3, 16, 32, 64, 192) if level > 1 else 3,
                "cout": pick(rng, 6, 16, 32, 64, 96, 100, 128, 256, 512),
                "n": pick(rng, 28, 32, 64, 224, 300), "bias": level < 3 or rng.randrange(3) > 0}

    def build(self, p: Params, rng: Random, convention: str) -> Draft:
        k, cin, cout, n, bias = p["k"], p["cin"], p["cout"], p["n"], p["bias"]
        facts = apply("conv2d", (1, cin, n, n), out=cout, kernel=k, bias=bias)
        key = facts.params
        image = "RGB image" if cin == 3 else f"input with {cin} channel{'s' if cin > 1 else ''}"
        stem = (f"A convolutional layer with {cout} filters of size {k}×{k}{'' if bias else ' and no bias'} is "
                f"applied to a {n}×{n} {image} ({volume(cin, n, n, convention=convention)}). How many learnable "
                f"parameters does it have{', including biases' if bias else ''}?")
        per_filter = k * k * cin
        solution = (f"Each filter spans all {cin} input channels: {k}·{k}·{cin} = {num(per_filter)} weights"
                    f"{' + 1 bias' if bias else ''}; {num(cout)} filters: ({num(per_filter)}{' + 1' if bias else ''})"
                    f"·{num(cout)} = {num(key)}. The {n}×{n} spatial size does not matter.")
        c = m.ConvParams((k, k), cin, cout, bias, out_positions=facts.output[2] * facts.output[3])
        dense = apply("linear", (1, cin * n * n), out=cout)
        wrongs = m.first(m.forgot_cin(c), m.forgot_bias(c), m.dense_instead(dense.params, cout),
                         m.times_positions(c), m.one_bias(c))
        part = parts.choice("params", "Parameters", key, f"Correct: {num(key)}.", wrongs, rng,
                            filler=parts.near(key, max(2, key // 10)))
        return Draft(
            title=self.title, stem=stem, parts=(part,), solution=solution,
            snippet=(IMPORT, f"conv = nn.Conv2d({cin}, {cout}, {k}{'' if bias else ', bias=False'})",
                     PARAMS.format("conv")),
            expect=(key,), params=p,
        )


@register
class DenseParams(Template):
    id = "dense_params"
    number = "T09"
    short = "fc_params"
    title = "Dense layer after Flatten"
    category = "parameters"

    def sample(self, rng: Random, level: int, convention: str) -> Params:
        side = pick(rng, 1, 4, 5, 6, 7, 8)
        return {"h": side * (2 if level >= 3 else 1), "c": pick(rng, 16, 32, 64, 128, 256, 512),
                "units": pick(rng, 10, 64, 100, 120, 256, 1000, 4096), "pool": level >= 3}

    def build(self, p: Params, rng: Random, convention: str) -> Draft:
        h, c, units, pool = p["h"], p["c"], p["units"], p["pool"]
        layers: list[tuple[str, dict[str, Any]]] = [("maxpool2d", {"kernel": 2})] if pool else []
        facts = chain((1, c, h, h), [*layers, ("flatten", {}), ("linear", {"out": units})])
        key = facts[-1].params
        flat = facts[-2].output[1]
        side = facts[-3].output[2] if pool else h
        pooled = ", then a 2×2 max pooling with stride 2," if pool else ""
        stem = (f"A {volume(c, h, h, convention=convention)} feature map goes{pooled} through Flatten and a dense "
                f"(fully connected) layer with {num(units)} units and biases. How many parameters does the "
                "dense layer have?")
        solution = ((f"Pooling halves {h} to {side}. " if pool else "")
                    + f"Flatten gives {side}·{side}·{c} = {num(flat)} inputs; the dense layer has "
                    f"{num(flat)}·{num(units)} weights + {num(units)} biases = {num(key)}.")
        d = m.DenseParams(side, side, c, units)
        wrongs = m.first(m.forgot_flatten(d), m.forgot_dense_bias(d), m.forgot_channels_dense(d),
                         m.pre_pool_size(h * h * c * units + units) if pool else None)
        part = parts.numeric("params", "Parameters", key, f"Correct: {num(key)}.", wrongs)
        head = "nn.MaxPool2d(2), " if pool else ""
        return Draft(
            title=self.title, stem=stem, parts=(part,), solution=solution,
            snippet=(IMPORT, f"m = nn.Sequential({head}nn.Flatten(), nn.LazyLinear({units})); "
                             f"m(torch.zeros(1, {c}, {h}, {h}))",
                     PARAMS.format("m[-1]")),
            expect=(key,), params=p,
        )


def _network(rng: Random, level: int) -> Params:
    while True:
        channels, size = pick(rng, 1, 3), pick(rng, 28, 32)
        layers: list[dict[str, Any]] = []
        side, c = size, channels
        for _ in range(2 if level < 4 else 3):
            k = pick(rng, 3, 5)
            pad = pick(rng, 0, k // 2)
            c = pick(rng, 6, 8, 16, 32)
            layers.append({"kind": "conv", "out": c, "k": k, "p": pad})
            side = side + 2 * pad - k + 1
            if level >= 3 and rng.randrange(2):
                layers.append({"kind": "bn", "c": c})
            layers.append({"kind": "pool"})
            side //= 2
        if side < 1:
            continue
        layers.append({"kind": "dense", "out": pick(rng, 32, 64, 84, 120)})
        layers.append({"kind": "dense", "out": 10})
        return {"c": channels, "n": size, "layers": layers}


def network_layers(p: Params) -> tuple[list[tuple[str, dict[str, Any]]], list[str], list[str]]:
    """The registry layers, the question's description and the torch modules of a T10/T18 net."""
    registry: list[tuple[str, dict[str, Any]]] = []
    words: list[str] = []
    torch: list[str] = []
    c, flat = p["c"], False
    for layer in p["layers"]:
        if layer["kind"] == "conv":
            registry += [("conv2d", {"out": layer["out"], "kernel": layer["k"], "padding": layer["p"]}),
                         ("relu", {})]
            words.append(f"- Conv2d {c}→{layer['out']}, kernel {layer['k']}×{layer['k']}, stride 1, "
                         f"padding {layer['p']}, with bias, then ReLU")
            torch += [f"nn.Conv2d({c}, {layer['out']}, {layer['k']}, padding={layer['p']})", "nn.ReLU()"]
            c = layer["out"]
        elif layer["kind"] == "bn":
            registry.append(("batchnorm2d", {}))
            words.append(f"- BatchNorm2d({c})")
            torch.append(f"nn.BatchNorm2d({c})")
        elif layer["kind"] == "pool":
            registry.append(("maxpool2d", {"kernel": 2}))
            words.append("- 2×2 max pooling, stride 2")
            torch.append("nn.MaxPool2d(2)")
        else:
            if not flat:
                registry.append(("flatten", {}))
                words.append("- Flatten")
                torch.append("nn.Flatten()")
            registry.append(("linear", {"out": layer["out"]}))
            words.append(f"- Dense (Linear) with {layer['out']} units and bias")
            torch.append(f"nn.Linear({c}, {layer['out']})" if flat else f"nn.LazyLinear({layer['out']})")
            c, flat = layer["out"], True
    return registry, words, torch


@register
class NetworkParams(Template):
    id = "network_params"
    number = "T10"
    short = "net_params"
    title = "Parameters of a whole network"
    category = "parameters"
    levels = (2, 3, 4)

    def sample(self, rng: Random, level: int, convention: str) -> Params:
        return _network(rng, level)

    def build(self, p: Params, rng: Random, convention: str) -> Draft:
        registry, words, torch = network_layers(p)
        facts = chain((1, p["c"], p["n"], p["n"]), registry)
        # Keras's "Total params" adds each BatchNorm's moving mean and variance: the registry's
        # buffers (2C; it does not count PyTorch's num_batches_tracked)
        stats = sum(f.buffers for f in facts if f.kind == "batchnorm2d")
        trainable = sum(f.params for f in facts)
        key = trainable + (stats if convention == "keras" else 0)
        biases = sum(f.output[1] for f in facts if f.kind in ("conv2d", "linear"))
        rows = [f"{f.kind} {num(f.params)}" for f in facts if f.params]
        stem = (f"A network takes a {volume(p['c'], p['n'], p['n'], convention=convention)} input:\n\n"
                + "\n".join(words) + "\n\n"
                + ("How many parameters does Keras's model.summary() report as Total params (trainable and "
                   "non-trainable)?" if convention == "keras" else
                   "How many learnable parameters (PyTorch's parameters()) does it have?"))
        solution = ("Per layer with parameters: " + ", ".join(rows) + f"; sum = {num(trainable)}"
                    + (f", plus {num(stats)} BatchNorm moving statistics (non-trainable) = {num(key)}"
                       if convention == "keras" and stats else "")
                    + ". Pooling, ReLU and Flatten have no parameters.")
        wrongs = m.first(
            m.forgot_all_biases(key - biases),
            m.bn_statistics(trainable + stats, convention) if stats else None,
            m.pool_weights(key + sum(f.output[1] * 4 for f in facts if f.kind == "maxpool2d")),
        )
        part = parts.numeric("params", "Total parameters", key, f"Correct: {num(key)}.", wrongs)
        count = PARAMS.format("m")
        if convention == "keras":
            count += " + sum(b.numel() for n, b in m.named_buffers() if 'running' in n)"
        return Draft(
            title=self.title, stem=stem, parts=(part,), solution=solution,
            snippet=(IMPORT, f"m = nn.Sequential({', '.join(torch)}); m(torch.zeros(1, {p['c']}, {p['n']}, {p['n']}))",
                     count),
            expect=(key,), params=p, device="cpu",
        )


@register
class LocallyConnectedParams(Template):
    id = "locally_connected_params"
    number = "T11"
    short = "lc_params"
    title = "Locally connected layer (no weight sharing)"
    category = "parameters"
    levels = (2, 3, 4)

    def sample(self, rng: Random, level: int, convention: str) -> Params:
        return {"n": span(rng, 8, 32), "k": pick(rng, 3, 5), "cin": pick(rng, 1, 3), "cout": span(rng, 4, 16)}

    def build(self, p: Params, rng: Random, convention: str) -> Draft:
        n, k, cin, cout = p["n"], p["k"], p["cin"], p["cout"]
        facts = apply("locally_connected2d", (1, cin, n, n), out=cout, kernel=k)
        conv = apply("conv2d", (1, cin, n, n), out=cout, kernel=k)
        key, o = facts.params, facts.output[2]
        stem = (f"A layer has the connectivity of a {k}×{k} convolution with {cout} output channels, stride 1 "
                f"and no padding, on a {volume(cin, n, n, convention=convention)} input, but no weight sharing: "
                "every output position has its own filter and its own bias. How many parameters does it have?")
        solution = (f"Output {o}×{o}×{cout}. Each of the {o}·{o}·{cout} = {num(o * o * cout)} output units has "
                    f"{k}·{k}·{cin} = {k * k * cin} weights and one bias: {num(o * o * cout)}·{k * k * cin + 1} = "
                    f"{num(key)} (the convolution would have {num(conv.params)}).")
        wrongs = m.first(m.shared_weights(conv.params), m.shared_bias_untied_weights(key - o * o * cout + cout),
                         m.forgot_cin(m.ConvParams((k, k), cin, cout * o * o)))
        part = parts.numeric("params", "Parameters", key, f"Correct: {num(key)}.", wrongs)
        return Draft(
            title=self.title, stem=stem, parts=(part,), solution=solution,
            snippet=("import torch, torch.nn.functional as F",
                     f"cols = F.unfold(torch.zeros(1, {cin}, {n}, {n}), kernel_size={k})  # [1, C*K*K, positions]",
                     f"cols.shape[2] * {cout} * (cols.shape[1] + 1)"),
            expect=(key,), params=p,
        )


@register
class GroupedConv(Template):
    id = "grouped_conv"
    number = "T12"
    short = "grouped"
    title = "Grouped convolution"
    category = "parameters"
    levels = (2, 3, 4)

    def sample(self, rng: Random, level: int, convention: str) -> Params:
        cin = pick(rng, 16, 32, 64, 128)
        return {"cin": cin, "cout": cin * pick(rng, 1, 2), "k": pick(rng, 1, 3, 5), "g": pick(rng, 2, 4, 8),
                "n": pick(rng, 14, 28, 56), "macs": level >= 3}

    def build(self, p: Params, rng: Random, convention: str) -> Draft:
        cin, cout, k, g, n, with_macs = p["cin"], p["cout"], p["k"], p["g"], p["n"], p["macs"]
        facts = apply("conv2d", (1, cin, n, n), out=cout, kernel=k, padding=k // 2, groups=g)
        c = m.ConvParams((k, k), cin, cout, True, g)
        stem = (f"nn.Conv2d({cin}, {cout}, kernel_size={k}, padding={k // 2}, groups={g}) is applied to a "
                f"{volume(cin, n, n, convention=convention)} input. How many parameters does it have (with biases)"
                + ("; and how many multiply-accumulates (MACs, bias excluded) does it need for one image?"
                   if with_macs else "?"))
        per = cin // g
        solution = (f"Each filter sees C_in/G = {cin}/{g} = {per} channels: {cout}·{per}·{k}·{k} weights + "
                    f"{cout} biases = {num(facts.params)}.")
        found = [parts.numeric("params", "Parameters", facts.params, "Correct.",
                               m.first(m.ignore_groups(c), m.groups_squared(c), m.forgot_bias(c)))]
        expect: tuple[Any, ...] = (facts.params,)
        last = PARAMS.format("conv")
        if with_macs:
            o = facts.output[2]
            solution += (f" MACs: {o}·{o} positions · {cout} filters · {per}·{k}·{k} = {num(facts.macs)}.")
            full = apply("conv2d", (1, cin, n, n), out=cout, kernel=k, padding=k // 2).macs
            found.append(parts.numeric("macs", "MACs", facts.macs, "Correct.",
                                       m.first(m.ignore_groups_cost(full), m.flops_for_macs(facts.macs))))
            expect = (facts.params, facts.macs)
            last = f"({last}, c.get_total_flops() // 2)"
        lines = [IMPORT_FLOPS if with_macs else IMPORT,
                 f"conv = nn.Conv2d({cin}, {cout}, {k}, padding={k // 2}, groups={g})"]
        if with_macs:
            lines.append(f"with FlopCounterMode(display=False) as c: conv(torch.zeros(1, {cin}, {n}, {n}))")
        return Draft(title=self.title, stem=stem, parts=tuple(found), solution=solution,
                     snippet=(*lines, last), expect=expect, params=p)


@register
class DepthwiseSeparable(Template):
    id = "depthwise_separable"
    number = "T13"
    short = "dw_sep"
    title = "Depthwise-separable convolution"
    category = "cost"
    levels = (2, 3, 4)

    def sample(self, rng: Random, level: int, convention: str) -> Params:
        return {"cin": pick(rng, 16, 32, 64, 128, 256), "cout": pick(rng, 32, 64, 128, 256, 512),
                "k": pick(rng, 3, 5), "n": pick(rng, 7, 14, 28, 56, 112)}

    def build(self, p: Params, rng: Random, convention: str) -> Draft:
        cin, cout, k, n = p["cin"], p["cout"], p["k"], p["n"]
        pad = k // 2
        dw, pw = chain((1, cin, n, n), [("conv2d", {"out": cin, "kernel": k, "padding": pad, "groups": cin}),
                                        ("conv2d", {"out": cout, "kernel": 1})])
        std = apply("conv2d", (1, cin, n, n), out=cout, kernel=k, padding=pad)
        params, macs = dw.params + pw.params, dw.macs + pw.macs
        ratio = Fraction(macs, std.macs)
        stem = (f"A {k}×{k} convolution from {cin} to {cout} channels ('same' padding, stride 1, bias) on a "
                f"{volume(cin, n, n, convention=convention)} input is replaced by a depthwise {k}×{k} convolution "
                f"(groups = {cin}) followed by a pointwise 1×1 convolution to {cout} channels, both with bias. "
                "Give the parameters and the MACs (bias excluded) of the separable pair, and the ratio of its "
                "MACs to the standard convolution's (4 decimals).")
        solution = (f"Depthwise: {cin}·{k}·{k} + {cin} = {num(dw.params)} params, {n}·{n}·{cin}·{k}·{k} = "
                    f"{num(dw.macs)} MACs. Pointwise: {cin}·{cout} + {cout} = {num(pw.params)} params, "
                    f"{n}·{n}·{cin}·{cout} = {num(pw.macs)} MACs. Total {num(params)} params, {num(macs)} MACs. "
                    f"Standard: {num(std.macs)} MACs; ratio {num(macs)}/{num(std.macs)} = 1/{cout} + 1/{k * k} "
                    f"≈ {float(ratio):.4f}.")
        tol = Fraction(1, 20000)
        found = (
            parts.numeric("params", "Parameters (both stages)", params, "Correct.",
                          m.first(m.depthwise_as_full(cin * cin * k * k + cin + pw.params, "weights"),
                                  m.forgot_pointwise(dw.params), m.forgot_all_biases(params - cin - cout))),
            parts.numeric("macs", "MACs (both stages)", macs, "Correct.",
                          m.first(m.depthwise_as_full(std.macs + pw.macs, "MACs"), m.forgot_pointwise(dw.macs),
                                  m.flops_for_macs(macs))),
            parts.numeric("ratio", "MACs ratio separable/standard", ratio, "Correct.",
                          m.first(m.ratio_inverted(ratio)), tolerance=tol),
        )
        return Draft(
            title=self.title, stem=stem, parts=found, solution=solution,
            snippet=(IMPORT_FLOPS,
                     f"sep, std, x = nn.Sequential(nn.Conv2d({cin}, {cin}, {k}, padding={pad}, groups={cin}), "
                     f"nn.Conv2d({cin}, {cout}, 1)), nn.Conv2d({cin}, {cout}, {k}, padding={pad}), "
                     f"torch.zeros(1, {cin}, {n}, {n})",
                     "with FlopCounterMode(display=False) as a: sep(x)",
                     "with FlopCounterMode(display=False) as b: std(x)",
                     f"({PARAMS.format('sep')}, a.get_total_flops() // 2, "
                     "a.get_total_flops() / b.get_total_flops())"),
            expect=(params, macs, ratio), params=p,
        )
