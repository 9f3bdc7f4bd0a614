#!/usr/bin/env python3
"""Side-by-side conv2d timings: ConvKit vs ONNX Runtime vs PyTorch, alternating in one run.

Each framework runs in its own long-lived process (so thread pools never compete), and for every
case the three take turns for several rounds: round r times ConvKit, then ONNX Runtime, then
PyTorch (the order rotates each round), each as the median of --runs timed calls after warm-up.
The reported time is the median over rounds. A short pause between frameworks lets the previous
one's spinning threads go to sleep. Speed-up = other framework's time / ConvKit's time.

    python3 Benchmarks/compare.py --suite ../shared/bench/conv2d-suite.json --threads 2
    python3 Benchmarks/compare.py --suite ... --threads 2 --backward     # ConvKit vs PyTorch only
    python3 Benchmarks/compare.py --suite ... --markdown table.md --json results.json

ConvKit is timed with `convkit bench` (build it first: swift build -c release). Its forward pass
is the public `conv2d` path (a ConvolutionPlan prepared and run per call, bias included); with
--backward a call is forward + input, weight and bias gradients, as PyTorch's autograd computes.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# The timing loop of every worker process (here and in compare_model.py), prepended to its script:
# serve(runner, about) first says it is ready (its imports done, so they cannot slow the other
# frameworks' timings), with `about` (e.g. the framework's version), then answers each request line with the median and minimum (ms) of request["runs"]
# calls of runner(request) after request["warmup"] untimed ones.
SERVE = r'''
import json, statistics, sys, time

def serve(runner, about=None):
    print(json.dumps({"ready": about}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        run = runner(request)
        for _ in range(request["warmup"]):
            run()
        times = []
        for _ in range(request["runs"]):
            start = time.perf_counter()
            run()
            times.append((time.perf_counter() - start) * 1e3)
        print(json.dumps({"median_ms": statistics.median(times), "min_ms": min(times)}), flush=True)
'''

WORKER = SERVE + r'''
import numpy as np
which, threads, backward = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
if which == "torch":
    import torch
    torch.set_num_threads(threads)
else:
    import onnxruntime as ort
    from onnx import helper, TensorProto, numpy_helper

prepared = {}
def prepare(c):
    N, Ci, H, W, Co, k = c["N"], c["Cin"], c["H"], c["W"], c["Cout"], c["k"]
    s, p, d, g = c["stride"], c["padding"], c["dilation"], c["groups"]
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (N, Ci, H, W)).astype(np.float32)
    w = rng.uniform(-1, 1, (Co, Ci // g, k, k)).astype(np.float32)
    b = rng.uniform(-1, 1, (Co,)).astype(np.float32)
    if which == "torch":
        xt, wt, bt = (torch.from_numpy(a.copy()) for a in (x, w, b))
        if backward:
            xt.requires_grad_(True); wt.requires_grad_(True); bt.requires_grad_(True)
            y = torch.nn.functional.conv2d(xt, wt, bt, s, p, d, g)
            gy = torch.from_numpy(rng.uniform(-1, 1, tuple(y.shape)).astype(np.float32))
            def run():
                xt.grad = wt.grad = bt.grad = None
                y = torch.nn.functional.conv2d(xt, wt, bt, s, p, d, g)
                y.backward(gy)
        else:
            def run():
                with torch.no_grad():
                    torch.nn.functional.conv2d(xt, wt, bt, s, p, d, g)
        return run
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], strides=[s, s], pads=[p, p, p, p],
                            dilations=[d, d], group=g, kernel_shape=[k, k])
    graph = helper.make_graph([node], "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [N, Ci, H, W])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              initializer=[numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    feed = {"x": x}
    return lambda: session.run(None, feed)

def runner(request):
    c = request["case"]
    if c["name"] not in prepared:
        prepared[c["name"]] = prepare(c)
    return prepared[c["name"]]

serve(runner)
'''


class JsonLineProcess:
    """A long-lived worker process that answers each JSON request line with one JSON line
    (shared with compare_model.py)."""

    def __init__(self, name, command, env=None):
        self.name = name
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        # Wait for the worker's imports (seconds of CPU) to finish before anything is timed.
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"{name} worker failed to start")
        self.about = json.loads(line)["ready"]

    def request(self, payload):
        self.process.stdin.write(json.dumps(payload) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name} worker died")
        return json.loads(line)

    def close(self):
        self.process.stdin.close()
        self.process.wait()


class PythonWorker(JsonLineProcess):
    def __init__(self, which, threads, backward):
        super().__init__(which, [sys.executable, "-c", WORKER, which, str(threads), "1" if backward else "0"])

    def time(self, case, runs, warmup):
        return self.request({"case": case, "runs": runs, "warmup": warmup})["median_ms"], None


class ConvKitWorker:
    name = "convkit"

    def __init__(self, binary, threads, backward, extra):
        self.binary, self.threads, self.backward, self.extra = binary, threads, backward, extra

    def time(self, case, runs, warmup):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"cases": [case]}, f)
            path = f.name
        try:
            command = [self.binary, "bench", "--suite", path, "--threads", str(self.threads), "--json",
                       "--runs", str(runs), "--warmup", str(warmup)] + (["--backward"] if self.backward else []) + self.extra
            result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)[0]
        finally:
            os.unlink(path)
        return result["median_ms"], result["algorithm"]

    def close(self):
        pass


def flops(c, backward):
    oh = (c["H"] + 2 * c["padding"] - c["dilation"] * (c["k"] - 1) - 1) // c["stride"] + 1
    ow = (c["W"] + 2 * c["padding"] - c["dilation"] * (c["k"] - 1) - 1) // c["stride"] + 1
    macs = c["N"] * c["Cout"] * oh * ow * (c["Cin"] // c["groups"]) * c["k"] ** 2
    return 2 * macs * (3 if backward else 1)


def median(values):
    values = sorted(values)
    n = len(values)
    return values[n // 2] if n % 2 else 0.5 * (values[n // 2 - 1] + values[n // 2])


def geomean(values):
    values = [v for v in values if v and v > 0]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", default=os.path.join(ROOT, "..", "shared", "bench", "conv2d-suite.json"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--backward", action="store_true", help="forward + all gradients (ONNX Runtime skipped)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per case (median taken)")
    parser.add_argument("--runs", type=int, default=15, help="timed calls per round (median taken)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--pause", type=float, default=0.25, help="seconds between frameworks")
    parser.add_argument("--convkit", default=os.path.join(ROOT, ".build", "release", "convkit"))
    parser.add_argument("--case", help="only cases whose name contains this text")
    parser.add_argument("--markdown", help="also write the table here")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--convkit-arg", action="append", default=[], help="extra argument for convkit bench")
    args = parser.parse_args()

    cases = [c for c in json.load(open(args.suite))["cases"] if not args.case or args.case in c["name"]]
    workers = [ConvKitWorker(args.convkit, args.threads, args.backward, args.convkit_arg)]
    if not args.backward:
        workers.append(PythonWorker("onnxruntime", args.threads, False))
    workers.append(PythonWorker("torch", args.threads, args.backward))
    names = [w.name for w in workers]

    rows = []
    try:
        for c in cases:
            samples = {n: [] for n in names}
            algorithm = None
            for r in range(args.rounds):
                order = workers[r % len(workers):] + workers[:r % len(workers)]
                for worker in order:
                    ms, algo = worker.time(c, args.runs, args.warmup)
                    samples[worker.name].append(ms)
                    algorithm = algo or algorithm
                    time.sleep(args.pause)
            row = {"name": c["name"], "algorithm": algorithm, "gflop": flops(c, args.backward) / 1e9}
            for n in names:
                row[n + "_ms"] = median(samples[n])
                row[n + "_gflops"] = row["gflop"] / row[n + "_ms"] * 1e3
            for n in names[1:]:
                row["speedup_vs_" + n] = row[n + "_ms"] / row["convkit_ms"]
            rows.append(row)
            print(format_row(row, names), flush=True)
    finally:
        for w in workers:
            w.close()

    summary = {"speedup_geomean_vs_" + n: geomean([r["speedup_vs_" + n] for r in rows]) for n in names[1:]}
    summary.update({"speedup_min_vs_" + n: min(r["speedup_vs_" + n] for r in rows) for n in names[1:]})
    table = markdown(rows, names, summary, args)
    print()
    print(table)
    if args.markdown:
        open(args.markdown, "w").write(table + "\n")
    if args.json:
        json.dump({"threads": args.threads, "backward": args.backward, "rounds": args.rounds, "runs": args.runs,
                   "cases": rows, "summary": summary}, open(args.json, "w"), indent=1)


def format_row(row, names):
    parts = [f"{row['name']:22s}"]
    for n in names:
        parts.append(f"{n} {row[n + '_ms']:8.3f} ms")
    for n in names[1:]:
        parts.append(f"×{row['speedup_vs_' + n]:.2f} vs {n}")
    return "  ".join(parts) + f"  [{row['algorithm']}]"


def markdown(rows, names, summary, args):
    mode = "forward + input/weight/bias gradients" if args.backward else "forward (with bias)"
    header = ["layer", "ConvKit algorithm"]
    for n in names:
        header += [f"{n} ms", f"{n} GFLOP/s"]
    header += [f"speed-up vs {n}" for n in names[1:]]
    lines = [f"{mode}, {args.threads} threads, median of {args.rounds} alternating rounds × {args.runs} runs",
             "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        cells = [r["name"], r["algorithm"] or ""]
        for n in names:
            cells += [f"{r[n + '_ms']:.3f}", f"{r[n + '_gflops']:.1f}"]
        cells += [f"{r['speedup_vs_' + n]:.2f}×" for n in names[1:]]
        lines.append("| " + " | ".join(cells) + " |")
    for n in names[1:]:
        lines.append(f"\nGeometric-mean speed-up vs {n}: {summary['speedup_geomean_vs_' + n]:.2f}× "
                     f"(lowest {summary['speedup_min_vs_' + n]:.2f}×)")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
