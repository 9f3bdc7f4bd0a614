import ConvKit
import Foundation

/// `convkit bench --model`: whole-network inference timing. The network is built from its
/// description (PyTorch's default initialisation, seeded, or a checkpoint), switched to
/// evaluation, its batch normalisations folded into the convolutions, and run with autograd off.
struct ModelBench {
    struct Result: Encodable {
        let name: String
        let input_shape: [Int]
        let threads: Int
        let folded: Bool
        let runs: Int
        let median_ms: Double
        let min_ms: Double
        /// With `--per-layer`: every layer that computes, in order, and the median time spent
        /// outside them (residual additions, concatenation, the containers' own work).
        let layers: [LayerTime]?
        let outside_layers_ms: Double?
    }

    struct LayerTime: Encodable {
        /// The layer's state_dict prefix in the timed network (`4.body.0`).
        let path: String
        let layer: String
        let output_shape: [Int]
        let median_ms: Double
    }

    let modelPath: String
    let batch: Int?
    let weights: String?
    let input: String?
    let saveOutput: String?
    let fold: Bool
    let perLayer: Bool
    let runs: Int
    let warmup: Int
    let clock: () -> Double

    func measure() throws -> Result {
        let description = try ModelDescription.load(from: URL(fileURLWithPath: modelPath))
        let x = try makeInput(description)
        GlobalRandom.manualSeed(0)
        let network = try Sequential(description: description)
        if let weights { try network.load(from: URL(fileURLWithPath: weights)) }
        network.eval()
        let inference = fold ? network.foldingBatchNorm() : network
        let profiler = LayerProfiler(clock: clock)
        let timed = perLayer ? profiler.instrument(inference) : inference
        let input = Variable(x)

        var output: Tensor<Float>?
        func once() throws { output = try Autograd.withNoGrad { try timed(input).value } }
        try Self.warmUp(runs: max(warmup, 0), clock: clock, once)
        profiler.reset()
        var times: [Double] = [], outside: [Double] = []
        for _ in 0..<max(runs, 15) {
            let start = clock()
            try once()
            let time = clock() - start
            times.append(time)
            outside.append(time - profiler.takeRunTotal())
        }
        if let saveOutput, let output { try output.writeNPY(to: URL(fileURLWithPath: saveOutput)) }
        let name = URL(fileURLWithPath: modelPath).deletingPathExtension().lastPathComponent
        return Result(name: name, input_shape: x.shape, threads: Runtime.threadCount, folded: fold, runs: times.count,
                      median_ms: Self.median(times), min_ms: times.min() ?? 0, layers: perLayer ? profiler.results() : nil,
                      outside_layers_ms: perLayer ? Self.median(outside) : nil)
    }

    /// `--input`, or values uniform in [-1, 1) (seeded) of the description's input shape, with
    /// `--batch` images.
    private func makeInput(_ description: ModelDescription) throws -> Tensor<Float> {
        if let input {
            guard batch == nil else { throw CLIError("bench: --batch and --input exclude each other (the input sets the batch)") }
            return try Tensor<Float>(npyFile: URL(fileURLWithPath: input))
        }
        guard var shape = description.inputShape, !shape.isEmpty else {
            throw CLIError("bench: \(modelPath) has no input_shape; add one or give --input X.npy")
        }
        if let batch {
            guard batch > 0 else { throw CLIError("--batch expects a positive integer, but got \(batch)") }
            shape[0] = batch
        }
        var random = BenchRandom(seed: 0x5EED)
        return try Tensor(shape: shape, scalars: random.floats(shape.reduce(1, *)))
    }

    /// The human-readable report.
    static func report(_ result: Result) -> String {
        var lines: [String] = []
        if let layers = result.layers {
            func padded(_ text: String, _ width: Int) -> String { text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0) }
            for layer in layers {
                lines.append(padded(layer.path, 15) + " " + padded(layer.layer, 36) + " " + padded("\(layer.output_shape)", 18)
                             + String(format: " %8.3f ms", layer.median_ms))
            }
            let byKind = Dictionary(grouping: layers) { $0.layer.split(separator: " ").first.map(String.init) ?? $0.layer }
                .mapValues { $0.reduce(0) { $0 + $1.median_ms } }
                .sorted { $0.value > $1.value }
            let total = layers.reduce(0) { $0 + $1.median_ms }
            lines.append("by layer type: " + byKind.map { String(format: "%@ %.3f ms", $0.key as NSString, $0.value) }.joined(separator: ", "))
            lines.append(String(format: "sum of layer medians %.3f ms; outside the layers (residual additions, concatenation) %.3f ms",
                                total, result.outside_layers_ms ?? 0))
        }
        lines.append(String(format: "%@ %@: %.3f ms median, %.3f ms min over %d runs (%d threads, %@, BatchNorm %@)",
                            result.name as NSString, "\(result.input_shape)" as NSString, result.median_ms, result.min_ms,
                            result.runs, result.threads, "\(Runtime.instructionSet)" as NSString,
                            (result.folded ? "folded" : "not folded") as NSString))
        return lines.joined(separator: "\n")
    }

    /// Runs `once` untimed at least `runs` times and for at least 200 ms (a fresh process's worker
    /// threads, buffers and prepared weights settle in; the other frameworks in the comparison
    /// scripts are long-lived processes).
    static func warmUp(runs: Int, clock: () -> Double, _ once: () throws -> Void) rethrows {
        let start = clock()
        var done = 0
        while done < runs || clock() - start < 200 {
            try once()
            done += 1
        }
    }

    /// The middle value (the mean of the two middle ones for an even count).
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        let n = sorted.count
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
}

