#!/usr/bin/env python3
"""Generate PyTorch reference fixtures for ConvKit.

Usage:
    python3 make_fixtures.py OUTDIR

Writes one JSON file per op family into OUTDIR:

    conv.json            conv1d, conv2d, conv3d (incl. padding_mode as nn.ConvNd applies it)
    conv_transpose.json  conv_transpose1d/2d/3d
    pad.json             pad (F.pad: constant, reflect, replicate, circular)
    max_pool.json        max_pool1d/2d/3d, max_unpool2d
    avg_pool.json        avg_pool1d/2d/3d
    adaptive_pool.json   adaptive_avg_pool1d/2d/3d, adaptive_max_pool1d/2d/3d
    fold.json            unfold, fold
    extensions.json      ConvKit-only extensions PyTorch rejects or lacks, with values
                         computed explicitly from F.pad + the PyTorch op (see below)

Everything is deterministic: every case seeds its own generator from a CRC32 of
its file and name, and the random sweeps use fixed seeds, so adding a case does
not change the others.

File format:

    {"generator": "Scripts/make_fixtures.py", "torch_version": "2.x.y",
     "cases": [CASE, ...]}

    CASE = {"name": "conv2d/stride2_pad1_dil2_g2_b2", "op": "conv2d",
            "args": ["--stride", "2", "--padding", "1", ...],
            "tensors": {NAME: {"shape": [...], "data": [...]}, ...},
            "error": null}

"args" are the options of `convkit op NAME --input X.npy [--weight W.npy]
[--bias B.npy] --output Y.npy [options]`: PyTorch's keyword names in
kebab-case, each option and its value as two list items; tuples are
comma-separated ("2,1"); a None entry of an adaptive output_size is "none";
booleans are the flags --ceil-mode, --return-indices and
--no-count-include-pad. Options equal to PyTorch's default are omitted.

Tensors (row-major "data"):
    inputs   input, weight, bias, indices (max_unpool2d only, int64), grad_output
    results  output, indices_output (int64, as PyTorch returns them), grad_input,
             grad_weight, grad_bias
Float inputs (input, weight, bias, grad_output) are float32 values, written as
the shortest decimal that round-trips to float32. The op and its backward were
evaluated in float64 on exactly those values (widened), and results are
written with 12 significant digits. Non-finite values are the JSON strings
"inf" and "-inf" (max pools with -inf inputs, constant pad with value -inf).

If PyTorch rejects a case, "error" holds the first line of the exception text
and only the input tensors are present. Otherwise "error" is null and
grad_* = d(sum(output * grad_output)) / d(input, weight, bias).

extensions.json uses the same format. Its values are what ConvKit defines
beyond PyTorch:
  * conv --padding same with stride > 1 (TensorFlow rule): out = ceil(in / s),
    total = max((out - 1) * s + d * (k - 1) + 1 - in, 0), low = total // 2,
    high = total - low; computed as F.pad(low, high) followed by the conv with
    padding 0 (with padding_mode: F.pad in that mode).
  * conv1d --padding causal: d * (k - 1) zeros on the left only.
  * conv --padding LOW:HIGH,... : asymmetric explicit padding per dimension.
  * max/avg pool --padding same (TensorFlow rule as above). Max pads with -inf;
    avg counts the padded zeros unless --no-count-include-pad is given.
"""

import json
import math
import random
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

GENERATOR = "Scripts/make_fixtures.py"
FLOAT_INPUTS = ("input", "weight", "bias")
TENSOR_ORDER = ("input", "weight", "bias", "indices", "grad_output", "output",
                "indices_output", "grad_input", "grad_weight", "grad_bias")

warnings.filterwarnings("ignore")


# --------------------------------------------------------------------------
# Options: defaults and CLI rendering
# --------------------------------------------------------------------------

