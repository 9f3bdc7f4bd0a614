#!/usr/bin/env python3
"""Whole-network inference side by side: ConvKit vs ONNX Runtime vs PyTorch, alternating in one run.

The network of a model description is built in PyTorch (Scripts/convkit_torch.py) with seeded
random weights and random non-trivial BatchNorm running statistics, in evaluation mode. Its
state_dict is saved as safetensors and its input as .npy, so all three frameworks run the same
weights on the same input:

- ConvKit: `convkit bench --model SPEC --weights W --input X` (a fresh process per round; the
  network is folded — BatchNorm into the convolutions — and run with autograd off);
- ONNX Runtime: the model exported with torch.onnx.export (opset 17), intra_op_num_threads=N,
  inter_op_num_threads=1, sequential execution, all graph optimisations (which fold BatchNorm too);
- PyTorch eager: torch.set_num_threads(N), under torch.inference_mode().

As in compare.py, the Python frameworks live in long-lived worker processes, the frameworks take
turns for several rounds (the order rotating each round), each round is the median of --runs
timed forward passes after warm-up, and the reported time is the median over rounds. Before
timing, ConvKit's output is checked against PyTorch's (max |Δ| / max |PyTorch| ≤ 2e-4).

    swift build -c release
    python3 Benchmarks/compare_model.py --model Examples/models/resnet18.json --threads 2
    python3 Benchmarks/compare_model.py --per-layer       # also ConvKit's per-layer breakdown
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from compare import SERVE, JsonLineProcess  # the worker protocol and timing loop, shared with the suite comparison

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

WORKER = SERVE + r'''
import numpy as np
which, threads, directory, spec = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
x = np.load(directory + "/input.npy")
if which == "torch":
    import torch
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    import convkit_torch
    model = convkit_torch.build(json.load(open(spec)))
    model.load_state_dict(torch.load(directory + "/state_dict.pt"))
    model.eval()
    xt = torch.from_numpy(x)
    version = "PyTorch " + torch.__version__
    def run():
        with torch.inference_mode():
            model(xt)
else:
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(directory + "/model.onnx", options, providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: x}
    version = "ONNX Runtime " + ort.__version__
    def run():
        session.run(None, feed)
serve(lambda request: run, about=version)
'''


def save_safetensors(tensors, path):
    """A minimal safetensors writer (F32 and I64), so that the script needs no extra package."""
    header, chunks, offset = {}, [], 0
    for name, array in tensors.items():
        array = np.array(array, dtype=np.int64 if array.dtype.kind in "iu" else np.float32, order="C")
        data = array.tobytes()
        header[name] = {"dtype": "I64" if array.dtype == np.int64 else "F32", "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text + b"".join(chunks))


def prepare(spec_path, batch, directory, seed):
    """Builds the PyTorch network; writes its weights (safetensors and .pt), input, output and ONNX export."""
    import torch
    sys.path.insert(0, os.path.join(ROOT, "Scripts"))
    import convkit_torch
    description = json.load(open(spec_path))
    torch.manual_seed(seed)
    model = convkit_torch.build(description)
    generator = torch.Generator().manual_seed(seed + 1)
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm) and module.track_running_stats:
            n = module.num_features
            module.running_mean.copy_(torch.rand(n, generator=generator) - 0.5)
            module.running_var.copy_(torch.rand(n, generator=generator) * 1.5 + 0.5)
            if module.affine:
                module.weight.data.copy_(torch.rand(n, generator=generator) + 0.5)
                module.bias.data.copy_(torch.rand(n, generator=generator) - 0.5)
    model.eval()
    shape = list(description["input_shape"])
    shape[0] = batch
    x = torch.rand(shape, generator=generator) * 2 - 1
    with torch.inference_mode():
        reference = model(x).numpy()
    np.save(os.path.join(directory, "input.npy"), x.numpy())
    np.save(os.path.join(directory, "reference.npy"), reference)
    save_safetensors({k: v.detach().numpy() for k, v in model.state_dict().items()}, os.path.join(directory, "weights.safetensors"))
    torch.save(model.state_dict(), os.path.join(directory, "state_dict.pt"))
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), os.path.join(directory, "model.onnx"), opset_version=17, dynamo=False,
                          input_names=["input"], output_names=["output"])


class PythonWorker(JsonLineProcess):
    def __init__(self, which, threads, directory, spec):
        super().__init__(which, [sys.executable, "-c", WORKER, which, str(threads), directory, spec],
                         env={**os.environ, "PYTHONPATH": os.path.join(ROOT, "Scripts")})
        self.version = self.about

    def time(self, runs, warmup):
        return self.request({"runs": runs, "warmup": warmup})["median_ms"]


class ConvKitWorker:
    name = "convkit"

    def __init__(self, binary, spec, threads, directory):
        self.command = [binary, "bench", "--model", spec, "--threads", str(threads),
                        "--weights", os.path.join(directory, "weights.safetensors"),
                        "--input", os.path.join(directory, "input.npy")]

    def run(self, runs, warmup, extra=()):
        result = subprocess.run(self.command + ["--runs", str(runs), "--warmup", str(warmup), *extra],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"convkit bench failed: {result.stderr.strip()}")
        return result.stdout

    def time(self, runs, warmup):
        return json.loads(self.run(runs, warmup, ["--json"]))["median_ms"]

    def close(self):
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=os.path.join(ROOT, "Examples", "models", "resnet18.json"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (median taken)")
    parser.add_argument("--runs", type=int, default=15, help="timed forward passes per round (median taken)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--pause", type=float, default=0.5, help="seconds between frameworks")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--convkit", default=os.path.join(ROOT, ".build", "release", "convkit"))
    parser.add_argument("--per-layer", action="store_true", help="also print ConvKit's per-layer breakdown")
    parser.add_argument("--tolerance", type=float, default=2e-4, help="max |Δ| / max |PyTorch| allowed for ConvKit's output")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="convkit-compare-") as directory:
        prepare(args.model, args.batch, directory, args.seed)
        convkit = ConvKitWorker(args.convkit, args.model, args.threads, directory)

        output = os.path.join(directory, "convkit_output.npy")
        convkit.run(15, 1, ["--save-output", output])
        got, reference = np.load(output), np.load(os.path.join(directory, "reference.npy"))
        error = float(np.abs(got - reference).max() / max(np.abs(reference).max(), 1e-30))
        print(f"ConvKit output vs PyTorch eval: max |Δ| / max |PyTorch| = {error:.2e} "
              f"({'ok' if error <= args.tolerance else 'FAILED'}, tolerance {args.tolerance:g})", flush=True)
        if error > args.tolerance:
            sys.exit(1)

        workers = [convkit] + [PythonWorker(n, args.threads, directory, args.model) for n in ("onnxruntime", "torch")]
        samples = {w.name: [] for w in workers}
        try:
            for r in range(args.rounds):
                for worker in workers[r % len(workers):] + workers[:r % len(workers)]:
                    samples[worker.name].append(worker.time(args.runs, args.warmup))
                    time.sleep(args.pause)
                print(f"round {r + 1}: " + "  ".join(f"{n} {s[-1]:.2f} ms" for n, s in samples.items()), flush=True)
            if args.per_layer:
                print(convkit.run(args.runs, args.warmup, ["--per-layer"]))
        finally:
            for w in workers:
                w.close()

    name = os.path.splitext(os.path.basename(args.model))[0]
    medians = {n: statistics.median(s) for n, s in samples.items()}
    versions = ", ".join(w.version for w in workers[1:])
    print(f"\n{name}, batch {args.batch}, {args.threads} threads, median of {args.rounds} alternating rounds × {args.runs} runs "
          f"({versions}):")
    for n, ms in medians.items():
        ratio = "" if n == "convkit" else f"   ConvKit speed-up ×{ms / medians['convkit']:.2f}"
        print(f"  {n:12s} {ms:8.2f} ms{ratio}")


if __name__ == "__main__":
    main()
