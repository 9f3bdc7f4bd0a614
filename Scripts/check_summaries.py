#!/usr/bin/env python3
"""Check `convkit summary --json` against PyTorch, and write the expected summaries as test fixtures.

For every model description in Examples/models/ and Tests/ConvKitTests/Fixtures/models/ this script,
independently of ConvKit:

1. builds the network as real torch.nn modules from the JSON (ConvKit's extensions -- 'same' padding with
   stride > 1, 'full', 'causal', [low, high] pairs -- as explicit F.pad + an unpadded layer);
2. runs it on the meta device with forward hooks: every layer's output shape, its parameters
   (sum of p.numel()), its MACs from the shapes each Conv/ConvTranspose/Linear module actually saw, and the
   totals cross-checked against torch.utils.flop_counter.FlopCounterMode (FLOPs = 2 x MACs), forward and
   backward (the backward total is stored in the fixture for the Swift tests of ModelAnalysis);
3. computes each layer's receptive field (size r, effective stride S, effective padding P) with its own
   implementation of the Araujo et al. (2019) recursion, reading kernel/stride/padding/dilation from the
   built modules, and verifies every top-level value against the gradient support of single output units
   of a one-channel proxy network (all weights 1, max pooling replaced by average pooling with the same
   windows, activations and normalisation removed): unclipped on an input large enough to hold the whole
   field, and clipped to the input at the model's own input size (the proxy pads with zeros whatever the
   padding_mode: the field is a box in padded coordinates);
4. compares the result with `convkit summary SPEC --json` (key by key, every layer including nested ones).

Usage:
    swift build && python3 Scripts/check_summaries.py            # compare and report
    python3 Scripts/check_summaries.py --write                   # also (re)write the fixtures
    python3 Scripts/check_summaries.py --convkit PATH model.json # one model, another binary
"""
import argparse
import json
import math
import subprocess
import sys
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parent.parent
MODEL_DIRS = [ROOT / "Examples" / "models", ROOT / "Tests" / "ConvKitTests" / "Fixtures" / "models"]
FIXTURES = ROOT / "Tests" / "ConvKitTests" / "Fixtures" / "summaries"


# ----------------------------------------------------------------------------------------------
# Building torch modules from a description
# ----------------------------------------------------------------------------------------------

def ntuple(value, n):
    if isinstance(value, (list, tuple)):
        return tuple(value) if len(value) == n else tuple(value) * n
    return (value,) * n


class Pad(nn.Module):
    """F.pad with explicit per-dimension (low, high) amounts (last dimension first in F.pad's list)."""

    def __init__(self, low, high, mode="constant", value=0.0):
        super().__init__()
        self.low, self.high, self.mode, self.value = list(low), list(high), mode, value

    def forward(self, x):
        flat = []
        for lo, hi in zip(reversed(self.low), reversed(self.high)):
            flat += [lo, hi]
        if self.mode == "constant":
            return F.pad(x, flat, value=self.value)
        return F.pad(x, flat, mode=self.mode)


