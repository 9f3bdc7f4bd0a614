import ArgumentParser
import ConvKit
import Foundation

/// `convkit bench --suite SUITE.json [--threads N] [--json] [--backward]`: times each layer of a
/// suite through the public API and prints the median time, GFLOP/s and the algorithm used.
/// `convkit bench --model MODEL.json [--threads N] [--json] [--per-layer]`: times whole-network
/// inference (evaluation mode, BatchNorm folded into the convolutions, autograd off).
public struct BenchCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time conv2d layers of a benchmark suite, or a whole network's inference (median of repeated runs).",
        discussion: """
        Give either --suite or --model. \
        A suite is JSON: {"cases": [{"name", "N", "Cin", "H", "W", "Cout", "k", "stride", "padding", \
        "dilation", "groups"}, …]}, each case torch.nn.functional.conv2d(x[N,Cin,H,W], w[Cout,Cin/groups,k,k], \
        bias[Cout], …) in float32. Each run prepares a ConvolutionPlan and runs it (what conv2d does; \
        weights prepared for a kernel are cached by the weight tensor's identity, so repeated calls with \
        the same weights reuse them, as inference does); with --backward a run is the forward pass plus \
        the input, weight and bias gradients, with that cache off (as in training, where the weights \
        change every step). \
        GFLOP/s counts 2 FLOPs per multiply-add: 1 pass forward, 3 passes with --backward. \
        A model is a model description (as for convkit summary); the network is built with PyTorch's \
        default initialisation (seeded) or --weights, switched to evaluation mode, every BatchNorm \
        after a convolution folded into it (unless --no-fold), and run with autograd off on a seeded \
        random input of the description's input_shape (or --input); a run is one forward pass.
        """)

    @Option(help: "The suite (JSON).") var suite: String?
    @Option(help: "A model description (JSON) to time whole-network inference of.") var model: String?
    @Option(help: "Worker threads (default: all active processors).") var threads: Int?
    @Flag(help: "Print JSON: an array [{name, median_ms, gflops, algorithm}], or with --model an object {name, median_ms, min_ms, …}.")
    var json = false
    @Option(help: "Timed runs per case or network (at least 15).") var runs = 15
    @Option(help: "Untimed warm-up runs per case or network (at least; warm-up lasts at least 0.2 s).") var warmup = 3
    @Flag(help: "Time forward + input/weight/bias gradients (--suite).") var backward = false
    @Option(help: "Force an algorithm: reference, gemm, pointwise, depthwise, winograd (--suite).") var algorithm: String?
    @Option(help: "Instruction set: portable, neon, avx2, avx512 (default: the best available).") var isa: String?
    @Option(name: .customLong("case"), help: "Only cases whose name contains this text (--suite).") var only: String?
    @Flag(help: "Also report the forward error against the reference kernels (max |Δ| / max |reference|) (--suite).")
    var check = false
    @Flag(name: .customLong("cpu-time"), help: "Measure process CPU time instead of wall time (for tuning one thread on a busy machine).")
    var cpuTime = false
    @Option(help: "Batch size, replacing the first dimension of the description's input_shape (--model).") var batch: Int?
    @Option(help: "Weights to load (safetensors state_dict, e.g. from convkit train or PyTorch) (--model).") var weights: String?
    @Option(help: "The input (.npy) instead of seeded random values (--model).") var input: String?
    @Option(name: .customLong("save-output"), help: "Write the network's output to this .npy file (--model).") var saveOutput: String?
    @Flag(name: .customLong("no-fold"), help: "Keep BatchNorm layers separate (--model).") var noFold = false
    @Flag(name: .customLong("per-layer"), help: "Also time every layer (--model).") var perLayer = false

    public init() {}

    struct Suite: Decodable {
        struct Case: Decodable {
            let name: String
            let N: Int, Cin: Int, H: Int, W: Int, Cout: Int, k: Int
            let stride: Int, padding: Int, dilation: Int, groups: Int
        }
        let cases: [Case]
    }

    struct Result: Encodable {
        let name: String
        let median_ms: Double
        let gflops: Double
        let algorithm: String
    }

    public func run() throws {
        if model != nil {
            let result = try measureModel()
            if json {
                print(String(decoding: try Self.encoder.encode(result), as: UTF8.self))
            } else {
                print(ModelBench.report(result))
            }
            return
        }
        let results = try measure { line in if !json { print(line) } }
        if json {
            print(String(decoding: try Self.encoder.encode(results), as: UTF8.self))
        } else {
            print("threads: \(Runtime.threadCount), instruction set: \(Runtime.instructionSet)")
        }
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }

    /// Times the whole network of `--model`.
    func measureModel() throws -> ModelBench.Result {
        guard let model, suite == nil else { throw Self.modeError }
        let suiteOnly = [("--backward", backward), ("--algorithm", algorithm != nil), ("--case", only != nil), ("--check", check)]
        if let option = suiteOnly.first(where: \.1)?.0 { throw CLIError("bench: \(option) applies to --suite only") }
        try applyRuntimeOptions()
        return try ModelBench(modelPath: model, batch: batch, weights: weights, input: input, saveOutput: saveOutput, fold: !noFold,
                              perLayer: perLayer, runs: runs, warmup: warmup, clock: now).measure()
    }

    private static let modeError = CLIError("bench: give either --suite SUITE.json (conv2d layers) or --model MODEL.json (a whole network)")

    /// `--threads` and `--isa`.
    private func applyRuntimeOptions() throws {
        if let threads { Runtime.threadCount = threads }
        if let isa {
            guard let level = InstructionSet.allCases.first(where: { "\($0)" == isa.lowercased() }) else {
                throw CLIError("--isa expects portable, neon, avx2 or avx512, but got '\(isa)'")
            }
            guard Runtime.availableInstructionSets.contains(level) else {
                throw CLIError("--isa \(level) is not available on this CPU (available: \(Runtime.availableInstructionSets.map(\.description).joined(separator: ", ")))")
            }
            Runtime.instructionSet = level
        }
    }

    /// The current time in milliseconds: wall time, or with --cpu-time the process's CPU time.
    private func now() -> Double {
        if cpuTime {
            var t = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
            return Double(t.tv_sec) * 1e3 + Double(t.tv_nsec) / 1e6
        }
        return Double(DispatchTime.now().uptimeNanoseconds) / 1e6
    }

    /// Times the suite's cases; `progress` receives one human-readable line per case.
    func measure(progress: (String) -> Void = { _ in }) throws -> [Result] {
        guard let suite, model == nil else { throw Self.modeError }
        let modelOnly = [("--batch", batch != nil), ("--weights", weights != nil), ("--input", input != nil),
                         ("--save-output", saveOutput != nil), ("--no-fold", noFold), ("--per-layer", perLayer)]
        if let option = modelOnly.first(where: \.1)?.0 { throw CLIError("bench: \(option) applies to --model only") }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: suite)) } catch {
            throw ConvKitError.file(path: suite, message: "cannot read the suite: \(error.localizedDescription)")
        }
        let cases: [Suite.Case]
        do { cases = try JSONDecoder().decode(Suite.self, from: data).cases.filter { only == nil || $0.name.contains(only!) } } catch {
            throw ConvKitError.file(path: suite, message: "not a benchmark suite {\"cases\": [{\"name\", \"N\", \"Cin\", …}]}: \(error)")
        }
        try applyRuntimeOptions()
        let forced = try algorithm.map { name in
            guard let value = ConvAlgorithm(rawValue: name) else {
                throw CLIError("--algorithm expects one of \(ConvAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")), but got '\(name)'")
            }
            return value
        }
        // Training updates the weights every step: prepare them on every call, as a training loop
        // that turns the cache off does.
        let caching = Runtime.cachesPreparedWeights
        if backward { Runtime.cachesPreparedWeights = false }
        defer { Runtime.cachesPreparedWeights = caching }
        let timedRuns = max(runs, 15)
        var results: [Result] = []
        for c in cases {
            var random = BenchRandom(seed: 0x5EED)
            let x = try Tensor(shape: [c.N, c.Cin, c.H, c.W], scalars: random.floats(c.N * c.Cin * c.H * c.W))
            let w = try Tensor(shape: [c.Cout, c.Cin / c.groups, c.k, c.k], scalars: random.floats(c.Cout * (c.Cin / c.groups) * c.k * c.k))
            let b = try Tensor(shape: [c.Cout], scalars: random.floats(c.Cout))
            func prepare(_ algorithm: ConvAlgorithm?) throws -> ConvolutionPlan {
                try ConvolutionPlan(spatialRank: 2, inputShape: x.shape, weightShape: w.shape, hasBias: true,
                                    stride: Dims(integerLiteral: c.stride), padding: Padding(integerLiteral: c.padding),
                                    dilation: Dims(integerLiteral: c.dilation), groups: c.groups, algorithm: algorithm)
            }
            let plan = try prepare(forced)
            let gradOutput = try Tensor(shape: plan.outputShape, scalars: random.floats(plan.outputShape.reduce(1, *)))
            var sink: Float = 0
            func once() throws {
                let plan = try prepare(forced)
                let y = try plan.forward(x, weight: w, bias: b)
                sink += y.scalars.first ?? 0
                if backward {
                    let g = try plan.backward(gradOutput: gradOutput, input: x, weight: w)
                    sink += (g.input?.scalars.first ?? 0) + (g.weight?.scalars.first ?? 0) + (g.bias?.scalars.first ?? 0)
                }
            }
            try ModelBench.warmUp(runs: max(warmup, 0), clock: now, once)
            var times: [Double] = []
            for _ in 0..<timedRuns {
                let start = now()
                try once()
                times.append(now() - start)
            }
            let median = ModelBench.median(times)
            let outPlane = plan.outputShape[2] * plan.outputShape[3]
            let flops = 2.0 * Double(c.N * c.Cout * outPlane * (c.Cin / c.groups) * c.k * c.k) * (backward ? 3 : 1)
            results.append(Result(name: c.name, median_ms: median, gflops: flops / median / 1e6,
                                  algorithm: plan.algorithm.rawValue))
            if sink.isNaN { FileHandle.standardError.write(Data("note: NaN in \(c.name)\n".utf8)) }
            progress(String(format: "%-24@ %10.3f ms %8.1f GFLOP/s  (min %.3f ms)  %@", c.name as NSString, median,
                            results.last!.gflops, times.min() ?? 0, plan.algorithm.rawValue as NSString))
            if check {
                let expected = try prepare(.reference).forward(x, weight: w, bias: b)
                let actual = try plan.forward(x, weight: w, bias: b)
                let scale = expected.scalars.map(abs).max() ?? 1
                let error = (actual.maxAbsDifference(expected) ?? .infinity) / max(scale, 1e-30)
                FileHandle.standardError.write(Data("\(c.name): \(plan.algorithm) relative error \(error)\n".utf8))
            }
        }
        return results
    }
}

/// Deterministic uniform values in [-1, 1) (SplitMix64).
struct BenchRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func floats(_ count: Int) -> [Float] {
        (0..<count).map { _ in Float(next() >> 40) / Float(1 << 23) - 1 }
    }
}
