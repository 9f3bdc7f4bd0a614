#!/usr/bin/env python3
"""MNIST training epoch time, ConvKit vs PyTorch, measured alternately in one run.

    swift build -c release && python3 Benchmarks/mnist_side_by_side.py [--runs 3] [--threads 2]

Each run trains one epoch of the seeds' network (Adam, batch 64) in ConvKit (`convkit train
--epochs 1`) and in PyTorch (Benchmarks/mnist_pytorch.py --epochs 1), one after the other, with
the same thread count; prints every epoch time and the medians' ratio.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def seconds(command, pattern):
    output = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return float(re.search(pattern, output).group(1))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    convkit = os.path.join(ROOT, ".build", "release", "convkit")
    ours, theirs = [], []
    for run in range(args.runs):
        ours.append(seconds([convkit, "train", "--epochs", "1", "--threads", str(args.threads), "--checkpoint", "/tmp/mnist-bench.safetensors"],
                            r"epoch 1/1: loss [0-9.]+, ([0-9.]+) s"))
        theirs.append(seconds([sys.executable, "Benchmarks/mnist_pytorch.py", "--epochs", "1", "--threads", str(args.threads)],
                              r"pytorch epoch 1: ([0-9.]+) s"))
        print(f"run {run + 1}: ConvKit {ours[-1]:.1f} s, PyTorch {theirs[-1]:.1f} s", flush=True)
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"median epoch: ConvKit {a:.1f} s, PyTorch {b:.1f} s; ConvKit is {b / a:.2f}x PyTorch's speed")


if __name__ == "__main__":
    main()