class TFSamePad(nn.Module):
    """TensorFlow's 'same' for stride > 1: output ceil(I/s), total max((O-1)s + d(k-1) + 1 - I, 0)."""

    def __init__(self, kernel, stride, dilation, mode="constant"):
        super().__init__()
        self.kernel, self.stride, self.dilation, self.mode = kernel, stride, dilation, mode
        self.low = None

    def pads(self, sizes):
        low, high = [], []
        for i, k, s, d in zip(sizes, self.kernel, self.stride, self.dilation):
            o = -(-i // s)
            total = max((o - 1) * s + d * (k - 1) + 1 - i, 0)
            low.append(total // 2)
            high.append(total - total // 2)
        return low, high

    def forward(self, x):
        low, high = self.pads(x.shape[2:])
        self.low = low
        return Pad(low, high, self.mode)(x)


class Crop(nn.Module):
    """Removes (low, high) from each spatial dimension: a transposed convolution's asymmetric padding."""

    def __init__(self, low, high):
        super().__init__()
        self.low, self.high = low, high

    def forward(self, x):
        index = [slice(None), slice(None)] + [slice(lo, x.shape[2 + i] - hi) for i, (lo, hi) in enumerate(zip(self.low, self.high))]
        return x[tuple(index)]


class Residual(nn.Module):
    def __init__(self, body, shortcut):
        super().__init__()
        self.body = body
        self.shortcut = shortcut

    def forward(self, x):
        return self.body(x) + self.shortcut(x)


class Parallel(nn.Module):
    def __init__(self, branches, merge):
        super().__init__()
        self.branches = nn.ModuleList(branches)
        self.merge = merge

    def forward(self, x):
        outputs = [branch(x) for branch in self.branches]
        if self.merge == "concat":
            return torch.cat(outputs, dim=1)
        return sum(outputs[1:], outputs[0])


class Node:
    """One layer of the description: its module path, type, spec, torch module and children."""

    def __init__(self, path, spec, module, children=(), window=None):
        self.path, self.spec, self.module, self.children = path, spec, module, list(children)
        self.type = spec["type"]
        # For the receptive field: ("conv"|"pool", kernel, stride, dilation, pad-low provider), or other kinds.
        self.window = window

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


ACTIVATIONS = {"ReLU": nn.ReLU, "ReLU6": nn.ReLU6, "SiLU": nn.SiLU, "Mish": nn.Mish, "Hardswish": nn.Hardswish,
               "Hardsigmoid": nn.Hardsigmoid, "Sigmoid": nn.Sigmoid, "Tanh": nn.Tanh, "Identity": nn.Identity}


def build_list(specs, prefix, proxy):
    nodes = [build(spec, f"{prefix}.{i}" if prefix else str(i), proxy) for i, spec in enumerate(specs)]
    return nodes, nn.Sequential(*[n.module for n in nodes])


def build(spec, path, proxy=False):
    """The torch module for one layer. With proxy=True: a one-channel stand-in with the same windows."""
    t = spec["type"]
    rank = int(t[-2]) if t[-2:] in ("1d", "2d", "3d") else 0
    base = t[:-2] if rank else t
    if base == "Conv":
        k = ntuple(spec["kernel_size"], rank)
        s = ntuple(spec.get("stride", 1), rank)
        d = ntuple(spec.get("dilation", 1), rank)
        padding = spec.get("padding", 0)
        mode = spec.get("padding_mode", "zeros")
        pad_mode = {"zeros": "constant"}.get(mode, mode)
        conv_cls = [nn.Conv1d, nn.Conv2d, nn.Conv3d][rank - 1]
        lazy_cls = [nn.LazyConv1d, nn.LazyConv2d, nn.LazyConv3d][rank - 1]

        def make(pad, pmode=mode):
            if proxy:
                # The field is a box in padded coordinates: the proxy pads with zeros whatever the mode
                # (circular padding makes border units also read the opposite border).
                return lazy_cls(1, k, stride=s, padding=pad, dilation=d, bias=False)
            return conv_cls(spec["in_channels"], spec["out_channels"], k, stride=s, padding=pad, dilation=d,
                            groups=spec.get("groups", 1), bias=spec.get("bias", True), padding_mode=pmode)

        if padding == "same" and any(x > 1 for x in s):
            pad = TFSamePad(k, s, d, "constant" if proxy else pad_mode)
            module = nn.Sequential(pad, make(0, "zeros"))
            low = lambda sizes, pad=pad: pad.pads(sizes)[0]
        elif padding in ("same", "valid"):
            module = make(padding)
            low = lambda sizes: [(dd * (kk - 1)) // 2 if padding == "same" else 0 for kk, dd in zip(k, d)]
        elif padding == "full":
            p = tuple(dd * (kk - 1) for kk, dd in zip(k, d))
            module = make(p)
            low = lambda sizes, p=p: list(p)
        elif padding == "causal" or (isinstance(padding, list) and padding and isinstance(padding[0], list)):
            if padding == "causal":
                lo, hi = [d[0] * (k[0] - 1)], [0]
            else:
                lo, hi = [p[0] for p in padding], [p[1] for p in padding]
            module = nn.Sequential(Pad(lo, hi, "constant" if proxy else pad_mode), make(0, "zeros"))
            low = lambda sizes, lo=lo: lo
        else:
            p = ntuple(padding, rank)
            module = make(p)
            low = lambda sizes, p=p: list(p)
        return Node(path, spec, module, window=("conv", k, s, d, low))
    if base == "ConvTranspose":
        k = ntuple(spec["kernel_size"], rank)
        s = ntuple(spec.get("stride", 1), rank)
        d = ntuple(spec.get("dilation", 1), rank)
        op = ntuple(spec.get("output_padding", 0), rank)
        padding = spec.get("padding", 0)
        cls = [nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d][rank - 1]
        lazy = [nn.LazyConvTranspose1d, nn.LazyConvTranspose2d, nn.LazyConvTranspose3d][rank - 1]
        pairs = isinstance(padding, list) and padding and isinstance(padding[0], list)
        lo = [p[0] for p in padding] if pairs else list(ntuple(padding, rank))
        hi = [p[1] for p in padding] if pairs else lo
        torch_pad = 0 if pairs else tuple(lo)
        if proxy:
            conv = lazy(1, k, stride=s, padding=torch_pad, output_padding=op, dilation=d, bias=False)
        else:
            conv = cls(spec["in_channels"], spec["out_channels"], k, stride=s, padding=torch_pad, output_padding=op,
                       groups=spec.get("groups", 1), bias=spec.get("bias", True), dilation=d)
        module = nn.Sequential(conv, Crop(lo, hi)) if pairs else conv
        return Node(path, spec, module, window=("transposed", k, s, d, lambda sizes, lo=lo: lo))
    if base in ("MaxPool", "AvgPool"):
        k = ntuple(spec["kernel_size"], rank)
        s = ntuple(spec["stride"], rank) if spec.get("stride") is not None else k
        d = ntuple(spec.get("dilation", 1), rank)
        p = ntuple(spec.get("padding", 0), rank)
        ceil = spec.get("ceil_mode", False)
        if base == "MaxPool" and not proxy:
            module = [nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d][rank - 1](k, s, p, d, ceil_mode=ceil)
        elif base == "MaxPool" and any(x != 1 for x in d):
            # The proxy needs a gradient through every tap: a depthwise all-ones convolution with the same windows.
            if ceil:
                raise NotImplementedError("proxy for a dilated ceil-mode max pool")
            conv = [nn.LazyConv1d, nn.LazyConv2d, nn.LazyConv3d][rank - 1](1, k, stride=s, padding=p, dilation=d, bias=False)
            module = conv
        else:
            kwargs = dict(ceil_mode=ceil)
            if base == "AvgPool":
                kwargs["count_include_pad"] = spec.get("count_include_pad", True)
                if rank > 1:
                    kwargs["divisor_override"] = spec.get("divisor_override")
            module = [nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d][rank - 1](k, s, p, **kwargs)
        return Node(path, spec, module, window=("pool", k, s, d, lambda sizes, p=p: list(p)))
    if base in ("AdaptiveAvgPool", "AdaptiveMaxPool"):
        size = spec["output_size"]
        size = tuple(size) if isinstance(size, list) else size
        if base == "AdaptiveAvgPool" or proxy:
            module = [nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d][rank - 1](size)
        else:
            module = [nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d][rank - 1](size)
        return Node(path, spec, module, window=("adaptive",))
    if base == "BatchNorm":
        if proxy:
            return Node(path, spec, nn.Identity(), window=("same",))
        cls = [nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d][rank - 1]
        momentum = spec.get("momentum", 0.1)
        module = cls(spec["num_features"], eps=spec.get("eps", 1e-5), momentum=momentum, affine=spec.get("affine", True),
                     track_running_stats=spec.get("track_running_stats", True))
        return Node(path, spec, module, window=("same",))
    if base == "Dropout":
        module = nn.Identity() if proxy else [nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d][rank](spec.get("p", 0.5))
        return Node(path, spec, module, window=("same",))
    if t in ACTIVATIONS or t in ("LeakyReLU", "ELU", "GELU"):
        if proxy:
            return Node(path, spec, nn.Identity(), window=("same",))
        if t == "LeakyReLU":
            module = nn.LeakyReLU(spec.get("negative_slope", 0.01))
        elif t == "ELU":
            module = nn.ELU(spec.get("alpha", 1.0))
        elif t == "GELU":
            module = nn.GELU(approximate=spec.get("approximate", "none"))
        else:
            module = ACTIVATIONS[t]()
        return Node(path, spec, module, window=("same",))
    if base in ("ZeroPad", "ConstantPad", "ReflectionPad", "ReplicationPad", "CircularPad"):
        padding = spec["padding"]
        flat = list(padding) if isinstance(padding, list) else [padding] * (2 * rank)
        low = [flat[2 * (rank - 1 - d)] for d in range(rank)]
        if proxy:
            module = Pad(low, [flat[2 * (rank - 1 - d) + 1] for d in range(rank)])  # zeros: the field is a box in padded coordinates
        elif base == "ConstantPad":
            module = getattr(nn, f"ConstantPad{rank}d")(tuple(flat), spec["value"])
        else:
            module = getattr(nn, f"{base}{rank}d")(tuple(flat))
        return Node(path, spec, module, window=("pool", (1,) * rank, (1,) * rank, (1,) * rank, lambda sizes, low=low: low))
    if t in ("Softmax", "LogSoftmax"):
        dim = spec.get("dim")
        if proxy:
            return Node(path, spec, nn.Identity(), window=("same",))
        return Node(path, spec, getattr(nn, t)(dim=dim), window=("softmax", dim))
    if t == "LocalResponseNorm":
        if proxy:
            return Node(path, spec, nn.Identity(), window=("same",))
        module = nn.LocalResponseNorm(spec["size"], spec.get("alpha", 1e-4), spec.get("beta", 0.75), spec.get("k", 1.0))
        return Node(path, spec, module, window=("same",))
    if t == "Flatten":
        return Node(path, spec, nn.Flatten(spec.get("start_dim", 1), spec.get("end_dim", -1)), window=("flatten",))
    if t == "Linear":
        module = nn.Linear(spec["in_features"], spec["out_features"], bias=spec.get("bias", True))
        return Node(path, spec, module, window=("none",))
    if t == "Upsample":
        size = spec.get("size")
        scale = spec.get("scale_factor")
        module = nn.Upsample(size=tuple(size) if isinstance(size, list) else size,
                             scale_factor=tuple(scale) if isinstance(scale, list) else scale,
                             mode=spec.get("mode", "nearest"), align_corners=spec.get("align_corners"))
        return Node(path, spec, module, window=("upsample",))
    if t == "Residual":
        body, body_module = build_list(spec.get("body") or [], f"{path}.body", proxy)
        short, short_module = build_list(spec.get("shortcut") or [], f"{path}.shortcut", proxy)
        node = Node(path, spec, Residual(body_module, short_module), body + short, window=("merge",))
        node.branches = [body, short]
        return node
    if t == "Parallel":
        branches, modules = [], []
        for b, branch in enumerate(spec["branches"]):
            branch = branch if isinstance(branch, list) else [branch]
            nodes, module = build_list(branch, f"{path}.branches.{b}", proxy)
            branches.append(nodes)
            modules.append(module)
        node = Node(path, spec, Parallel(modules, spec.get("merge", "concat")), [n for b in branches for n in b], window=("merge",))
        node.branches = branches
        return node
    if t == "Sequential":
        nodes, module = build_list(spec["layers"], path, proxy)
        node = Node(path, spec, module, nodes, window=("sequential",))
        node.branches = [nodes]
        return node
    raise NotImplementedError(f"{path}: no PyTorch equivalent for type {t}")


# ----------------------------------------------------------------------------------------------
# Receptive field: an independent implementation of the recursion, on the built modules
# ----------------------------------------------------------------------------------------------

def regular_adaptive(i, o):
    if o == 1:
        return i, i
    starts = [(j * i) // o for j in range(o)]
    ends = [-((-(j + 1) * i) // o) for j in range(o)]
    k, s = ends[0] - starts[0], starts[1] - starts[0]
    if s > 0 and all(starts[j] == j * s and ends[j] - starts[j] == k for j in range(o)):
        return k, s
    return None


def rf_node(node, field, shapes):
    """(field after node, fields of every node inside it) -- field is a list of (r, S, P) per dim, or None."""
    inner = {}
    kind = node.window[0]
    in_shape, out_shape = shapes[node.path]
    if field is None and kind not in ("merge", "sequential"):
        return None, inner
    if kind in ("conv", "pool"):
        _, k, s, d, low = node.window
        pads = low(list(in_shape[2:]))
        return [(r + dd * (kk - 1) * S, S * ss, P + pp * S) for (r, S, P), kk, ss, dd, pp in zip(field, k, s, d, pads)], inner
    if kind == "transposed":
        _, k, s, d, low = node.window
        if any(x != 1 for x in s):
            return None, inner
        pads = low(None)
        return [(r + dd * (kk - 1) * S, S, P + (dd * (kk - 1) - pp) * S) for (r, S, P), kk, dd, pp in zip(field, k, d, pads)], inner
    if kind == "adaptive":
        result = []
        for (r, S, P), i, o in zip(field, in_shape[2:], out_shape[2:]):
            window = regular_adaptive(i, o)
            if window is None:
                return None, inner
            result.append((r + (window[0] - 1) * S, S * window[1], P))
        return result, inner
    if kind == "same":
        return field, inner
    if kind == "softmax":
        dim = node.window[1]
        n = len(in_shape)
        axis = (0 if n in (0, 1, 3) else 1) if dim is None else (dim + n if dim < 0 else dim)
        return (None if axis >= 2 else field), inner
    if kind == "flatten":
        return (field if list(in_shape) == list(out_shape) else None), inner
    if kind == "none":
        return None, inner
    if kind == "upsample":
        if list(in_shape[2:]) == list(out_shape[2:]):
            return field, inner
        if all(x == 1 for x in in_shape[2:]):
            return [(r, 0, P) for r, S, P in field], inner
        return None, inner
    if kind in ("merge", "sequential"):
        results = []
        for branch in node.branches:
            f = field
            for child in branch:
                f, sub = rf_node(child, f, shapes)
                inner.update(sub)
                inner[child.path] = f
            results.append(f)
        if kind == "sequential":
            return results[0], inner
        if any(f is None for f in results):
            return None, inner
        if len({tuple(S for _, S, _ in f) for f in results}) != 1:
            return None, inner
        merged = [(max(f[d][0] for f in results), results[0][d][1], max(f[d][2] for f in results)) for d in range(len(field))]
        return merged, inner
    raise ValueError(kind)


# ----------------------------------------------------------------------------------------------
# Running a description
# ----------------------------------------------------------------------------------------------

def conv_macs(module, inp, out):
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        w = module.weight.shape  # (C_out, C_in/groups, k...)
        return out.numel() * math.prod(w[1:])
    if isinstance(module, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
        w = module.weight.shape  # (C_in, C_out/groups, k...)
        return inp.numel() * math.prod(w[1:])
    if isinstance(module, nn.Linear):
        return out.numel() * module.in_features
    return 0


def summarise(model):
    """The summary PyTorch gives for a description: convkit's JSON format, plus the backward MACs."""
    input_shape = model["input_shape"]
    top, net = build_list(model["layers"], "", proxy=False)
    nodes = [n for t in top for n in t.walk()]
    net.eval()
    shapes, macs_of = {}, {}
    hooks = []
    for node in nodes:
        hooks.append(node.module.register_forward_hook(
            lambda m, i, o, node=node: shapes.__setitem__(node.path, (tuple(i[0].shape), tuple(o.shape)))))
    needs_input_grad = {}
    for m in net.modules():
        hooks.append(m.register_forward_hook(lambda m, i, o: macs_of.__setitem__(id(m), conv_macs(m, i[0], o))))
        hooks.append(m.register_forward_hook(lambda m, i, o: needs_input_grad.__setitem__(id(m), i[0].requires_grad)))
    net = net.to("meta")
    x = torch.empty(input_shape, device="meta")
    with FlopCounterMode(display=False) as forward_counter:
        y = net(x)
    for h in hooks:
        h.remove()
    with FlopCounterMode(display=False) as backward_counter:
        y.sum().backward()
    # Backward MACs: each weighted layer's weight gradient costs its forward MACs, and so does its input
    # gradient when autograd needs one (some earlier layer has parameters).
    backward = sum(macs * (2 if needs_input_grad[key] else 1) for key, macs in macs_of.items())
    grouped = any(getattr(m, "groups", 1) > 1 for m in net.modules())
    # FlopCounterMode counts a grouped convolution's weight gradient as a dense one (groups times too
    # many FLOPs), so it only confirms the backward total when no convolution is grouped.
    if not grouped:
        assert backward_counter.get_total_flops() == 2 * backward, (backward_counter.get_total_flops(), backward)
    # The receptive field, by the recursion.
    rank = len(input_shape) - 2
    field = [(1, 1, 0)] * rank if rank >= 1 else None
    fields = {}
    for node in top:
        field, inner = rf_node(node, field, shapes)
        fields.update(inner)
        fields[node.path] = field
    layers = []
    for node in nodes:
        f = fields[node.path]
        layers.append({
            "path": node.path, "type": node.type, "output_shape": list(shapes[node.path][1]),
            "params": sum(p.numel() for p in node.module.parameters()),
            "macs": sum(macs_of.get(id(m), 0) for m in node.module.modules()),
            "receptive_field": [r for r, _, _ in f] if f else None,
            "effective_stride": [S for _, S, _ in f] if f else None,
            "effective_padding": [P for _, _, P in f] if f else None,
        })
    total_macs = sum(l["macs"] for l in layers if "." not in l["path"])
    flops = forward_counter.get_total_flops()
    assert flops == 2 * total_macs, f"FlopCounterMode counts {flops} FLOPs, the hooks {total_macs} MACs"
    summary = {"output_shape": list(y.shape), "total_params": sum(l["params"] for l in layers if "." not in l["path"]),
               "total_macs": total_macs, "layers": layers}
    return summary, backward, top, shapes


# ----------------------------------------------------------------------------------------------
# Gradient-support check of the receptive fields
# ----------------------------------------------------------------------------------------------

def support(prefix, sizes, units):
    """Bounding box, per dimension, of the inputs output unit `units` of `prefix` depends on."""
    x = torch.rand([1, 1] + list(sizes), dtype=torch.float64, requires_grad=True)
    y = prefix(x)
    if any(u >= n for u, n in zip(units, y.shape[2:])):
        return None
    y[(0, slice(None)) + tuple(units)].sum().backward()
    nz = (x.grad[0, 0] != 0).nonzero()
    if len(nz) == 0:
        return None
    return [(int(nz[:, d].min()), int(nz[:, d].max())) for d in range(len(sizes))]


def proxy_prefix(model, count, sizes):
    top, net = build_list(model["layers"][:count], "", proxy=True)
    net = net.double()
    with torch.no_grad():
        net(torch.zeros([1, 1] + list(sizes), dtype=torch.float64))  # materialise the lazy modules
        for m in net.modules():
            if isinstance(m, (nn.modules.conv._ConvNd,)):
                m.weight.fill_(1.0)
    return top, net


def size_dependent(specs):
    for spec in specs:
        t = spec["type"]
        if t.startswith("Adaptive") or t == "Upsample":
            return True
        if t.startswith("Conv") and spec.get("padding") == "same" and any(v > 1 for v in ntuple(spec.get("stride", 1), 1)):
            return True
        for key in ("body", "shortcut", "layers"):
            if size_dependent(spec.get(key) or []):
                return True
        for branch in spec.get("branches") or []:
            if size_dependent(branch if isinstance(branch, list) else [branch]):
                return True
    return False


def check_fields(model, summary):
    """Verifies every top-level receptive field by gradient support; returns (checked, problems)."""
    input_shape = model["input_shape"]
    real = list(input_shape[2:])
    if not real:
        return 0, []
    checked, problems = 0, []
    top_entries = [l for l in summary["layers"] if "." not in l["path"]]
    for index, entry in enumerate(top_entries):
        if entry["receptive_field"] is None:
            continue
        specs = model["layers"][:index + 1]
        try:
            proxy_prefix(model, index + 1, real)
        except NotImplementedError:
            continue  # no one-channel proxy with the same windows (a dilated ceil-mode max pool)
        field = list(zip(entry["receptive_field"], entry["effective_stride"], entry["effective_padding"]))
        # Unclipped, on an input holding two whole neighbouring fields (when the field does not depend on the input size).
        if not size_dependent(specs) and all(S > 0 for _, S, _ in field):
            units = [-(-P // S) for _, S, P in field]
            sizes = [max(n, -P + (u + 1) * S + r + 1) for n, (r, S, P), u in zip(real, field, units)]
            _, net = proxy_prefix(model, index + 1, sizes)
            first = support(net, sizes, units)
            second = support(net, sizes, [u + 1 for u in units])
            expected = [(-P + u * S, -P + u * S + r - 1) for (r, S, P), u in zip(field, units)]
            if first != expected or second is None or any(b[0] - a[0] != S for a, b, (_, S, _) in zip(first, second, field)):
                problems.append(f"layer {entry['path']}: gradient support {first} / {second}, recursion {expected}")
        # Clipped, at the model's own input size: the first, middle and last output units. A window inside the
        # input must equal the support; one the border cuts must contain it (a dilation hole may skip the last
        # real position, and padding inside the network stands for no input at all).
        _, net = proxy_prefix(model, index + 1, real)
        out = entry["output_shape"][2:]
        for units in {tuple(0 for _ in out), tuple(n // 2 for n in out), tuple(n - 1 for n in out)}:
            measured = support(net, real, list(units))
            expected = [(max(-P + u * S, 0), min(-P + u * S + r - 1, n - 1)) for (r, S, P), u, n in zip(field, units, real)]
            if any(lo > hi for lo, hi in expected):
                # The unit sees only padding: no input position may influence it.
                if measured is not None:
                    problems.append(f"layer {entry['path']} unit {units}: gradient support {measured}, but the field {expected} is all padding")
                continue
            windows = [(-P + u * S, -P + u * S + r - 1) for (r, S, P), u in zip(field, units)]
            if all(lo >= 0 and hi <= n - 1 for (lo, hi), n in zip(windows, real)):
                good = measured == windows
            else:
                # Cut by the border: padding inside the network (virtual units of the lattice) may stand for
                # some of the window, so the support must lie inside it, possibly empty.
                good = measured is None or all(lo <= a <= b <= hi for (a, b), (lo, hi) in zip(measured, expected))
            if not good:
                problems.append(f"layer {entry['path']} unit {units}: gradient support {measured}, recursion clipped {expected}")
        checked += 1
    return checked, problems


# ----------------------------------------------------------------------------------------------
# Comparison with convkit
# ----------------------------------------------------------------------------------------------

def convkit_summary(binary, path):
    result = subprocess.run([binary, "summary", str(path), "--json"], capture_output=True, text=True)
    if result.returncode != 0:
        return None, result.stderr.strip()
    return json.loads(result.stdout), None


def differences(expected, got):
    problems = []
    for key in ("output_shape", "total_params", "total_macs"):
        if expected[key] != got.get(key):
            problems.append(f"{key}: convkit {got.get(key)}, PyTorch {expected[key]}")
    if len(expected["layers"]) != len(got.get("layers", [])):
        problems.append(f"{len(got.get('layers', []))} layers, PyTorch {len(expected['layers'])}")
    for e, g in zip(expected["layers"], got.get("layers", [])):
        for key, value in e.items():
            if g.get(key) != value:
                problems.append(f"layer {e['path']} {key}: convkit {g.get(key)}, PyTorch {value}")
    return problems


def fixture_text(fixture):
    """The fixture as JSON with one layer per line (readable diffs)."""
    summary = fixture["summary"]
    head = {k: v for k, v in fixture.items() if k != "summary"}
    lines = ["{" + json.dumps(head)[1:-1] + ","]
    lines.append(' "summary": {' + json.dumps({k: v for k, v in summary.items() if k != "layers"})[1:-1] + ', "layers": [')
    lines.append(",\n".join("  " + json.dumps(layer) for layer in summary["layers"]))
    lines.append(" ]}}")
    text = "\n".join(lines) + "\n"
    assert json.loads(text) == fixture
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("models", nargs="*", help="model descriptions (default: every example and test model)")
    parser.add_argument("--convkit", default=str(ROOT / ".build" / "debug" / "convkit"), help="the convkit binary")
    parser.add_argument("--write", action="store_true", help="write the expected summaries to " + str(FIXTURES.relative_to(ROOT)))
    args = parser.parse_args()
    paths = [Path(p) for p in args.models] or sorted(p for d in MODEL_DIRS for p in d.glob("*.json"))
    failed = False
    print(f"torch {torch.__version__}")
    print(f"{'model':28} {'params':>13} {'MACs':>16} {'backward MACs':>16}  RF checks  convkit")
    for path in paths:
        model = json.loads(path.read_text())
        summary, backward, _, _ = summarise(model)
        checked, problems = check_fields(model, summary)
        got, error = convkit_summary(args.convkit, path)
        problems += [f"convkit failed: {error}"] if error else differences(summary, got)
        verdict = "match" if not problems else f"{len(problems)} problem(s)"
        print(f"{path.name:28} {summary['total_params']:>13,} {summary['total_macs']:>16,} {backward:>16,}  {checked:>9}  {verdict}")
        for p in problems[:20]:
            print("    " + p)
        failed |= bool(problems)
        if args.write:
            FIXTURES.mkdir(parents=True, exist_ok=True)
            relative = path.resolve().relative_to(ROOT)
            fixture = {"torch_version": torch.__version__, "model": str(relative), "total_backward_macs": backward,
                       "receptive_fields_checked_by_gradient": checked, "summary": summary}
            (FIXTURES / path.name).write_text(fixture_text(fixture))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