/// Per-layer wall times: wraps every layer of a module tree (inside `Sequential`, `Residual` and
/// `Parallel`) in a ``TimedLayer``. What the containers themselves do (residual additions,
/// concatenation) is left untimed: the difference between the network's time and the layers' sum.
final class LayerProfiler {
    /// The current time in milliseconds.
    let clock: () -> Double
    private var paths: [String] = []
    private var runTotal: Double = 0
    private var layers: [String: (description: String, shape: [Int], times: [Double])] = [:]

    init(clock: @escaping () -> Double) { self.clock = clock }

    /// A tree computing the same as `module`, its layers timed.
    func instrument(_ module: any Module, path: String = "") -> any Module {
        func child(_ name: String) -> String { path.isEmpty ? name : path + "." + name }
        switch module {
        case let sequential as Sequential:
            return Sequential(sequential.layers.enumerated().map { instrument($0.element, path: child(String($0.offset))) })
        case let residual as Residual:
            let timed = Residual(body: Sequential(residual.body.layers.enumerated().map { instrument($0.element, path: child("body.\($0.offset)")) }),
                                 shortcut: Sequential(residual.shortcut.layers.enumerated().map { instrument($0.element, path: child("shortcut.\($0.offset)")) }))
            timed.fusesReLU = residual.fusesReLU
            return timed
        case let parallel as Parallel:
            let branches = parallel.branches.layers.enumerated().compactMap { branch in
                (branch.element as? Sequential).map { b in
                    Sequential(b.layers.enumerated().map { instrument($0.element, path: child("branches.\(branch.offset).\($0.offset)")) })
                }
            }
            return Parallel(branches: branches, merge: parallel.merge)
        default:
            return TimedLayer(module, path: path, profiler: self)
        }
    }

    func record(_ path: String, layer: any Module, input: [Int], output: [Int], time: Double) {
        if layers[path] == nil {
            paths.append(path)
            layers[path] = (Self.describe(layer, input: input), output, [])
        }
        layers[path]?.times.append(time)
        runTotal += time
    }

    /// Forgets the times recorded so far.
    func reset() {
        for path in paths { layers[path]?.times = [] }
        runTotal = 0
    }

    /// The layers' total time since the last call (or reset).
    func takeRunTotal() -> Double {
        defer { runTotal = 0 }
        return runTotal
    }

    func results() -> [ModelBench.LayerTime] {
        paths.compactMap { path in
            layers[path].map { ModelBench.LayerTime(path: path, layer: $0.description, output_shape: $0.shape, median_ms: ModelBench.median($0.times)) }
        }
    }

    /// `Conv2d 64→128 3×3 s2 winograd`, `ReLU`, `Linear 512→1000`, ….
    static func describe(_ layer: any Module, input: [Int]) -> String {
        switch layer {
        case let conv as ConvolutionLayer:
            let kind = (conv.isTransposed ? "ConvTranspose" : "Conv") + "\(conv.spatialRank)d"
            let kernel = conv.kernelSize.map(String.init).joined(separator: "×")
            let strides = Array(Set(conv.stride.values)).sorted()
            let stride = strides == [1] ? "" : " s" + conv.stride.values.map(String.init).joined(separator: ",")
            let algorithm = (try? conv.plan(for: input).algorithm.rawValue).map { " " + $0 } ?? ""
            return "\(kind) \(conv.inChannels)→\(conv.outChannels) \(kernel)\(stride)\(algorithm)\(conv.fusedActivation.map { " +" + $0.activation.typeName } ?? "")"
        case let activation as ActivationLayer:
            return activation.activation.typeName
        case let linear as Linear:
            return "Linear \(linear.weight.shape[1])→\(linear.weight.shape[0])"
        case let pool as PoolingLayer:
            return (try? pool.plan(for: input).op) ?? "\(type(of: layer))"
        case is BatchNormLayer:
            return "BatchNorm"
        default:
            return "\(type(of: layer))"
        }
    }
}

/// A layer whose forward passes are timed into a ``LayerProfiler``.
final class TimedLayer: Module {
    var isTraining: Bool {
        get { inner.isTraining }
        set { inner.isTraining = newValue }
    }
    private let inner: any Module
    private let path: String
    private let profiler: LayerProfiler

    init(_ inner: any Module, path: String, profiler: LayerProfiler) {
        self.inner = inner
        self.path = path
        self.profiler = profiler
    }

    func callAsFunction(_ input: Variable) throws -> Variable {
        let start = profiler.clock()
        let output = try inner(input)
        profiler.record(path, layer: inner, input: input.shape, output: output.shape, time: profiler.clock() - start)
        return output
    }
}
