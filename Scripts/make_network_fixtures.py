#!/usr/bin/env python3
"""Whole-network and optimiser reference values for ConvKit's autograd tests.

Usage: python3 Scripts/make_network_fixtures.py Tests/ConvKitTests/Fixtures/networks.json
(also writes pytorch_lenet.safetensors beside it: a checkpoint saved by PyTorch)

For each network (a ConvKit model description, built in PyTorch by convkit_torch.py) it
records, in float64: the state_dict (float32-representable values), an input batch and
labels, the training-mode cross-entropy loss, every parameter's gradient, the running
statistics after that forward pass, and the evaluation-mode logits afterwards. For each
optimiser it records parameters after three steps with given gradients.
"""
import json
import sys

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import convkit_torch  # noqa: E402

NETWORKS = {
    "lenet": {"input_shape": [3, 1, 28, 28], "label_smoothing": 0.0, "layers": [
        {"type": "Conv2d", "in_channels": 1, "out_channels": 32, "kernel_size": 3}, {"type": "ReLU"},
        {"type": "MaxPool2d", "kernel_size": 2},
        {"type": "Conv2d", "in_channels": 32, "out_channels": 64, "kernel_size": 3}, {"type": "ReLU"},
        {"type": "MaxPool2d", "kernel_size": 2},
        {"type": "Flatten"}, {"type": "Linear", "in_features": 1600, "out_features": 10}]},
    "bn_residual": {"input_shape": [4, 3, 12, 12], "label_smoothing": 0.1, "layers": [
        {"type": "Conv2d", "in_channels": 3, "out_channels": 8, "kernel_size": 3, "padding": 1, "bias": False},
        {"type": "BatchNorm2d", "num_features": 8}, {"type": "ReLU"},
        {"type": "Residual", "body": [
            {"type": "Conv2d", "in_channels": 8, "out_channels": 8, "kernel_size": 3, "padding": 1, "bias": False},
            {"type": "BatchNorm2d", "num_features": 8}, {"type": "ReLU"},
            {"type": "Conv2d", "in_channels": 8, "out_channels": 8, "kernel_size": 3, "padding": 1, "bias": False},
            {"type": "BatchNorm2d", "num_features": 8}]},
        {"type": "ReLU"}, {"type": "MaxPool2d", "kernel_size": 2},
        {"type": "Residual", "body": [
            {"type": "Conv2d", "in_channels": 8, "out_channels": 16, "kernel_size": 3, "stride": 2, "padding": 1, "bias": False},
            {"type": "BatchNorm2d", "num_features": 16}, {"type": "ReLU"},
            {"type": "Conv2d", "in_channels": 16, "out_channels": 16, "kernel_size": 3, "padding": 1, "bias": False},
            {"type": "BatchNorm2d", "num_features": 16}],
         "shortcut": [
            {"type": "Conv2d", "in_channels": 8, "out_channels": 16, "kernel_size": 1, "stride": 2, "bias": False},
            {"type": "BatchNorm2d", "num_features": 16}]},
        {"type": "ReLU"}, {"type": "AdaptiveAvgPool2d", "output_size": 1}, {"type": "Flatten"},
        {"type": "Linear", "in_features": 16, "out_features": 5}]},
    "sequence_branches": {"input_shape": [2, 3, 16], "label_smoothing": 0.0, "layers": [
        {"type": "Conv1d", "in_channels": 3, "out_channels": 6, "kernel_size": 3, "dilation": 2, "padding": "causal"},
        {"type": "BatchNorm1d", "num_features": 6, "momentum": 0.3}, {"type": "GELU"},
        {"type": "Parallel", "merge": "concat", "branches": [
            [{"type": "Conv1d", "in_channels": 6, "out_channels": 4, "kernel_size": 1}, {"type": "LeakyReLU", "negative_slope": 0.2}],
            [{"type": "Conv1d", "in_channels": 6, "out_channels": 4, "kernel_size": 3, "stride": 2, "padding": "same", "groups": 2},
             {"type": "Tanh"}, {"type": "ConvTranspose1d", "in_channels": 4, "out_channels": 4, "kernel_size": 2, "stride": 2}],
            [{"type": "AvgPool1d", "kernel_size": 3, "stride": 1, "padding": 1}]]},
        {"type": "Sigmoid"}, {"type": "AdaptiveMaxPool1d", "output_size": 3}, {"type": "Flatten"},
        {"type": "Dropout", "p": 0.0}, {"type": "Linear", "in_features": 42, "out_features": 4}]},
}