CONV_DEFAULTS = dict(stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros")
CONVT_DEFAULTS = dict(stride=1, padding=0, output_padding=0, groups=1, dilation=1)
POOL_DEFAULTS = dict(stride=None, padding=0, dilation=1, ceil_mode=False,
                     return_indices=False, count_include_pad=True, divisor_override=None,
                     output_size=None)
FOLD_DEFAULTS = dict(dilation=1, padding=0, stride=1)
PAD_DEFAULTS = dict(mode="constant", value=None)


def defaults_for(op):
    if op.startswith("conv_transpose"):
        return CONVT_DEFAULTS
    if op.startswith("conv"):
        return CONV_DEFAULTS
    if op in ("fold", "unfold"):
        return FOLD_DEFAULTS
    if op == "pad":
        return PAD_DEFAULTS
    return POOL_DEFAULTS


def is_default(value, default):
    if isinstance(value, bool) or isinstance(default, bool):
        return value is default
    if isinstance(value, (tuple, list)) and isinstance(default, int):
        return len(value) > 0 and all(type(v) is int and v == default for v in value)
    if default is None:
        return value is None
    if isinstance(default, str):
        return value == default
    return type(value) in (int, float) and value == default


def strip_defaults(op, kwargs):
    defaults = defaults_for(op)
    out = {}
    for key, value in kwargs.items():
        if key in defaults and is_default(value, defaults[key]):
            continue
        if op == "pad" and key == "value" and value == 0:
            continue
        out[key] = value
    return out


def option_text(value):
    if isinstance(value, (tuple, list)):
        return ",".join(option_text(v) for v in value)
    if value is None:
        return "none"
    if isinstance(value, float):
        return "inf" if value == math.inf else "-inf" if value == -math.inf else repr(value)
    return str(value)


def cli_args(kwargs):
    args = []
    for key, value in kwargs.items():
        flag = "--" + key.replace("_", "-")
        if key == "count_include_pad":
            if not value:
                args.append("--no-count-include-pad")
        elif isinstance(value, bool):
            if value:
                args.append(flag)
        else:
            args += [flag, option_text(value)]
    return args


# --------------------------------------------------------------------------
# Tensor serialization
# --------------------------------------------------------------------------

def _nonfinite(v):
    return '"nan"' if v != v else '"inf"' if v > 0 else '"-inf"'


def f32_text(v):
    v = np.float32(v)
    return str(v) if np.isfinite(v) else _nonfinite(float(v))


def f64_text(v):
    return "%.12g" % v if math.isfinite(v) else _nonfinite(v)


def tensor_record(t, kind):
    """kind: 'f32' (exact float32 input), 'f64' (float64 result) or 'int'."""
    t = t.detach()
    flat = t.reshape(-1).tolist()
    if kind == "int":
        items = [str(int(v)) for v in flat]
    elif kind == "f32":
        items = [f32_text(v) for v in flat]
    else:
        items = [f64_text(v) for v in flat]
    return {"shape": list(t.shape), "data": RawJSON("[" + ",".join(items) + "]")}


class RawJSON(str):
    """Pre-rendered JSON text, spliced verbatim into the output."""


def dump_case(case):
    raws = []

    def prepare(obj):
        if isinstance(obj, RawJSON):
            raws.append(str(obj))
            return f"@@RAW{len(raws) - 1}@@"
        if isinstance(obj, dict):
            return {k: prepare(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [prepare(v) for v in obj]
        return obj

    text = json.dumps(prepare(case), separators=(",", ":"))
    for i, raw in enumerate(raws):
        text = text.replace(f'"@@RAW{i}@@"', raw, 1)
    return text


# --------------------------------------------------------------------------
# Random inputs
# --------------------------------------------------------------------------

def generator_for(key):
    return torch.Generator().manual_seed(zlib.crc32(key.encode()))


def randn(g, shape):
    """float32 normal values, widened to a float64 tensor."""
    return torch.randn(tuple(shape), generator=g, dtype=torch.float32).double()


def randint_values(g, shape, low=-2, high=3):
    """Small integers (many ties), as float64."""
    return torch.randint(low, high, tuple(shape), generator=g).double()


# --------------------------------------------------------------------------
# Op implementations (exactly the PyTorch calls under test)
# --------------------------------------------------------------------------

CONV = {1: (F.conv1d, nn.Conv1d), 2: (F.conv2d, nn.Conv2d), 3: (F.conv3d, nn.Conv3d)}
CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def conv(d, t, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    x, w, b = t["input"], t["weight"], t.get("bias")
    functional, module = CONV[d]
    if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
        # nn.ConvNd's own message, with its set of modes printed in a fixed order
        # (PyTorch prints a Python set, whose order depends on the hash seed).
        raise ValueError("padding_mode must be one of {'zeros', 'reflect', 'replicate', "
                         f"'circular'}}, but got padding_mode='{padding_mode}'")
    if padding_mode == "zeros":
        return functional(x, w, b, stride, padding, dilation, groups)
    # Non-zero padding modes exist only on nn.ConvNd: its constructor validates the
    # arguments, and _conv_forward pads with F.pad(mode) then convolves with padding 0.
    m = module(w.shape[1] * groups, w.shape[0], tuple(w.shape[2:]), stride, padding,
               dilation, groups, bias=b is not None, padding_mode=padding_mode, device="meta")
    return m._conv_forward(x, w, b)


def conv_transpose(d, t, **kw):
    return CONV_T[d](t["input"], t["weight"], t.get("bias"), **kw)


OPS = {
    **{f"conv{d}d": (lambda d: lambda t, kw: conv(d, t, **kw))(d) for d in (1, 2, 3)},
    **{f"conv_transpose{d}d": (lambda d: lambda t, kw: conv_transpose(d, t, **kw))(d)
       for d in (1, 2, 3)},
    "pad": lambda t, kw: F.pad(t["input"], **kw),
    "max_pool1d": lambda t, kw: F.max_pool1d(t["input"], **kw),
    "max_pool2d": lambda t, kw: F.max_pool2d(t["input"], **kw),
    "max_pool3d": lambda t, kw: F.max_pool3d(t["input"], **kw),
    "max_unpool2d": lambda t, kw: F.max_unpool2d(t["input"], t["indices"], **kw),
    "avg_pool1d": lambda t, kw: F.avg_pool1d(t["input"], **kw),
    "avg_pool2d": lambda t, kw: F.avg_pool2d(t["input"], **kw),
    "avg_pool3d": lambda t, kw: F.avg_pool3d(t["input"], **kw),
    "adaptive_avg_pool1d": lambda t, kw: F.adaptive_avg_pool1d(t["input"], **kw),
    "adaptive_avg_pool2d": lambda t, kw: F.adaptive_avg_pool2d(t["input"], **kw),
    "adaptive_avg_pool3d": lambda t, kw: F.adaptive_avg_pool3d(t["input"], **kw),
    "adaptive_max_pool1d": lambda t, kw: F.adaptive_max_pool1d(t["input"], **kw),
    "adaptive_max_pool2d": lambda t, kw: F.adaptive_max_pool2d(t["input"], **kw),
    "adaptive_max_pool3d": lambda t, kw: F.adaptive_max_pool3d(t["input"], **kw),
    "unfold": lambda t, kw: F.unfold(t["input"], **kw),
    "fold": lambda t, kw: F.fold(t["input"], **kw),
}


# --------------------------------------------------------------------------
# Running one case
# --------------------------------------------------------------------------

class FixtureFile:
    def __init__(self, filename):
        self.filename = filename
        self.cases = []
        self.names = set()

    def case(self, op, name, kwargs, inputs, compute=None):
        """Run one case and record it.

        inputs: dict of name -> shape (random float32 normals), tensor (used as is;
        'indices' must be int64) or None (absent). compute(tensors, kwargs) defaults
        to the PyTorch op; extensions pass their own explicit computation.
        Returns True if the op was accepted.
        """
        full_name = f"{op}/{name}"
        assert full_name not in self.names, full_name
        self.names.add(full_name)
        g = generator_for(f"{self.filename}:{full_name}")
        kwargs = strip_defaults(op, kwargs)

        tensors = {}
        for key, spec in inputs.items():
            if spec is None:
                continue
            if isinstance(spec, torch.Tensor):
                t = spec.clone()
            else:
                t = randn(g, spec)
            if key in FLOAT_INPUTS:
                t = t.double().requires_grad_(True)
            tensors[key] = t

        record = {"name": full_name, "op": op, "args": cli_args(kwargs), "tensors": {},
                  "error": None}
        for key, t in tensors.items():
            record["tensors"][key] = tensor_record(t, "int" if key == "indices" else "f32")

        compute = compute or OPS[op]
        try:
            result = compute(tensors, dict(kwargs))
        except Exception as e:  # PyTorch's verdict: rejected
            record["error"] = (str(e).strip().splitlines() or [type(e).__name__])[0]
            self.cases.append(record)
            return False

        indices = None
        if isinstance(result, tuple):
            result, indices = result
        grad_output = randn(g, result.shape)
        if result.requires_grad:
            try:
                result.backward(grad_output)
            except RuntimeError:
                # Some backward kernels reject an empty grad_output (adaptive pools with
                # output_size 0); the gradient of an empty output is zero.
                assert result.numel() == 0, full_name
        assert not torch.isnan(result).any(), full_name

        results = {"grad_output": tensor_record(grad_output, "f32"),
                   "output": tensor_record(result, "f64")}
        if indices is not None:
            results["indices_output"] = tensor_record(indices, "int")
        for key in FLOAT_INPUTS:
            if key in tensors:
                grad = tensors[key].grad
                if grad is None:
                    grad = torch.zeros_like(tensors[key])
                results[f"grad_{key}"] = tensor_record(grad, "f64")
        record["tensors"].update(results)
        record["tensors"] = {k: record["tensors"][k] for k in TENSOR_ORDER
                             if k in record["tensors"]}
        self.cases.append(record)
        return True

    def write(self, outdir):
        path = Path(outdir) / self.filename
        header = json.dumps({"generator": GENERATOR, "torch_version": torch_version()})
        body = ",\n".join(dump_case(c) for c in self.cases)
        path.write_text(header[:-1] + ', "cases": [\n' + body + "\n]}\n")
        return path


def torch_version():
    return torch.__version__.split("+")[0]


def sweep(f, op, count, seed, draw, keep_rejected=0.25, max_chars=12000):
    """Random sweep: count configurations from draw(rng) -> (kwargs, inputs).

    PyTorch's verdict is kept either way, but rejected draws are redrawn with
    probability 1 - keep_rejected so that most recorded cases are accepted; draws
    whose record would exceed max_chars of JSON are always redrawn.
    """
    rng = random.Random(seed)
    for i in range(count):
        for attempt in range(30):
            kwargs, inputs = draw(rng)
            trial = FixtureFile("trial")
            accepted = trial.case(op, "trial", kwargs, inputs)
            if len(dump_case(trial.cases[0])) > max_chars:
                continue
            if accepted or rng.random() < keep_rejected:
                break
        f.case(op, f"rand_{i:02d}", kwargs, inputs)


def sp(d, *values):
    """The first d of per-dimension values: sp(2, 7, 6, 5) == (7, 6)."""
    return tuple(values[:d])


# --------------------------------------------------------------------------
# conv1d / conv2d / conv3d
# --------------------------------------------------------------------------

def conv_fixtures():
    f = FixtureFile("conv.json")
    for d in (1, 2, 3):
        op = f"conv{d}d"
        S = {1: (9,), 2: (6, 5), 3: (4, 3, 3)}[d]
        K = {1: (3,), 2: (3, 2), 3: (3, 2, 3)}[d]
        k = lambda *v: sp(d, *v)  # noqa: E731

        def add(name, x, w, b=True, **kw):
            bias = (w[0],) if b is True else b
            f.case(op, name, kw, {"input": x, "weight": w, "bias": bias})

        add("basic_b2", (2, 3, *S), (4, 3, *K))
        add("nobias", (2, 3, *S), (4, 3, *K), b=None)
        add("k1", (2, 3, *S), (4, 3, *k(1, 1, 1)))
        add("stride2", (2, 3, *S), (4, 3, *K), stride=2)
        add("stride_tuple", (2, 3, *S), (4, 3, *K), stride=k(2, 1, 3))
        add("stride3_nobias", (1, 2, *S), (3, 2, *K), b=None, stride=3)
        add("pad1", (2, 3, *S), (4, 3, *K), padding=1)
        add("pad_tuple", (2, 3, *S), (4, 3, *K), padding=k(1, 0, 2))
        add("pad3_k2", (1, 2, *S), (2, 2, *k(2, 2, 2)), padding=k(3, 3, 1))
        add("same_odd_k3", (2, 3, *S), (4, 3, *k(3, 3, 3)), padding="same")
        add("same_even_k", (2, 3, *S), (4, 3, *k(4, 2, 2)), padding="same")
        add("same_dil2", (2, 3, *S), (4, 3, *k(3, 3, 3)), padding="same", dilation=2)
        add("same_even_k_odd_dil", (2, 3, *S), (4, 3, *k(2, 4, 2)), padding="same",
            dilation=k(3, 1, 1))
        add("same_k1", (1, 3, *S), (2, 3, *k(1, 1, 1)), padding="same")
        add("valid", (2, 3, *S), (4, 3, *K), padding="valid")
        add("dil2", (2, 3, *S), (4, 3, *k(2, 2, 2)), dilation=2)
        add("dil_tuple", (2, 3, *S), (4, 3, *k(3, 2, 2)),
            dilation={1: (2,), 2: (2, 3), 3: (1, 2, 2)}[d])
        add("groups2", (2, 4, *S), (6, 2, *K), groups=2)
        add("groups2_nobias", (2, 4, *S), (6, 2, *K), b=None, groups=2)
        add("groups3_cin6_cout3", (1, 6, *S), (3, 2, *K), groups=3)
        add("depthwise", (2, 3, *S), (3, 1, *K), groups=3)
        add("depthwise_mult2", (2, 3, *S), (6, 1, *K), groups=3)
        add("stride2_pad1_dil2_g2_b2", (2, 4, *S), (4, 2, *k(3, 3, 2)), stride=2, padding=1,
            dilation=2, groups=2)
        for mode in ("reflect", "replicate", "circular"):
            add(f"{mode}_pad1", (2, 3, *S), (4, 3, *K), padding=1, padding_mode=mode)
            add(f"{mode}_pad_tuple", (2, 3, *S), (4, 3, *K), padding=k(2, 1, 1),
                padding_mode=mode)
            add(f"{mode}_same_odd_k3", (2, 3, *S), (4, 3, *k(3, 3, 3)), padding="same",
                padding_mode=mode)
            add(f"{mode}_same_even_k", (2, 3, *S), (4, 3, *k(4, 2, 2)), padding="same",
                padding_mode=mode)
            add(f"{mode}_same_even_k_odd_dil", (1, 3, *S), (2, 3, *k(2, 2, 2)),
                padding="same", dilation=k(3, 1, 3), padding_mode=mode)
            add(f"{mode}_stride2_pad1_depthwise_mult2", (1, 3, *S), (6, 1, *K), stride=2,
                padding=1, groups=3, padding_mode=mode)
            add(f"{mode}_valid", (1, 3, *S), (2, 3, *K), padding="valid", padding_mode=mode)
            add(f"{mode}_unbatched_pad1", (3, *S), (2, 3, *K), padding=1, padding_mode=mode)
            add(f"{mode}_nobias_dil2_pad2", (2, 2, *S), (3, 2, *k(2, 2, 2)), b=None,
                dilation=2, padding=2, padding_mode=mode)
            add(f"{mode}_zero_batch", (0, 3, *S), (2, 3, *K), padding=1, padding_mode=mode)
        add("reflect_pad_eq_size_minus1", (1, 2, *k(3, 3, 3)), (2, 2, *K), padding=2,
            padding_mode="reflect")
        add("replicate_pad_gt_size", (1, 2, *k(3, 2, 2)), (2, 2, *k(2, 2, 2)), padding=3,
            padding_mode="replicate")
        add("circular_pad_eq_size", (1, 2, *k(3, 2, 2)), (2, 2, *k(2, 2, 2)),
            padding=k(3, 2, 2), padding_mode="circular")
        # nn.ConvNd feeds negative padding straight to F.pad, which crops: accepted.
        for mode in ("reflect", "replicate", "circular"):
            add(f"{mode}_negative_pad_crops", (1, 2, *k(6, 5, 4)), (2, 2, *k(2, 2, 1)),
                padding=-1, padding_mode=mode)
        add("odd_sizes", (1, 3, *k(11, 5, 3)), (2, 3, *k(2, 3, 2)))
        add("size1_spatial", (2, 3, *k(1, 1, 1)), (4, 3, *k(1, 1, 1)))
        add("size1_mixed", (2, 2, *k(6, 1, 5)), (3, 2, *k(3, 1, 2)))
        add("size1_pad1_k3", (2, 2, *k(1, 1, 1)), (3, 2, *k(3, 3, 3)), padding=1)
        add("batch1", (1, 3, *S), (4, 3, *K))
        add("batch3", (3, 2, *S), (2, 2, *K))
        add("unbatched", (3, *S), (4, 3, *K))
        add("unbatched_nobias_stride2", (3, *S), (4, 3, *K), b=None, stride=2)
        add("unbatched_same_depthwise", (3, *S), (3, 1, *K), padding="same", groups=3)
        add("kernel_eq_input", (2, 3, *S), (4, 3, *S))
        add("kernel_gt_input_padded", (2, 2, *k(2, 2, 2)), (3, 2, *k(4, 3, 4)), padding=1)
        add("same_kernel_gt_input", (1, 2, *k(3, 2, 2)), (2, 2, *k(5, 4, 5)), padding="same")
        add("zero_batch", (0, 3, *S), (4, 3, *K))
        add("zero_batch_same", (0, 3, *S), (4, 3, *k(2, 2, 2)), padding="same")
        add("zero_in_channels_output_has_0_channels", (2, 0, *S), (4, 0, *K))
        if d == 2:
            add("large_b2_c4_10x10", (2, 4, 10, 10), (6, 4, 3, 3), padding=1)

        # Rejections
        add("err_rank_too_low", S, (4, 3, *K))
        add("err_rank_too_high", (1, 2, 3, *S), (4, 3, *K))
        add("err_weight_rank", (2, 3, *S), (4, 3, *K, 2))
        add("err_channel_mismatch", (2, 3, *S), (4, 2, *K))
        add("err_channel_mismatch_groups", (2, 4, *S), (4, 4, *K), groups=2)
        add("err_in_channels_not_divisible", (2, 3, *S), (4, 1, *K), groups=2)
        add("err_out_channels_not_divisible", (2, 4, *S), (3, 2, *K), groups=2)
        add("err_bias_size", (2, 3, *S), (4, 3, *K), b=(5,))
        add("err_bias_rank", (2, 3, *S), (4, 3, *K), b=(4, 1))
        add("err_stride0", (2, 3, *S), (4, 3, *K), stride=0)
        add("err_stride_negative", (2, 3, *S), (4, 3, *K), stride=-1)
        add("err_stride_tuple_length", (2, 3, *S), (4, 3, *K), stride=(2,) * (d + 1))
        add("err_dilation0", (2, 3, *S), (4, 3, *K), dilation=0)
        add("err_dilation_negative", (2, 3, *S), (4, 3, *K), dilation=-1)
        add("err_padding_negative", (2, 3, *S), (4, 3, *K), padding=-1)
        add("err_groups0", (2, 3, *S), (4, 3, *K), groups=0)
        add("err_groups_negative", (2, 3, *S), (4, 3, *K), groups=-1)
        add("err_kernel_gt_input", (1, 2, *k(2, 2, 2)), (3, 2, *k(3, 3, 3)))
        add("err_dilated_kernel_gt_input", (1, 2, *S), (3, 2, *K), dilation=5)
        add("err_valid_kernel_gt_input", (1, 2, *k(2, 2, 2)), (3, 2, *k(3, 3, 3)),
            padding="valid")
        add("err_same_stride2", (1, 3, *S), (2, 3, *K), padding="same", stride=2)
        add("err_same_stride_tuple", (1, 3, *S), (2, 3, *K), padding="same",
            stride=k(2, 1, 1))
        add("err_reflect_same_stride2", (1, 3, *S), (2, 3, *K), padding="same", stride=2,
            padding_mode="reflect")
        add("err_padding_string", (1, 3, *S), (2, 3, *K), padding="foo")
        add("err_padding_mode", (1, 3, *S), (2, 3, *K), padding=1, padding_mode="foo")
        add("err_reflect_pad_eq_size", (1, 2, *k(3, 3, 3)), (2, 2, *K), padding=3,
            padding_mode="reflect")
        add("err_circular_pad_gt_size", (1, 2, *k(3, 3, 3)), (2, 2, *K), padding=4,
            padding_mode="circular")
        add("err_reflect_groups0", (1, 3, *S), (2, 3, *K), padding=1, groups=0,
            padding_mode="reflect")
        add("err_replicate_out_channels_not_divisible", (1, 4, *S), (3, 2, *K), padding=1,
            groups=2, padding_mode="replicate")
        add("err_zero_spatial", (1, 2, *k(0, 4, 3)), (3, 2, *k(1, 1, 1)))
        add("err_zero_spatial_padded", (1, 2, *k(0, 4, 3)), (3, 2, *k(1, 1, 1)), padding=1)
        add("err_zero_out_channels", (1, 3, *S), (0, 3, *K), b=None)
        add("err_kernel0", (1, 3, *S), (4, 3, *k(0, 2, 2)))
        add("err_reflect_negative_pad_too_small", (1, 2, *k(3, 3, 3)), (2, 2, *K),
            padding=-1, padding_mode="reflect")

        random_conv(f, d, count=40)
    return f


def random_conv(f, d, count):
    max_size = {1: 9, 2: 7, 3: 4}[d]

    def draw(rng):
        groups = rng.choice([1, 1, 1, 2, 3])
        cin = groups * rng.randint(1, 2)
        cout = groups * rng.randint(1, 2)
        x_channels = cin + (rng.random() < 0.05)  # occasionally a channel mismatch
        n = rng.choice([None, 1, 1, 2, 2, 3])
        size = tuple(rng.randint(1, max_size) for _ in range(d))
        kernel = tuple(rng.randint(1, 4) for _ in range(d))
        kw = {}
        if rng.random() < 0.5:
            kw["stride"] = rng.randint(1, 3) if rng.random() < 0.5 else \
                tuple(rng.randint(1, 3) for _ in range(d))
        r = rng.random()
        if r < 0.15:
            kw["padding"] = "same"
        elif r < 0.25:
            kw["padding"] = "valid"
        elif r < 0.6:
            kw["padding"] = rng.randint(0, 3)
        elif r < 0.85:
            kw["padding"] = tuple(rng.randint(0, 3) for _ in range(d))
        if rng.random() < 0.4:
            kw["dilation"] = rng.randint(1, 3) if rng.random() < 0.5 else \
                tuple(rng.randint(1, 3) for _ in range(d))
        kw["groups"] = groups
        if rng.random() < 0.4:
            kw["padding_mode"] = rng.choice(["reflect", "replicate", "circular"])
        x = (x_channels, *size) if n is None else (n, x_channels, *size)
        w = (cout, cin // groups, *kernel)
        b = (cout,) if rng.random() < 0.7 else None
        return kw, {"input": x, "weight": w, "bias": b}

    sweep(f, f"conv{d}d", count, 1000 + d, draw)


# --------------------------------------------------------------------------
# conv_transpose1d / 2d / 3d
# --------------------------------------------------------------------------

def conv_transpose_fixtures():
    f = FixtureFile("conv_transpose.json")
    for d in (1, 2, 3):
        op = f"conv_transpose{d}d"
        S = {1: (5,), 2: (4, 3), 3: (3, 2, 2)}[d]
        K = {1: (3,), 2: (3, 2), 3: (2, 3, 2)}[d]
        k = lambda *v: sp(d, *v)  # noqa: E731

        def add(name, x, w, b=True, groups=1, **kw):
            bias = (w[1] * max(groups, 1),) if b is True else b
            if groups != 1:
                kw["groups"] = groups
            f.case(op, name, kw, {"input": x, "weight": w, "bias": bias})

        add("basic_b2", (2, 3, *S), (3, 4, *K))
        add("nobias", (2, 3, *S), (3, 4, *K), b=None)
        add("k1", (2, 3, *S), (3, 4, *k(1, 1, 1)))
        add("stride2", (2, 3, *S), (3, 2, *K), stride=2)
        add("stride_tuple", (2, 3, *S), (3, 2, *K), stride=k(2, 1, 3))
        add("stride3_k2_gaps", (1, 2, *S), (2, 2, *k(2, 2, 2)), stride=3)
        add("pad1", (2, 3, *S), (3, 2, *K), padding=1)
        add("pad_tuple", (2, 3, *S), (3, 2, *K), padding=k(1, 0, 1))
        add("stride2_outpad1", (2, 3, *S), (3, 2, *K), stride=2, output_padding=1)
        add("outpad_tuple", (1, 3, *S), (3, 2, *K), stride=k(2, 3, 2),
            output_padding=k(1, 2, 0))
        add("outpad_ge_stride_lt_dilation", (1, 3, *S), (3, 2, *K), dilation=2,
            output_padding=1)
        add("outpad_mixed_stride_dilation", (1, 3, *S), (3, 2, *K), stride=k(1, 3, 1),
            dilation=k(3, 1, 2), output_padding=k(2, 2, 1))
        add("dil2", (2, 3, *S), (3, 2, *K), dilation=2)
        add("dil_tuple", (1, 3, *S), (3, 2, *K), dilation=k(2, 1, 3))
        add("groups2", (2, 4, *S), (4, 3, *K), groups=2)
        add("groups2_nobias", (2, 4, *S), (4, 3, *K), b=None, groups=2)
        add("depthwise", (2, 3, *S), (3, 1, *K), groups=3)
        add("depthwise_mult2", (2, 3, *S), (3, 2, *K), groups=3)
        add("stride2_pad1_outpad1_dil2_g2", (2, 4, *S), (4, 2, *k(3, 3, 2)), stride=2,
            padding=1, output_padding=1, dilation=2, groups=2)
        add("unbatched", (3, *S), (3, 2, *K))
        add("unbatched_stride2_g3", (3, *S), (3, 1, *K), stride=2, groups=3)
        add("batch1", (1, 3, *S), (3, 2, *K))
        add("batch3", (3, 2, *S), (2, 2, *K))
        add("size1_input", (2, 3, *k(1, 1, 1)), (3, 2, *K))
        add("size1_input_stride2_outpad1", (1, 2, *k(1, 1, 1)), (2, 2, *K), stride=2,
            output_padding=1)
        add("pad_gives_output1", (1, 2, *k(1, 1, 1)), (2, 2, *k(3, 3, 3)), padding=1)
        add("stride3_pad2", (1, 2, *S), (2, 3, *k(4, 3, 4)), stride=3, padding=2)
        add("zero_batch", (0, 3, *S), (3, 2, *K))
        if d == 2:
            add("large_b2_c4_6x6_stride2", (2, 4, 6, 6), (4, 3, 3, 3), stride=2, padding=1,
                output_padding=1)

        add("err_rank_too_low", S, (3, 2, *K))
        add("err_rank_too_high", (1, 2, 3, *S), (3, 2, *K))
        add("err_channel_mismatch", (2, 3, *S), (2, 2, *K))
        add("err_weight_dim0_not_divisible", (2, 3, *S), (3, 2, *K), groups=2)
        add("err_bias_size", (2, 3, *S), (3, 2, *K), b=(3,))
        add("err_stride0", (2, 3, *S), (3, 2, *K), stride=0)
        add("err_stride_negative", (2, 3, *S), (3, 2, *K), stride=-1)
        add("err_dilation0", (2, 3, *S), (3, 2, *K), dilation=0)
        add("err_padding_negative", (2, 3, *S), (3, 2, *K), padding=-1)
        add("err_output_padding_negative", (2, 3, *S), (3, 2, *K), stride=2,
            output_padding=-1)
        add("err_groups0", (2, 3, *S), (3, 2, *K), b=None, groups=0)
        add("err_output_padding_eq_stride", (2, 3, *S), (3, 2, *K), output_padding=1)
        add("err_output_padding_eq_stride2", (2, 3, *S), (3, 2, *K), stride=2,
            output_padding=2)
        add("err_output_padding_one_dim", (2, 3, *S), (3, 2, *K), stride=k(2, 1, 2),
            output_padding=k(1, 1, 1) if d > 1 else (2,))
        add("err_output_padding_ge_both", (2, 3, *S), (3, 2, *K), stride=2, dilation=3,
            output_padding=3)
        add("err_output_size_zero", (1, 2, *k(1, 1, 1)), (2, 2, *k(2, 2, 2)), padding=1)
        add("err_output_size_negative", (1, 2, *k(1, 1, 1)), (2, 2, *k(2, 2, 2)), padding=2)
        add("err_zero_spatial", (1, 2, *k(0, 3, 2)), (2, 2, *K))
        add("err_kernel0", (1, 3, *S), (3, 2, *k(0, 2, 2)))
        add("err_weight_out_channels0", (1, 3, *S), (3, 0, *K), b=None)
        add("err_zero_in_channels", (1, 0, *S), (0, 2, *K))

        random_conv_transpose(f, d, count=40)
    return f


def random_conv_transpose(f, d, count):
    max_size = {1: 7, 2: 5, 3: 3}[d]

    def draw(rng):
        groups = rng.choice([1, 1, 1, 2, 3])
        cin = groups * rng.randint(1, 2)
        cout_g = rng.randint(1, 2)
        n = rng.choice([None, 1, 1, 2, 2])
        size = tuple(rng.randint(1, max_size) for _ in range(d))
        kernel = tuple(rng.randint(1, 4 if d < 3 else 3) for _ in range(d))
        stride = tuple(rng.randint(1, 3) for _ in range(d))
        kw = {"stride": stride if rng.random() < 0.5 else stride[0]}
        kw["padding"] = rng.randint(0, 3) if rng.random() < 0.5 else \
            tuple(rng.randint(0, 3) for _ in range(d))
        if rng.random() < 0.5:
            kw["dilation"] = tuple(rng.randint(1, 3) for _ in range(d))
        if rng.random() < 0.5:
            kw["output_padding"] = tuple(rng.randint(0, 2) for _ in range(d))
        kw["groups"] = groups
        x = (cin, *size) if n is None else (n, cin, *size)
        w = (cin, cout_g, *kernel)
        b = (cout_g * groups,) if rng.random() < 0.7 else None
        return kw, {"input": x, "weight": w, "bias": b}

    sweep(f, f"conv_transpose{d}d", count, 2000 + d, draw)


# --------------------------------------------------------------------------
# pad
# --------------------------------------------------------------------------

def pad_fixtures():
    f = FixtureFile("pad.json")

    def add(name, x, pad, mode="constant", value=None):
        kw = {"pad": tuple(pad), "mode": mode}
        if value is not None:
            kw["value"] = value
        f.case("pad", name, kw, {"input": x})

    # constant
    add("constant_3d", (2, 3, 5), (1, 2))
    add("constant_4d", (1, 2, 3, 5), (1, 2, 0, 1))
    add("constant_5d", (1, 2, 3, 2, 4), (1, 0, 2, 1, 0, 1))
    add("constant_value", (2, 3, 5), (2, 1), value=0.5)
    add("constant_value_negative", (1, 2, 3, 4), (1, 1, 2, 0), value=-2.5)
    add("constant_value_neg_inf", (1, 2, 4), (1, 1), value=-math.inf)
    add("constant_negative_crop", (2, 3, 5), (-1, 2))
    add("constant_negative_both", (1, 2, 4, 5), (-1, -1, 1, 0))
    add("constant_negative_mixed_5d", (1, 2, 3, 4, 4), (-1, 1, 2, -2, 0, -1), value=1.5)
    add("constant_len2_on_4d", (1, 2, 3, 4), (2, 1))
    add("constant_len2_on_5d", (1, 2, 3, 2, 4), (1, 1))
    add("constant_len4_on_5d", (1, 2, 3, 2, 4), (1, 0, 0, 2))
    add("constant_len6_on_4d_pads_channels", (1, 2, 3, 4), (1, 0, 0, 1, 1, 1))
    add("constant_len8_on_5d_pads_channels", (1, 2, 2, 2, 3), (0, 1, 1, 0, 0, 1, 2, 0))
    add("constant_len10_on_5d_pads_batch", (1, 2, 2, 2, 3), (0, 1, 0, 0, 0, 0, 0, 0, 1, 1))
    add("constant_2d", (3, 5), (1, 2))
    add("constant_2d_len4", (3, 5), (1, 2, 2, 0))
    add("constant_1d", (5,), (2, 1))
    add("constant_result_size0", (2, 3, 5), (-3, -2))
    add("constant_zero_batch", (0, 3, 5), (1, 1))
    add("constant_zero_width", (2, 3, 0), (1, 2))
    add("constant_zero_pad", (2, 3, 5), (0, 0))
    add("constant_size1", (2, 3, 1), (3, 2))
    add("err_constant_odd_length", (2, 3, 5), (1, 2, 1))
    add("err_constant_too_long", (2, 3), (1, 1, 1, 1, 1, 1))
    add("err_constant_result_negative", (2, 3, 5), (-3, -3))
    add("err_constant_crop_more_than_size", (2, 3, 5), (-6, 2))

    for mode in ("reflect", "replicate", "circular"):
        add(f"{mode}_2d_unbatched", (3, 5), (1, 2), mode)
        add(f"{mode}_3d", (2, 3, 5), (1, 2), mode)
        add(f"{mode}_3d_len4_unbatched", (2, 3, 5), (1, 2, 2, 0), mode)
        add(f"{mode}_4d", (1, 2, 3, 5), (1, 2, 2, 1), mode)
        add(f"{mode}_4d_len6_unbatched", (2, 3, 4, 3), (1, 0, 2, 1, 1, 2), mode)
        add(f"{mode}_5d", (1, 2, 3, 4, 3), (1, 2, 2, 0, 1, 2), mode)
        add(f"{mode}_5d_asymmetric", (2, 1, 3, 3, 4), (0, 3, 1, 0, 2, 2), mode)
        add(f"{mode}_max_pad", (2, 3, 5), (4 if mode == "reflect" else 5, 4), mode)
        add(f"{mode}_max_pad_4d", (1, 1, 3, 4), (3, 3, 2, 2) if mode == "reflect"
            else (4, 4, 3, 3), mode)
        add(f"{mode}_zero_pad", (2, 3, 5), (0, 0), mode)
        add(f"{mode}_size1", (2, 3, 1), (0, 0) if mode == "reflect" else (1, 1), mode)
        add(f"{mode}_zero_batch", (0, 3, 5), (1, 1), mode)
        add(f"{mode}_value0_accepted", (2, 3, 5), (1, 1), mode, value=0.0)
        add(f"err_{mode}_1d", (5,), (1, 1), mode)
        add(f"err_{mode}_2d_len4", (3, 5), (1, 1, 1, 1), mode)
        add(f"err_{mode}_3d_len6", (2, 3, 5), (1, 1, 1, 1, 1, 1), mode)
        add(f"err_{mode}_4d_len2", (1, 2, 3, 5), (1, 1), mode)
        add(f"err_{mode}_5d_len4", (1, 2, 3, 3, 3), (1, 1, 1, 1), mode)
        add(f"err_{mode}_5d_len8", (1, 2, 3, 3, 3), (1, 1, 1, 1, 1, 1, 1, 1), mode)
        add(f"err_{mode}_6d", (1, 1, 2, 3, 3, 3), (1, 1, 1, 1, 1, 1), mode)
        add(f"err_{mode}_odd_length", (2, 3, 5), (1, 1, 1), mode)
        add(f"err_{mode}_value", (2, 3, 5), (1, 1), mode, value=2.5)
        add(f"err_{mode}_zero_width", (2, 3, 0), (1, 1), mode)
    # Negative pads. reflect/replicate: pad the positive sides, then crop.
    for mode in ("reflect", "replicate"):
        add(f"{mode}_negative_left", (2, 3, 5), (-1, 2), mode)
        add(f"{mode}_negative_right", (2, 3, 5), (4, -3), mode)
        add(f"{mode}_negative_both", (2, 3, 5), (-1, -2), mode)
        add(f"{mode}_negative_crop_into_pad", (1, 2, 5), (-5, 1), mode)
        add(f"{mode}_negative_4d", (1, 2, 4, 5), (-1, 2, 1, -2), mode)
        add(f"err_{mode}_negative_result_size0", (2, 3, 5), (-3, -2), mode)
        add(f"err_{mode}_zero_channels", (2, 0, 5), (1, 1), mode)
    add("replicate_pad_gt_size", (2, 3, 3), (5, 7), "replicate")
    add("replicate_pad_gt_size_4d", (1, 2, 2, 3), (4, 0, 3, 5), "replicate")
    add("err_reflect_pad_eq_size", (2, 3, 5), (5, 0), "reflect")
    add("err_reflect_pad_eq_size_right", (2, 3, 5), (0, 5), "reflect")
    add("err_reflect_pad_gt_size_4d", (1, 2, 3, 5), (1, 1, 3, 0), "reflect")
    add("err_reflect_size1_pad1", (2, 3, 1), (1, 0), "reflect")
    add("err_reflect_negative_other_side_ge_size", (2, 3, 5), (-1, 5), "reflect")
    # circular: negative pads crop first, then wrap around the cropped tensor.
    add("circular_pad_eq_size", (2, 3, 4), (4, 4), "circular")
    add("circular_negative_both", (1, 2, 5), (-1, -1), "circular")
    add("circular_negative_left", (1, 2, 5), (-2, 3), "circular")
    add("circular_negative_right", (1, 2, 5), (3, -2), "circular")
    add("circular_negative_right2", (1, 2, 5), (2, -3), "circular")
    add("circular_negative_crop_only", (1, 2, 5), (-4, 0), "circular")
    add("circular_negative_result_size0", (1, 2, 5), (0, -5), "circular")
    add("circular_negative_4d", (1, 2, 4, 5), (-1, 2, 1, -1), "circular")
    add("circular_zero_channels", (2, 0, 5), (1, 1), "circular")
    add("circular_zero_height_pad_width", (1, 2, 0, 5), (1, 1, 0, 0), "circular")
    add("err_circular_pad_gt_size", (2, 3, 5), (6, 0), "circular")
    add("err_circular_pad_gt_size_4d", (1, 2, 3, 4), (1, 1, 0, 4), "circular")
    add("err_circular_negative_result_negative", (2, 3, 5), (-3, -3), "circular")
    add("err_mode_unknown", (2, 3, 5), (1, 1), "foo")

    random_pad(f, count=60)
    return f


def random_pad(f, count):
    def draw(rng):
        mode = rng.choice(["constant", "reflect", "replicate", "circular"])
        ndim = rng.randint(2, 5)
        shape = [rng.randint(1, 4) for _ in range(ndim)]
        if ndim >= 4:
            shape[0] = 1
        if mode == "constant":
            npairs = rng.randint(1, min(ndim, 3))
        else:
            npairs = rng.choice([n for n in (ndim - 2, ndim - 1) if 1 <= n <= 3] or [1])
        pad = []
        for j in range(npairs):
            size = shape[-1 - j]
            for _ in range(2):
                if mode == "circular":
                    # PyTorch's circular pad with negative entries can read uninitialized
                    # memory; the sweep keeps to non-negative pads (see the hand cases).
                    pad.append(rng.randint(0, size + (rng.random() < 0.1)))
                elif mode == "reflect":
                    pad.append(rng.randint(-1, size - 1 + (rng.random() < 0.1)))
                else:
                    pad.append(rng.randint(-1, 4))
        kw = {"pad": tuple(pad), "mode": mode}
        if mode == "constant" and rng.random() < 0.5:
            kw["value"] = rng.choice([1.0, -0.75, 3.5, 0.25])
        return kw, {"input": tuple(shape)}

    sweep(f, "pad", count, 3000, draw)


# --------------------------------------------------------------------------
# max_pool1d / 2d / 3d, max_unpool2d
# --------------------------------------------------------------------------

POOL_SIZES = {1: (8,), 2: (8, 5), 3: (6, 5, 4)}


def max_pool_fixtures():
    f = FixtureFile("max_pool.json")
    for d in (1, 2, 3):
        op = f"max_pool{d}d"
        S = POOL_SIZES[d]
        k = lambda *v: sp(d, *v)  # noqa: E731
        B, C = (2, 2) if d < 3 else (1, 1)

        def add(name, x, **kw):
            f.case(op, name, kw, {"input": x})

        g = generator_for(f"max_pool.json:{op}:special")
        ties = randint_values(g, (B, C, *S))
        neg_inf = randn(g, (B, C, *S))
        neg_inf[torch.rand(neg_inf.shape, generator=g) < 0.3] = -math.inf
        corner = randn(g, (1, C, *k(5, 5, 4)))
        corner[(..., *[slice(0, 2)] * d)] = -math.inf

        add("k2", (B, C, *S), kernel_size=2)
        add("k3_s1", (B, C, *S), kernel_size=3, stride=1)
        add("k3_s2_p1", (B, C, *S), kernel_size=3, stride=2, padding=1)
        add("k2_s1_p1", (1, C, *S), kernel_size=2, stride=1, padding=1)
        add("tuple_k_s_p", (B, C, *S), kernel_size=k(3, 2, 2), stride=k(1, 2, 1),
            padding=k(1, 0, 1))
        add("stride_gt_kernel", (B, C, *S), kernel_size=2, stride=3)
        add("dil2", (B, C, *S), kernel_size=2, dilation=2)
        add("dil2_k3_p1", (B, C, *S), kernel_size=3, dilation=2, padding=1)
        add("dil_tuple", (1, C, *S), kernel_size=2, stride=1, dilation=k(3, 2, 2))
        # ceil_mode: in 8, k3 s2 adds a clipped window; in 5, k2 s2 p1 would start a
        # window in the right padding, which PyTorch drops.
        add("ceil_extra_window", (B, C, *k(8, 8, 4)), kernel_size=3, stride=2, ceil_mode=True)
        add("ceil_dropped_window", (B, C, *k(5, 5, 5)), kernel_size=2, stride=2, padding=1,
            ceil_mode=True)
        add("ceil_mixed", (B, C, *k(8, 5, 4)), kernel_size=k(3, 2, 2), stride=k(2, 2, 3),
            padding=k(0, 1, 1), ceil_mode=True)
        add("ceil_dil2_p1_s3", (1, C, *S), kernel_size=3, stride=3, padding=1, dilation=2,
            ceil_mode=True)
        add("ceil_no_effect", (1, C, *k(9, 9, 5)), kernel_size=3, stride=2, ceil_mode=True)
        add("return_indices", (B, C, *S), kernel_size=3, stride=2, padding=1,
            return_indices=True)
        add("return_indices_ceil_dil", (B, C, *S), kernel_size=2, stride=2, padding=1,
            dilation=2, ceil_mode=True, return_indices=True)
        add("ties_k2_s1", ties, kernel_size=2, stride=1, return_indices=True)
        add("ties_k3_s2_p1", ties, kernel_size=3, stride=2, padding=1, return_indices=True)
        add("neg_inf_values", neg_inf, kernel_size=2, stride=1, padding=1,
            return_indices=True)
        add("all_neg_inf_window", corner, kernel_size=2, stride=2, return_indices=True)
        add("all_neg_inf_window_padded", corner, kernel_size=2, stride=2, padding=1,
            return_indices=True)
        add("unbatched", (C, *S), kernel_size=2)
        add("unbatched_return_indices", (2, *S), kernel_size=3, stride=2, padding=1,
            return_indices=True)
        add("batch3", (3, 1, *S), kernel_size=2, stride=1)
        add("zero_batch", (0, C, *S), kernel_size=2)
        add("k1", (1, C, *S), kernel_size=1)
        add("size1", (B, C, *k(1, 1, 1)), kernel_size=1)
        add("kernel_eq_input", (B, C, *S), kernel_size=S, return_indices=True)
        add("kernel_gt_input_padded", (1, C, *k(2, 2, 2)), kernel_size=3, stride=1,
            padding=1)
        if d == 2:
            add("large_b2_c3_12x12", (2, 3, 12, 12), kernel_size=3, stride=2, padding=1,
                return_indices=True)

        add("err_rank_too_low", S, kernel_size=2)
        add("err_rank_too_high", (1, 1, 1, *S), kernel_size=2)
        add("err_zero_channels", (1, 0, *S), kernel_size=2)
        add("err_zero_spatial", (1, C, *k(0, 4, 4)), kernel_size=1)
        add("err_padding_gt_half_kernel", (1, C, *S), kernel_size=3, stride=1, padding=2)
        add("err_padding_gt_half_kernel_dilated", (1, C, *S), kernel_size=3, stride=1,
            padding=2, dilation=2)
        add("err_padding_negative", (1, C, *S), kernel_size=3, padding=-1)
        add("err_stride0", (1, C, *S), kernel_size=2, stride=0)
        add("err_stride_negative", (1, C, *S), kernel_size=2, stride=-1)
        add("err_kernel0", (1, C, *S), kernel_size=0, stride=1)
        add("err_dilation0", (1, C, *S), kernel_size=2, dilation=0)
        add("err_output_size0", (1, C, *k(2, 5, 4)), kernel_size=3)
        add("err_kernel_tuple_length", (1, C, *S), kernel_size=(2,) * (d + 1))
        add("err_output_size0_return_indices", (1, C, *k(2, 5, 4)), kernel_size=3,
            return_indices=True)

        random_pool(f, op, d, count=40, seed=4000 + d)

    max_unpool_fixtures(f)
    return f


def pool_from(x, **kw):
    """The indices of a max_pool2d of x (unpool inputs get fresh values)."""
    _, indices = F.max_pool2d(x, return_indices=True, **kw)
    return indices


def max_unpool_fixtures(f):
    op = "max_unpool2d"
    g = generator_for("max_pool.json:max_unpool2d:special")

    def add(name, x_shape, pool_kw, unpool_kw, corrupt=None, values_shape=None):
        x = randn(g, x_shape) if isinstance(x_shape, tuple) else x_shape
        idx = pool_from(x, **pool_kw)
        values = randn(g, values_shape or idx.shape)
        if corrupt is not None:
            idx = corrupt(idx)
        f.case(op, name, unpool_kw, {"input": values, "indices": idx})

    add("k2", (2, 2, 4, 4), dict(kernel_size=2), dict(kernel_size=2))
    add("k2_output_size", (2, 2, 5, 5), dict(kernel_size=2),
        dict(kernel_size=2, output_size=(5, 5)))
    add("k3_s3_p1_output_size", (1, 2, 6, 7), dict(kernel_size=3, stride=3, padding=1),
        dict(kernel_size=3, stride=3, padding=1, output_size=(6, 7)))
    add("k2_s2_p1", (1, 2, 4, 4), dict(kernel_size=2, stride=2, padding=1),
        dict(kernel_size=2, stride=2, padding=1))
    add("tuple_k2x3", (1, 2, 4, 6), dict(kernel_size=(2, 3)), dict(kernel_size=(2, 3)))
    add("stride_gt_kernel", (1, 2, 7, 7), dict(kernel_size=2, stride=3),
        dict(kernel_size=2, stride=3, output_size=(7, 7)))
    add("unbatched", (2, 4, 4), dict(kernel_size=2), dict(kernel_size=2))
    add("zero_batch", (0, 2, 4, 4), dict(kernel_size=2), dict(kernel_size=2))
    # indices of a 5x5 plane do not fit the default 4x4 unpool output
    increasing = torch.arange(25.0).reshape(1, 1, 5, 5)  # window maxima at (1,1),(1,3),(3,1),(3,3)
    add("err_odd_input_default_size", increasing, dict(kernel_size=2), dict(kernel_size=2))
    def set_last(value):  # one bad index, so the reported one is deterministic
        return lambda i: torch.cat([i.flatten()[:-1], torch.tensor([value])]).reshape(i.shape)

    add("err_index_out_of_range", (1, 1, 4, 4), dict(kernel_size=2), dict(kernel_size=2),
        corrupt=set_last(16))
    add("err_index_negative", (1, 1, 4, 4), dict(kernel_size=2), dict(kernel_size=2),
        corrupt=set_last(-1))
    add("err_output_size_too_small_for_indices", (1, 1, 4, 4), dict(kernel_size=2),
        dict(kernel_size=2, output_size=(3, 3)))
    add("err_output_size_out_of_range", (1, 1, 4, 4), dict(kernel_size=2),
        dict(kernel_size=2, output_size=(6, 6)))
    add("err_indices_shape", (1, 1, 4, 4), dict(kernel_size=2), dict(kernel_size=2),
        corrupt=lambda i: i[..., :1].contiguous())
    add("err_rank_too_low", (1, 1, 4, 4), dict(kernel_size=2), dict(kernel_size=2),
        corrupt=lambda i: i[0, 0], values_shape=(2, 2))
    add("err_rank_too_high", (1, 1, 4, 4), dict(kernel_size=2), dict(kernel_size=2),
        corrupt=lambda i: i[None], values_shape=(1, 1, 1, 2, 2))
    add("err_padding_too_large", (1, 1, 4, 4), dict(kernel_size=2), dict(kernel_size=2,
                                                                       padding=3))

    def draw(rng):
        n = rng.choice([None, 1, 2])
        c = rng.randint(1, 3)
        kernel = (rng.randint(1, 3), rng.randint(1, 3))
        stride = (kernel[0] + rng.randint(0, 1), kernel[1] + rng.randint(0, 1))
        padding = (rng.randint(0, kernel[0] // 2), rng.randint(0, kernel[1] // 2))
        size = (rng.randint(kernel[0], 7), rng.randint(kernel[1], 7))
        x = randn(g, (c, *size) if n is None else (n, c, *size))
        pool_kw = dict(kernel_size=kernel, stride=stride, padding=padding)
        idx = pool_from(x, **pool_kw)
        unpool_kw = dict(pool_kw)
        if rng.random() < 0.6:
            unpool_kw["output_size"] = size  # the pooled input's own size
        elif rng.random() < 0.5:
            unpool_kw.update(kernel_size=kernel[0], stride=stride[0], padding=padding[0])
        return unpool_kw, {"input": randn(g, idx.shape), "indices": idx}

    sweep(f, op, 40, 4100, draw)


# --------------------------------------------------------------------------
# Random pools (max and avg)
# --------------------------------------------------------------------------

def random_pool(f, op, d, count, seed):
    is_avg = op.startswith("avg")
    max_size = {1: 8, 2: 6, 3: 4}[d]

    def draw(rng):
        n = rng.choice([None, 1, 2])
        c = rng.randint(1, 3 if d < 3 else 2)
        size = tuple(rng.randint(1, max_size) for _ in range(d))
        kernel = tuple(rng.randint(1, 4) for _ in range(d))
        kw = {"kernel_size": kernel if rng.random() < 0.6 else kernel[0]}
        if rng.random() < 0.6:
            kw["stride"] = tuple(rng.randint(1, 3) for _ in range(d))
        if rng.random() < 0.6:
            kw["padding"] = tuple(rng.randint(0, 3) for _ in range(d))
        if not is_avg and rng.random() < 0.4:
            kw["dilation"] = tuple(rng.randint(1, 3) for _ in range(d))
        kw["ceil_mode"] = rng.random() < 0.5
        if is_avg:
            kw["count_include_pad"] = rng.random() < 0.5
            if d > 1 and rng.random() < 0.25:
                kw["divisor_override"] = rng.randint(1, 5)
        else:
            kw["return_indices"] = rng.random() < 0.5
        return kw, {"input": (c, *size) if n is None else (n, c, *size)}

    sweep(f, op, count, seed, draw)


# --------------------------------------------------------------------------
# avg_pool1d / 2d / 3d
# --------------------------------------------------------------------------

def avg_pool_fixtures():
    f = FixtureFile("avg_pool.json")
    for d in (1, 2, 3):
        op = f"avg_pool{d}d"
        S = POOL_SIZES[d]
        k = lambda *v: sp(d, *v)  # noqa: E731
        B, C = (2, 2) if d < 3 else (1, 1)

        def add(name, x, **kw):
            f.case(op, name, kw, {"input": x})

        add("k2", (B, C, *S), kernel_size=2)
        add("k3_s1", (B, C, *S), kernel_size=3, stride=1)
        add("k3_s2_p1", (B, C, *S), kernel_size=3, stride=2, padding=1)
        add("k3_s2_p1_no_count_pad", (B, C, *S), kernel_size=3, stride=2, padding=1,
            count_include_pad=False)
        add("k2_s1_p1", (1, C, *S), kernel_size=2, stride=1, padding=1)
        add("k2_s1_p1_no_count_pad", (1, C, *S), kernel_size=2, stride=1, padding=1,
            count_include_pad=False)
        add("tuple_k_s_p", (B, C, *S), kernel_size=k(3, 2, 2), stride=k(1, 2, 1),
            padding=k(1, 0, 1))
        add("stride_gt_kernel", (B, C, *S), kernel_size=2, stride=3)
        add("ceil_extra_window", (B, C, *k(8, 8, 4)), kernel_size=3, stride=2,
            ceil_mode=True)
        add("ceil_extra_window_no_count_pad", (B, C, *k(8, 8, 4)), kernel_size=3, stride=2,
            ceil_mode=True, count_include_pad=False)
        add("ceil_dropped_window", (B, C, *k(5, 5, 5)), kernel_size=2, stride=2, padding=1,
            ceil_mode=True)
        add("ceil_pad_clipped", (B, C, *k(6, 6, 6)), kernel_size=3, stride=2, padding=1,
            ceil_mode=True)
        add("ceil_pad_clipped_no_count_pad", (B, C, *k(6, 6, 6)), kernel_size=3, stride=2,
            padding=1, ceil_mode=True, count_include_pad=False)
        add("ceil_mixed", (B, C, *k(8, 5, 4)), kernel_size=k(3, 2, 2), stride=k(2, 2, 3),
            padding=k(0, 1, 1), ceil_mode=True)
        add("ceil_k4_s3_p2", (1, C, *k(7, 8, 6)), kernel_size=4, stride=3, padding=2,
            ceil_mode=True)
        add("ceil_k4_s3_p2_no_count_pad", (1, C, *k(7, 8, 6)), kernel_size=4, stride=3,
            padding=2, ceil_mode=True, count_include_pad=False)
        add("unbatched", (C, *S), kernel_size=2)
        add("unbatched_p1", (2, *S), kernel_size=3, stride=2, padding=1)
        add("batch3", (3, 1, *S), kernel_size=2, stride=1)
        add("zero_batch", (0, C, *S), kernel_size=2)
        add("k1", (1, C, *S), kernel_size=1)
        add("size1", (B, C, *k(1, 1, 1)), kernel_size=1)
        add("kernel_eq_input", (B, C, *S), kernel_size=S)
        if d < 3:  # avg_pool3d requires the unpadded input to be at least the kernel
            add("kernel_gt_input_padded", (1, C, *k(2, 2, 2)), kernel_size=3, stride=1,
                padding=1)
            add("kernel_gt_input_padded_no_count_pad", (1, C, *k(2, 2, 2)), kernel_size=3,
                stride=1, padding=1, count_include_pad=False)
        if d > 1:
            add("divisor_override3", (B, C, *S), kernel_size=2, divisor_override=3)
            add("divisor_override_pad_ceil", (B, C, *S), kernel_size=3, stride=2, padding=1,
                ceil_mode=True, divisor_override=5)
            add("divisor_override_ignores_count_pad", (B, C, *S), kernel_size=3, stride=2,
                padding=1, count_include_pad=False, divisor_override=2)
            add("divisor_override_negative", (1, C, *S), kernel_size=2, divisor_override=-2)
        if d == 2:
            add("large_b2_c3_12x12", (2, 3, 12, 12), kernel_size=3, stride=2, padding=1,
                count_include_pad=False)

        add("err_rank_too_low", S, kernel_size=2)
        add("err_rank_too_high", (1, 1, 1, *S), kernel_size=2)
        add("err_zero_channels", (1, 0, *S), kernel_size=2)
        add("err_zero_spatial", (1, C, *k(0, 4, 4)), kernel_size=1)
        add("err_padding_gt_half_kernel", (1, C, *S), kernel_size=3, stride=1, padding=2)
        add("err_padding_negative", (1, C, *S), kernel_size=3, padding=-1)
        add("err_stride0", (1, C, *S), kernel_size=2, stride=0)
        add("err_kernel0", (1, C, *S), kernel_size=0, stride=1)
        add("err_output_size0", (1, C, *k(2, 5, 4)), kernel_size=3)
        add("err_kernel_tuple_length", (1, C, *S), kernel_size=(2,) * (d + 1))
        if d == 1:
            add("err_divisor_override_not_supported", (1, C, *S), kernel_size=2,
                divisor_override=2)
        else:
            add("err_divisor_override0", (1, C, *S), kernel_size=2, divisor_override=0)
        if d == 3:
            add("err_input_smaller_than_kernel_despite_padding", (1, C, 2, 5, 5),
                kernel_size=3, stride=1, padding=1)

        random_pool(f, op, d, count=40, seed=5000 + d)
    return f


# --------------------------------------------------------------------------
# adaptive pools
# --------------------------------------------------------------------------

def adaptive_pool_fixtures():
    f = FixtureFile("adaptive_pool.json")
    for kind in ("avg", "max"):
        for d in (1, 2, 3):
            op = f"adaptive_{kind}_pool{d}d"
            S = {1: (7,), 2: (7, 5), 3: (5, 4, 3)}[d]
            k = lambda *v: sp(d, *v)  # noqa: E731
            B, C = (2, 2) if d < 3 else (1, 1)
            ri = {"return_indices": True} if kind == "max" else {}

            def add(name, x, **kw):
                f.case(op, name, kw, {"input": x})

            add("smaller_divisible", (B, C, *k(8, 6, 4)), output_size=k(4, 3, 2), **ri)
            add("smaller_non_divisible", (B, C, *S), output_size=k(3, 2, 2), **ri)
            add("equal", (B, C, *S), output_size=S, **ri)
            add("larger", (B, C, *k(3, 2, 2)), output_size=k(5, 4, 3), **ri)
            add("mixed", (B, C, *S), output_size=k(9, 2, 3), **ri)
            add("global", (B, C, *S), output_size=1, **ri)
            add("int_output_size", (1, C, *S), output_size=3)
            add("unbatched", (C, *S), output_size=k(3, 3, 2), **ri)
            add("zero_batch", (0, C, *S), output_size=2, **ri)
            add("size1_input", (1, C, *k(1, 1, 1)), output_size=k(3, 2, 2), **ri)
            add("output_size0", (1, C, *S), output_size=0)
            if d > 1:
                add("none_entry", (B, C, *S), output_size=(None,) + k(3, 2, 2)[1:], **ri)
                add("all_none", (1, C, *S), output_size=(None,) * d)
                add("output_size_partly0", (1, C, *S), output_size=(0,) + k(2, 2, 2)[1:])
            if kind == "max":
                g = generator_for(f"adaptive_pool.json:{op}:ties")
                add("ties", randint_values(g, (B, C, *S)), output_size=k(3, 2, 2), **ri)
                add("no_return_indices", (1, C, *S), output_size=k(3, 2, 2))
            if d == 2:
                add("large_b2_c3_13x11", (2, 3, 13, 11), output_size=(5, 4), **ri)

            add("err_rank_too_low", S, output_size=2)
            add("err_rank_too_high", (1, 1, 1, *S), output_size=2)
            add("err_zero_spatial", (1, C, *k(0, 4, 3)), output_size=2)
            # adaptive_avg_pool1d/2d accept zero channels; the others reject them
            accepts = kind == "avg" and d < 3
            add("zero_channels" if accepts else "err_zero_channels", (1, 0, *S), output_size=2)
            add("err_output_size_negative", (1, C, *S), output_size=-1)
            add("err_output_size_length", (1, C, *S), output_size=(2,) * (d + 1))

            random_adaptive(f, op, d, count=40, seed=6000 + 10 * (kind == "max") + d)
    return f


def random_adaptive(f, op, d, count, seed):
    max_size = {1: 9, 2: 7, 3: 4}[d]

    def draw(rng):
        n = rng.choice([None, 1, 2])
        c = rng.randint(1, 3 if d < 3 else 2)
        size = tuple(rng.randint(1, max_size) for _ in range(d))
        out = tuple(rng.randint(1, max_size + 1) for _ in range(d))
        if d > 1 and rng.random() < 0.2:
            j = rng.randrange(d)
            out = out[:j] + (None,) + out[j + 1:]
        kw = {"output_size": out if d > 1 or rng.random() < 0.5 else out[0]}
        if "max" in op:
            kw["return_indices"] = rng.random() < 0.6
        return kw, {"input": (c, *size) if n is None else (n, c, *size)}

    sweep(f, op, count, seed, draw)


# --------------------------------------------------------------------------
# unfold / fold
# --------------------------------------------------------------------------

def blocks(size, k, d, p, s):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def fold_fixtures():
    f = FixtureFile("fold.json")

    def unfold(name, x, **kw):
        f.case("unfold", name, kw, {"input": x})

    unfold("k2", (2, 3, 5, 5), kernel_size=2)
    unfold("k_tuple", (2, 2, 5, 6), kernel_size=(2, 3))
    unfold("dil2", (1, 2, 6, 5), kernel_size=2, dilation=2)
    unfold("dil_tuple", (1, 2, 6, 5), kernel_size=(2, 2), dilation=(1, 3))
    unfold("pad1", (2, 2, 4, 5), kernel_size=3, padding=1)
    unfold("pad_tuple", (1, 2, 4, 5), kernel_size=3, padding=(2, 0))
    unfold("stride2", (2, 2, 5, 6), kernel_size=2, stride=2)
    unfold("stride_tuple_gaps", (1, 2, 7, 7), kernel_size=2, stride=(3, 2))
    unfold("all_options", (2, 2, 6, 7), kernel_size=(3, 2), dilation=(2, 1), padding=(1, 2),
           stride=(2, 3))
    unfold("unbatched", (3, 5, 4), kernel_size=2)
    unfold("unbatched_all_options", (2, 6, 5), kernel_size=3, dilation=2, padding=1, stride=2)
    unfold("zero_batch", (0, 2, 5, 5), kernel_size=2)
    unfold("kernel_eq_input", (2, 2, 3, 4), kernel_size=(3, 4))
    unfold("k1", (1, 3, 3, 4), kernel_size=1)
    unfold("kernel_gt_input_padded", (1, 2, 2, 3), kernel_size=3, padding=1)
    unfold("large_padding", (1, 1, 3, 3), kernel_size=2, padding=3)
    unfold("err_rank_too_low", (5, 5), kernel_size=2)
    unfold("err_rank_too_high", (1, 2, 5, 5, 5), kernel_size=2)
    unfold("err_zero_channels", (1, 0, 5, 5), kernel_size=2)
    unfold("err_zero_spatial", (1, 2, 0, 5), kernel_size=1, padding=1)
    unfold("err_kernel0", (1, 2, 5, 5), kernel_size=0)
    unfold("err_stride0", (1, 2, 5, 5), kernel_size=2, stride=0)
    unfold("err_dilation0", (1, 2, 5, 5), kernel_size=2, dilation=0)
    unfold("err_padding_negative", (1, 2, 5, 5), kernel_size=2, padding=-1)
    unfold("err_kernel_gt_input", (1, 2, 2, 5), kernel_size=3)
    unfold("err_kernel_tuple_length", (1, 2, 5, 5), kernel_size=(2, 2, 2))

    def fold(name, x, **kw):
        f.case("fold", name, kw, {"input": x})

    def fold_ok(name, n, c, out, kernel, dilation=1, padding=0, stride=1, **extra):
        kk = sp(2, *((kernel,) * 2 if isinstance(kernel, int) else kernel))
        dd = (dilation,) * 2 if isinstance(dilation, int) else dilation
        pp = (padding,) * 2 if isinstance(padding, int) else padding
        ss = (stride,) * 2 if isinstance(stride, int) else stride
        oo = (out,) * 2 if isinstance(out, int) else out
        L = math.prod(blocks(oo[i], kk[i], dd[i], pp[i], ss[i]) for i in range(2))
        ch = c * kk[0] * kk[1]
        x = (ch, L) if n is None else (n, ch, L)
        kw = dict(output_size=out, kernel_size=kernel, dilation=dilation, padding=padding,
                  stride=stride)
        kw.update(extra)
        fold(name, x, **kw)

    fold_ok("k2", 2, 3, 5, 2)
    fold_ok("k_tuple_nonsquare", 2, 2, (4, 6), (2, 3))
    fold_ok("dil2", 1, 2, 6, 2, dilation=2)
    fold_ok("pad1", 2, 2, 4, 3, padding=1)
    fold_ok("stride2", 1, 2, 6, 2, stride=2)
    fold_ok("stride_gt_kernel_gaps", 1, 2, 7, 2, stride=3)
    fold_ok("stride_partial_cover", 1, 1, (6, 7), (2, 3), stride=(3, 2))
    fold_ok("all_options", 2, 2, (6, 7), (3, 2), dilation=(2, 1), padding=(1, 2),
            stride=(2, 3))
    fold_ok("unbatched", None, 3, (4, 5), 2)
    fold_ok("unbatched_all_options", None, 2, 6, 3, dilation=2, padding=1, stride=2)
    fold_ok("zero_batch", 0, 2, 4, 2)
    fold_ok("kernel_eq_output", 2, 2, (3, 4), (3, 4))
    fold_ok("k1", 1, 3, (3, 4), 1)
    fold("err_wrong_L", (2, 12, 15), output_size=5, kernel_size=2)
    fold("err_channels_not_divisible", (2, 13, 16), output_size=5, kernel_size=2)
    fold("err_rank_too_high", (1, 2, 12, 16), output_size=5, kernel_size=2)
    fold("err_rank_too_low", (16,), output_size=5, kernel_size=2)
    fold("err_zero_channels", (1, 0, 16), output_size=5, kernel_size=2)
    fold("err_zero_L", (1, 12, 0), output_size=1, kernel_size=2)
    fold("err_kernel0", (1, 12, 16), output_size=5, kernel_size=0)
    fold("err_stride0", (1, 12, 16), output_size=5, kernel_size=2, stride=0)
    fold("err_dilation0", (1, 12, 16), output_size=5, kernel_size=2, dilation=0)
    fold("err_padding_negative", (1, 12, 9), output_size=5, kernel_size=2, padding=-1)
    fold("err_output_size0", (1, 12, 9), output_size=(0, 5), kernel_size=2)
    fold("err_output_smaller_than_kernel", (1, 12, 1), output_size=1, kernel_size=2,
         padding=1)
    fold("err_output_size_length", (1, 12, 16), output_size=(5, 5, 5), kernel_size=2)

    def draw_params(rng):
        n = rng.choice([None, 1, 2])
        c = rng.randint(1, 3)
        size = (rng.randint(1, 7), rng.randint(1, 7))
        kw = dict(kernel_size=(rng.randint(1, 3), rng.randint(1, 3)),
                  dilation=(rng.randint(1, 2), rng.randint(1, 2)),
                  padding=(rng.randint(0, 2), rng.randint(0, 2)),
                  stride=(rng.randint(1, 3), rng.randint(1, 3)))
        return n, c, size, kw

    def draw_unfold(rng):
        n, c, size, kw = draw_params(rng)
        return kw, {"input": (c, *size) if n is None else (n, c, *size)}

    def draw_fold(rng):
        n, c, size, kw = draw_params(rng)
        k, dl, p, st = kw["kernel_size"], kw["dilation"], kw["padding"], kw["stride"]
        L = max(blocks(size[0], k[0], dl[0], p[0], st[0]), 1) * \
            max(blocks(size[1], k[1], dl[1], p[1], st[1]), 1)
        L += rng.random() < 0.1  # occasionally a wrong block count
        ch = c * k[0] * k[1]
        return dict(output_size=size, **kw), {"input": (ch, L) if n is None else (n, ch, L)}

    sweep(f, "unfold", 40, 7000, draw_unfold)
    sweep(f, "fold", 40, 7001, draw_fold)
    return f


# --------------------------------------------------------------------------
# ConvKit extensions (explicit F.pad + PyTorch op)
# --------------------------------------------------------------------------

def tf_same(size, k, s, d=1):
    """TensorFlow 'SAME' padding (low, high) for one dimension."""
    out = -(-size // s)
    total = max((out - 1) * s + d * (k - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def f_pad_arg(lows_highs):
    """[(low, high) per spatial dim, first dim first] -> F.pad's reversed list."""
    out = []
    for low, high in reversed(lows_highs):
        out += [low, high]
    return out


def per_dim(v, d):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * d


def extension_fixtures():
    f = FixtureFile("extensions.json")

    # conv with explicit asymmetric / TF-same / causal padding
    def conv_ext(d, name, x, w, b=True, padding=None, pads=None, padding_mode="zeros",
                 **kw):
        op = f"conv{d}d"
        bias = (w[0],) if b is True else b
        stride = per_dim(kw.get("stride", 1), d)
        dilation = per_dim(kw.get("dilation", 1), d)
        groups = kw.get("groups", 1)

        def compute(t, _kw):
            x_t = t["input"]
            lows_highs = pads
            if lows_highs is None:  # 'same' with the TF rule
                lows_highs = [tf_same(x_t.shape[-d + i], t["weight"].shape[2 + i],
                                      stride[i], dilation[i]) for i in range(d)]
            mode = "constant" if padding_mode == "zeros" else padding_mode
            xp = F.pad(x_t, f_pad_arg(lows_highs), mode=mode)
            return CONV[d][0](xp, t["weight"], t.get("bias"), stride, 0, dilation, groups)

        cli_kw = dict(kw, padding=padding, padding_mode=padding_mode)
        f.case(op, name, cli_kw, {"input": x, "weight": w, "bias": bias}, compute)

    for d in (1, 2, 3):
        S = {1: (9,), 2: (6, 5), 3: (4, 3, 3)}[d]
        k = lambda *v: sp(d, *v)  # noqa: E731
        conv_ext(d, "same_stride2_k3", (2, 3, *S), (4, 3, *k(3, 3, 3)), padding="same",
                 stride=2)
        conv_ext(d, "same_stride2_k4", (2, 3, *S), (4, 3, *k(4, 2, 2)), padding="same",
                 stride=2)
        conv_ext(d, "same_stride3_k2", (1, 2, *S), (3, 2, *k(2, 2, 2)), padding="same",
                 stride=3)
        conv_ext(d, "same_stride_tuple_dil", (1, 2, *S), (3, 2, *k(3, 2, 2)), padding="same",
                 stride=k(2, 1, 3), dilation=k(2, 3, 1))
        conv_ext(d, "same_stride2_k1_no_padding", (1, 2, *S), (2, 2, *k(1, 1, 1)),
                 padding="same", stride=2)
        conv_ext(d, "same_stride2_groups2", (2, 4, *S), (4, 2, *k(3, 3, 3)), b=None,
                 padding="same", stride=2, groups=2)
        conv_ext(d, "same_stride2_unbatched", (3, *S), (2, 3, *k(3, 2, 3)), padding="same",
                 stride=2)
        conv_ext(d, "same_stride4_kernel_gt_input", (1, 2, *k(3, 2, 2)),
                 (2, 2, *k(5, 4, 3)), padding="same", stride=4)
        for mode in ("reflect", "replicate", "circular"):
            conv_ext(d, f"same_stride2_k4_{mode}", (1, 3, *S), (2, 3, *k(4, 2, 2)),
                     padding="same", stride=2, padding_mode=mode)
        asym = [(1, 2), (0, 1), (2, 0)][:d]
        padding_text = ",".join(f"{lo}:{hi}" for lo, hi in asym)
        conv_ext(d, "asymmetric", (2, 3, *S), (4, 3, *k(3, 2, 2)), padding=padding_text,
                 pads=asym)
        conv_ext(d, "asymmetric_stride2_dil2", (1, 2, *S), (3, 2, *k(2, 2, 2)),
                 padding=padding_text, pads=asym, stride=2, dilation=2)
        conv_ext(d, "asymmetric_groups2_nobias", (1, 4, *S), (2, 2, *k(3, 2, 2)), b=None,
                 padding=padding_text, pads=asym, groups=2)
        conv_ext(d, "asymmetric_unbatched", (3, *S), (2, 3, *k(3, 2, 2)),
                 padding=padding_text, pads=asym)
        for mode in ("reflect", "replicate", "circular"):
            conv_ext(d, f"asymmetric_{mode}", (1, 2, *S), (2, 2, *k(3, 2, 2)),
                     padding=padding_text, pads=asym, padding_mode=mode)
        zero = [(0, 0)] * d
        conv_ext(d, "asymmetric_all_zero", (1, 2, *S), (2, 2, *k(3, 2, 2)),
                 padding=",".join("0:0" for _ in zero), pads=zero)
    for name, k_, dil, stride in [("causal_k3", 3, 1, 1), ("causal_k3_dil2", 3, 2, 1),
                                  ("causal_k2_dil3_stride2", 2, 3, 2), ("causal_k1", 1, 1, 1),
                                  ("causal_k4_stride3", 4, 1, 3)]:
        conv_ext(1, name, (2, 3, 9), (4, 3, k_), padding="causal",
                 pads=[(dil * (k_ - 1), 0)], dilation=dil, stride=stride)
    conv_ext(1, "causal_unbatched", (3, 6), (2, 3, 3), padding="causal", pads=[(2, 0)])
    conv_ext(1, "causal_groups3", (1, 3, 7), (6, 1, 2), padding="causal", pads=[(2, 0)],
             dilation=2, groups=3)

    # pools with TF 'same' padding
    def pool_ext(kind, d, name, x, kernel_size, stride=None, dilation=1,
                 count_include_pad=True, return_indices=False):
        op = f"{kind}_pool{d}d"
        ks, st, dl = per_dim(kernel_size, d), per_dim(stride or kernel_size, d), \
            per_dim(dilation, d)

        def compute(t, _kw):
            x_t = t["input"]
            spatial = x_t.shape[-d:]
            lows_highs = [tf_same(spatial[i], ks[i], st[i], dl[i]) for i in range(d)]
            pad = f_pad_arg(lows_highs)
            if kind == "max":
                xp = F.pad(x_t, pad, value=-math.inf)
                out, idx = getattr(F, op)(xp, ks, st, 0, dl, return_indices=True)
                # indices into the padded plane -> indices into the input plane
                padded = xp.shape[-d:]
                coords, rem = [], idx
                for i in reversed(range(d)):
                    coords.insert(0, rem % padded[i] - lows_highs[i][0])
                    rem = rem // padded[i]
                assert all(((c >= 0) & (c < spatial[i])).all() for i, c in enumerate(coords))
                flat = torch.zeros_like(idx)
                for i in range(d):
                    flat = flat * spatial[i] + coords[i]
                return (out, flat) if return_indices else out
            xp = F.pad(x_t, pad)
            total = getattr(F, op)(xp, ks, st, 0)
            if count_include_pad:
                return total
            ones = F.pad(torch.ones_like(x_t), pad)
            return total / getattr(F, op)(ones, ks, st, 0)

        kw = dict(kernel_size=kernel_size, padding="same")
        if stride is not None:
            kw["stride"] = stride
        if dilation != 1:
            kw["dilation"] = dilation
        if not count_include_pad:
            kw["count_include_pad"] = False
        if return_indices:
            kw["return_indices"] = True
        f.case(op, name, kw, {"input": x}, compute)

    for d in (1, 2, 3):
        S = {1: (9,), 2: (7, 6), 3: (5, 4, 3)}[d]
        k = lambda *v: sp(d, *v)  # noqa: E731
        for kind in ("max", "avg"):
            variants = [("k3_s1", dict(kernel_size=3, stride=1)),
                        ("k2_default_stride", dict(kernel_size=2)),
                        ("k3_s2", dict(kernel_size=3, stride=2)),
                        ("k4_s3", dict(kernel_size=4, stride=3)),
                        ("k_tuple_s_tuple", dict(kernel_size=k(3, 2, 2), stride=k(2, 3, 1))),
                        ("k5_s2_kernel_gt_input", dict(kernel_size=5, stride=2))]
            if kind == "max":
                variants += [("k3_s2_dil2", dict(kernel_size=3, stride=2, dilation=2)),
                             ("k2_s1_return_indices", dict(kernel_size=2, stride=1,
                                                           return_indices=True)),
                             ("k3_s2_return_indices", dict(kernel_size=3, stride=2,
                                                           return_indices=True))]
            else:
                variants += [(f"{n}_no_count_pad", dict(v, count_include_pad=False))
                             for n, v in variants]
            for name, kw in variants:
                x = (1, 2, *k(3, 3, 2)) if "kernel_gt_input" in name else (2, 2, *S)
                pool_ext(kind, d, f"same_{name}", x, **kw)
            pool_ext(kind, d, "same_unbatched_k3_s2", (2, *S), kernel_size=3, stride=2)
    return f


# --------------------------------------------------------------------------

FAMILIES = [conv_fixtures, conv_transpose_fixtures, pad_fixtures, max_pool_fixtures,
            avg_pool_fixtures, adaptive_pool_fixtures, fold_fixtures, extension_fixtures]


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    outdir = Path(argv[1])
    outdir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)  # reproducible reduction order
    for family in FAMILIES:
        fixture = family()
        path = fixture.write(outdir)
        errors = sum(c["error"] is not None for c in fixture.cases)
        print(f"{path}: {len(fixture.cases)} cases ({len(fixture.cases) - errors} accepted, "
              f"{errors} rejected), {path.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main(sys.argv)
