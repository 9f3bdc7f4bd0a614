#!/usr/bin/env python3
"""The same MNIST job in PyTorch, for a side-by-side epoch time and accuracy.

    python3 Benchmarks/mnist_pytorch.py [--epochs 3] [--threads 2] [--schedule constant|cosine]

Model, data, normalisation, optimiser (Adam, lr 1e-3), batch size (64) and schedule are
`convkit train`'s defaults; prints one line per epoch with its time and test accuracy.
"""
import argparse
import gzip
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load(split):
    prefix = "train" if split == "train" else "t10k"
    d = os.path.join(ROOT, "Data", "mnist")
    x = np.frombuffer(gzip.open(f"{d}/{prefix}-images-idx3-ubyte.gz").read()[16:], dtype=np.uint8)
    y = np.frombuffer(gzip.open(f"{d}/{prefix}-labels-idx1-ubyte.gz").read()[8:], dtype=np.uint8)
    x = torch.from_numpy(x.reshape(-1, 1, 28, 28).astype(np.float32) / 255)
    return (x - 0.1307) / 0.3081, torch.from_numpy(y.astype(np.int64))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--schedule", default="cosine", choices=["constant", "cosine"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = load("train")
    tx, ty = load("test")
    steps = args.epochs * math.ceil(len(x) / 64)
    step = 0
    for epoch in range(1, args.epochs + 1):
        model.train()
        order = torch.randperm(len(x))
        start = time.perf_counter()
        for i in range(0, len(x), 64):
            if args.schedule == "cosine":
                for group in optimizer.param_groups:
                    group["lr"] = 1e-3 * 0.5 * (1 + math.cos(math.pi * step / steps))
            batch = order[i:i + 64]
            loss = F.cross_entropy(model(x[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
        seconds = time.perf_counter() - start
        model.eval()
        with torch.no_grad():
            accuracy = (torch.cat([model(tx[i:i + 1000]).argmax(1) for i in range(0, len(tx), 1000)]) == ty).double().mean()
        print(f"pytorch epoch {epoch}: {seconds:.1f} s, {len(x) / seconds:.0f} img/s, test accuracy {100 * accuracy:.2f}%", flush=True)


if __name__ == "__main__":
    main()
