#!/usr/bin/env python3
"""Check that a ConvKit checkpoint loads into PyTorch and predicts what ConvKit predicts.

    swift run -c release convkit train                       # writes mnist-cnn.safetensors
    swift run -c release convkit predict --checkpoint mnist-cnn.safetensors --mnist-test --save-predictions preds.npy
    python3 Scripts/check_checkpoint.py mnist-cnn.safetensors --predictions preds.npy

Loads the checkpoint with safetensors.torch.load_file + model.load_state_dict (strict) into the
PyTorch module built from the model description (default: the seeds' MNIST network), runs the
MNIST test set, and compares every prediction with ConvKit's. Needs torch, safetensors, numpy.
"""
import argparse
import gzip
import json
import os
import sys

import numpy as np
import torch
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import convkit_torch  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LENET = {"input_shape": [1, 1, 28, 28], "layers": [
    {"type": "Conv2d", "in_channels": 1, "out_channels": 32, "kernel_size": 3}, {"type": "ReLU"},
    {"type": "MaxPool2d", "kernel_size": 2},
    {"type": "Conv2d", "in_channels": 32, "out_channels": 64, "kernel_size": 3}, {"type": "ReLU"},
    {"type": "MaxPool2d", "kernel_size": 2},
    {"type": "Flatten"}, {"type": "Linear", "in_features": 1600, "out_features": 10}]}


def mnist_test(directory):
    images = np.frombuffer(gzip.open(os.path.join(directory, "t10k-images-idx3-ubyte.gz")).read()[16:], dtype=np.uint8)
    labels = np.frombuffer(gzip.open(os.path.join(directory, "t10k-labels-idx1-ubyte.gz")).read()[8:], dtype=np.uint8)
    x = torch.from_numpy(images.reshape(-1, 1, 28, 28).astype(np.float32) / 255)
    return (x - 0.1307) / 0.3081, torch.from_numpy(labels.astype(np.int64))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--model", help="model description JSON (default: the seeds' MNIST network)")
    parser.add_argument("--predictions", help="ConvKit's predictions (.npy) to compare with")
    parser.add_argument("--data", default=os.path.join(ROOT, "Data", "mnist"))
    args = parser.parse_args()
    description = json.load(open(args.model)) if args.model else LENET
    model = convkit_torch.build(description)
    model.load_state_dict(load_file(args.checkpoint))  # strict: every key, every shape
    model.eval()
    x, labels = mnist_test(args.data)
    with torch.no_grad():
        predictions = torch.cat([model(x[i:i + 1000]).argmax(1) for i in range(0, len(x), 1000)])
    accuracy = (predictions == labels).double().mean().item()
    print(f"PyTorch: loaded {len(model.state_dict())} tensors; test accuracy {100 * accuracy:.2f}%")
    if args.predictions:
        ours = torch.from_numpy(np.load(args.predictions))
        same = (ours == predictions).sum().item()
        print(f"predictions identical to ConvKit's: {same} of {len(ours)}")
        sys.exit(0 if same == len(ours) else 1)


if __name__ == "__main__":
    main()
