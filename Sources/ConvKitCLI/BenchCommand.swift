import ArgumentParser
import ConvKit
import Foundation

/// `convkit bench --suite SUITE.json [--threads N] [--json] [--backward]`: times each layer of a
/// suite through the public API and prints the median time, GFLOP/s and the algorithm used.
public struct BenchCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time conv2d layers of a benchmark suite (median of repeated runs).",
        discussion: """
        A suite is JSON: {"cases": [{"name", "N", "Cin", "H", "W", "Cout", "k", "stride", "padding", \
        "dilation", "groups"}, …]}, each case torch.nn.functional.conv2d(x[N,Cin,H,W], w[Cout,Cin/groups,k,k], \
        bias[Cout], …) in float32. Each run prepares a ConvolutionPlan and runs it (what conv2d does; \
        weights prepared for a kernel are cached by the weight tensor's identity, so repeated calls with \
        the same weights reuse them, as inference does); with --backward a run is the forward pass plus \
        the input, weight and bias gradients, with that cache off (as in training, where the weights \
        change every step). \
        GFLOP/s counts 2 FLOPs per multiply-add: 1 pass forward, 3 passes with --backward.
        """)

    @Option(help: "The suite (JSON).") var suite: String
    @Option(help: "Worker threads (default: all active processors).") var threads: Int?
    @Flag(help: "Print a JSON array [{name, median_ms, gflops, algorithm}].") var json = false
    @Flag(help: "Time forward + input/weight/bias gradients.") var backward = false
    @Option(help: "Timed runs per case (at least 15).") var runs = 15
    @Option(help: "Untimed warm-up runs per case.") var warmup = 3
    @Option(help: "Force an algorithm: reference, gemm, pointwise, depthwise, winograd.") var algorithm: String?
    @Option(help: "Instruction set: portable, neon, avx2, avx512 (default: the best available).") var isa: String?
    @Option(name: .customLong("case"), help: "Only cases whose name contains this text.") var only: String?
    @Flag(help: "Also report the forward error against the reference kernels (max |Δ| / max |reference|).")
    var check = false
    @Flag(name: .customLong("cpu-time"), help: "Measure process CPU time instead of wall time (for tuning one thread on a busy machine).")
    var cpuTime = false

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
        let results = try measure { line in if !json { print(line) } }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(results), as: UTF8.self))
        } else {
            print("threads: \(Runtime.threadCount), instruction set: \(Runtime.instructionSet)")
        }
    }

    /// Times the suite's cases; `progress` receives one human-readable line per case.
    func measure(progress: (String) -> Void = { _ in }) throws -> [Result] {
        let data = try Data(contentsOf: URL(fileURLWithPath: suite))
        let cases = try JSONDecoder().decode(Suite.self, from: data).cases.filter { only == nil || $0.name.contains(only!) }
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
            func now() -> Double {
                if cpuTime {
                    var t = timespec()
                    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
                    return Double(t.tv_sec) * 1e3 + Double(t.tv_nsec) / 1e6
                }
                return Double(DispatchTime.now().uptimeNanoseconds) / 1e6
            }
            for _ in 0..<max(warmup, 0) { try once() }
            var times: [Double] = []
            for _ in 0..<timedRuns {
                let start = now()
                try once()
                times.append(now() - start)
            }
            times.sort()
            let median = timedRuns % 2 == 1 ? times[timedRuns / 2] : (times[timedRuns / 2 - 1] + times[timedRuns / 2]) / 2
            let outPlane = plan.outputShape[2] * plan.outputShape[3]
            let flops = 2.0 * Double(c.N * c.Cout * outPlane * (c.Cin / c.groups) * c.k * c.k) * (backward ? 3 : 1)
            results.append(Result(name: c.name, median_ms: median, gflops: flops / median / 1e6,
                                  algorithm: plan.algorithm.rawValue))
            if sink.isNaN { FileHandle.standardError.write(Data("note: NaN in \(c.name)\n".utf8)) }
            progress(String(format: "%-24@ %10.3f ms %8.1f GFLOP/s  (min %.3f ms)  %@", c.name as NSString, median,
                            results.last!.gflops, times[0], plan.algorithm.rawValue as NSString))
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