def values(tensor):
    return {"shape": list(tensor.shape), "data": [float(v) for v in tensor.detach().reshape(-1).tolist()]}


def float32_exact(tensor):
    return tensor.detach().float().double()


def network_case(name, description, seed):
    torch.manual_seed(seed)
    model = convkit_torch.build(description)
    with torch.no_grad():
        for p in model.parameters():  # non-trivial affine parameters, float32-representable
            p.copy_(float32_exact(p + 0.1 * torch.randn_like(p)))
    initial = {k: values(float32_exact(v) if v.is_floating_point() else v) for k, v in model.state_dict().items()}
    model = model.double().train()
    x = float32_exact(torch.randn(description["input_shape"]))
    classes = description["layers"][-1]["out_features"]
    labels = torch.randint(0, classes, (description["input_shape"][0],))
    logits = model(x)
    loss = torch.nn.functional.cross_entropy(logits, labels, label_smoothing=description["label_smoothing"])
    loss.backward()
    gradients = {k: values(p.grad) for k, p in model.named_parameters()}
    after = {k: values(v) for k, v in model.state_dict().items() if "running" in k or "num_batches" in k}
    model.eval()
    with torch.no_grad():
        eval_logits = model(x)
    layers = {k: v for k, v in description.items() if k != "label_smoothing"}
    return {"name": name, "description": layers, "label_smoothing": description["label_smoothing"],
            "state_dict": initial, "input": values(x), "labels": labels.tolist(), "logits": values(logits),
            "loss": loss.item(), "gradients": gradients, "buffers_after": after, "eval_logits": values(eval_logits)}


def optimizer_case(name, make, seed):
    torch.manual_seed(seed)
    p = torch.nn.Parameter(float32_exact(torch.randn(7)))
    initial = values(p)
    opt = make([p])
    grads, steps = [], []
    for _ in range(3):
        g = float32_exact(torch.randn(7))
        p.grad = g.clone()
        opt.step()
        grads.append(values(g))
        steps.append(values(p))
    return {"name": name, "initial": initial, "gradients": grads, "parameters": steps}


def pytorch_checkpoint(directory):
    """A state_dict saved by PyTorch (safetensors) and its logits for the first MNIST test images."""
    from safetensors.torch import save_file
    import gzip
    import numpy as np
    torch.manual_seed(7)
    model = convkit_torch.build(NETWORKS["lenet"]).float().eval()
    save_file(model.state_dict(), f"{directory}/pytorch_lenet.safetensors")
    root = __file__.rsplit("/", 2)[0]
    pixels = gzip.open(f"{root}/Data/mnist/t10k-images-idx3-ubyte.gz").read()[16:16 + 4 * 784]
    x = (torch.from_numpy(np.frombuffer(pixels, dtype=np.uint8).reshape(4, 1, 28, 28).astype(np.float32)) / 255 - 0.1307) / 0.3081
    with torch.no_grad():
        logits = model.double()(x.double())
    return {"file": "pytorch_lenet.safetensors", "images": 4, "logits": values(logits)}


def main(path):
    torch.set_default_dtype(torch.float64)
    networks = [network_case(name, d, 100 + i) for i, (name, d) in enumerate(NETWORKS.items())]
    optimizers = [
        optimizer_case("sgd", lambda p: torch.optim.SGD(p, lr=0.1), 1),
        optimizer_case("sgd_momentum_wd", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01), 2),
        optimizer_case("sgd_nesterov", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True), 3),
        optimizer_case("adam", lambda p: torch.optim.Adam(p, lr=0.01), 4),
        optimizer_case("adam_wd", lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.1), 5),
        optimizer_case("adamw", lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1), 6),
    ]
    checkpoint = pytorch_checkpoint(path.rsplit("/", 1)[0])
    with open(path, "w") as f:
        json.dump({"generator": "Scripts/make_network_fixtures.py", "torch_version": torch.__version__.split("+")[0],
                   "networks": networks, "optimizers": optimizers, "pytorch_checkpoint": checkpoint}, f)


if __name__ == "__main__":
    main(sys.argv[1])
