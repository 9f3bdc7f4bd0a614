"""Build the PyTorch equivalent of a ConvKit model description (JSON).

    import json, convkit_torch
    model = convkit_torch.build(json.load(open("Examples/models/lenet.json")))

The module tree and its state_dict keys are exactly ConvKit's: the top level is an
nn.Sequential ("0.weight"), `Residual` holds `body` and `shortcut` Sequentials
("4.body.1.running_mean"), `Parallel` holds `branches` (a ModuleList of Sequentials,
"5.branches.0.1.weight"). ConvKit's padding extensions ('same' with stride > 1,
'causal', [low, high] pairs) become an explicit F.pad before a convolution with no
padding, so the weights keep their names. Used by the network fixtures and to check
that ConvKit checkpoints load into PyTorch.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Residual(nn.Module):
    """body(x) + shortcut(x); an empty shortcut is the identity."""

    def __init__(self, body, shortcut):
        super().__init__()
        self.body = nn.Sequential(*body)
        if shortcut:
            self.shortcut = nn.Sequential(*shortcut)

    def forward(self, x):
        return self.body(x) + (self.shortcut(x) if hasattr(self, "shortcut") else x)


class Parallel(nn.Module):
    """Branches on the same input, concatenated along channels or added."""

    def __init__(self, branches, merge="concat"):
        super().__init__()
        self.branches = nn.ModuleList([nn.Sequential(*b) for b in branches])
        self.merge = merge

    def forward(self, x):
        outputs = [branch(x) for branch in self.branches]
        return torch.cat(outputs, dim=1) if self.merge == "concat" else sum(outputs)


def _tuple(value, rank):
    return tuple(value) if isinstance(value, (list, tuple)) else (value,) * rank


def _explicit_pads(padding, rank, kernel, stride, dilation, size):
    """(low, high) per spatial dimension for ConvKit's padding forms, or None if PyTorch handles it."""
    if padding == "causal":
        return [(dilation[i] * (kernel[i] - 1), 0) for i in range(rank)]
    if padding == "same" and any(s != 1 for s in stride):
        pads = []
        for i in range(rank):
            out = -(-size[i] // stride[i])
            total = max((out - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1 - size[i], 0)
            pads.append((total // 2, total - total // 2))
        return pads
    if padding == "full":
        return [(dilation[i] * (kernel[i] - 1),) * 2 for i in range(rank)]
    if isinstance(padding, list) and padding and isinstance(padding[0], list):
        return [tuple(p) for p in padding]
    return None


class PaddedConv(nn.Module):
    """A ConvNd whose padding PyTorch cannot express, applied with F.pad first (weights stay `weight`/`bias`)."""

    def __init__(self, conv, spec, rank):
        super().__init__()
        self.weight, self.bias = conv.weight, conv.bias
        self.conv, self.spec, self.rank = [conv], spec, rank  # list: not a registered child

    def forward(self, x):
        conv, spec, rank = self.conv[0], self.spec, self.rank
        kernel, stride = conv.kernel_size, conv.stride
        pads = _explicit_pads(spec.get("padding", 0), rank, kernel, stride, conv.dilation, x.shape[2:])
        flat = [p for pair in reversed(pads) for p in pair]
        mode = spec.get("padding_mode", "zeros")
        x = F.pad(x, flat, mode="constant" if mode == "zeros" else mode)
        return conv._conv_forward(x, self.weight, self.bias)


def _layer(spec):
    kind = spec["type"]
    args = {k: v for k, v in spec.items() if k != "type"}
    if kind in ("Residual",):
        return Residual([_layer(s) for s in args.get("body", [])], [_layer(s) for s in args.get("shortcut", []) or []])
    if kind == "Parallel":
        return Parallel([[_layer(s) for s in b] for b in args["branches"]], args.get("merge", "concat"))
    if kind == "Sequential":
        return nn.Sequential(*[_layer(s) for s in args.get("layers", [])])
    if kind.startswith("Conv") and not kind.startswith("ConvTranspose"):
        rank = int(kind[4])
        padding = args.get("padding", 0)
        unusual = padding in ("causal", "full") or (isinstance(padding, list) and padding and isinstance(padding[0], list)) \
            or (padding == "same" and any(s != 1 for s in _tuple(args.get("stride", 1), rank)))
        if unusual:
            conv = getattr(nn, kind)(**{**args, "padding": 0})
            return PaddedConv(conv, spec, rank)
        return getattr(nn, kind)(**args)
    return getattr(nn, kind)(**args)


def build(description):
    """The nn.Sequential of `description["layers"]`."""
    return nn.Sequential(*[_layer(s) for s in description["layers"]])
