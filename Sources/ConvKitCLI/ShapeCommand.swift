import ArgumentParser
import ConvKit
import Foundation

/// `convkit shape --input 224 --kernel-size 7 --stride 2 --padding 3 [--dilation 1] [--transposed
/// --output-padding N] [--pool] [--ceil-mode] [--target N] [--json]`: the output-size formula with
/// the numbers substituted, step by step, and the result.
public struct ShapeCommand: ParsableCommand {
    /// The command's name, abstract and discussion.
    public static let configuration = CommandConfiguration(
        commandName: "shape",
        abstract: "Output size of a convolution, transposed convolution or pooling window, step by step.",
        discussion: """
        Convolution: O = ⌊(I + 2P − D·(K − 1) − 1)/S⌋ + 1. Transposed: O = (I − 1)·S − 2P + D·(K − 1) + output_padding + 1. \
        Pooling rounds up with --ceil-mode (PyTorch drops a last window that would start in the padding). \
        Comma-separated values give one per dimension (--input 224,160). --target N solves for the padding \
        (or, with --transposed, the output_padding) that gives output N.
        """)

    @Option(parsing: .unconditional, help: "Input size(s) I.") var input: String
    @Option(name: .customLong("kernel-size"), parsing: .unconditional, help: "Kernel size(s) K.") var kernelSize: String
    @Option(parsing: .unconditional, help: "Stride(s) S (default 1; for --pool, the kernel size).") var stride: String?
    @Option(parsing: .unconditional, help: "Integers, low:high pairs, same, valid, full or causal (default 0).") var padding: String?
    @Option(parsing: .unconditional, help: "Dilation(s) D (default 1).") var dilation: String?
    @Flag(help: "Transposed convolution.") var transposed = false
    @Option(name: .customLong("output-padding"), parsing: .unconditional, help: "Transposed convolution's output_padding.")
    var outputPadding: String?
    @Flag(help: "Pooling (stride defaults to the kernel size).") var pool = false
    @Flag(name: .customLong("ceil-mode"), help: "Pooling with ceil_mode=True (implies --pool).") var ceilMode = false
    @Option(parsing: .unconditional, help: "Wanted output size: print the padding (or output_padding) that gives it.")
    var target: String?
    @Flag(help: "Print JSON.") var json = false

    public init() {}

    /// Prints ``render()``.
    public func run() throws {
        print(try render())
    }

    /// The text `run()` prints (used by the tests in-process).
    public func render() throws -> String {
        let explanations = try explain()
        return json ? jsonText(explanations) : text(explanations)
    }

    func explain() throws -> [ShapeExplanation] {
        let inputs = try OptionValue.integers(input, option: "input")
        let rank = inputs.count
        guard (1...3).contains(rank) else { throw CLIError("--input takes 1 to 3 sizes (one per spatial dimension), but got \(rank)") }
        let isPool = pool || ceilMode
        guard !(isPool && transposed) else { throw CLIError("--transposed and --pool/--ceil-mode do not go together") }
        if outputPadding != nil, !transposed { throw CLIError("--output-padding applies only with --transposed") }
        let kernel = try OptionValue.dims(kernelSize, option: "kernel-size")
        let strides = try stride.map { try OptionValue.dims($0, option: "stride") } ?? (isPool ? kernel : 1)
        let pad = try padding.map { try OptionValue.padding($0) } ?? .explicit([0])
        let dilations = try dilation.map { try OptionValue.dims($0, option: "dilation") } ?? 1
        let outputPaddings = try outputPadding.map { try OptionValue.dims($0, option: "output-padding") } ?? 0
        let targets = try target.map { try OptionValue.integers($0, option: "target") }
        if let targets, targets.count != 1 && targets.count != rank {
            throw CLIError("--target takes one size or one per dimension (\(rank)), but got \(targets.count)")
        }
        // The op plans check the arguments exactly as PyTorch does (pool padding ≤ kernel/2, output ≥ 1, …).
        let shape = [1, 1] + inputs
        let op: ShapeExplanation.Operation = transposed ? .convTranspose : (isPool ? .pool : .conv)
        switch op {
        case .conv:
            let weight = [1, 1] + (try expand(kernel, rank, "kernel-size"))
            _ = try ConvolutionPlan(spatialRank: rank, inputShape: shape, weightShape: weight, hasBias: false, stride: strides,
                                    padding: pad, dilation: dilations)
        case .convTranspose:
            let weight = [1, 1] + (try expand(kernel, rank, "kernel-size"))
            _ = try ConvolutionPlan(transposedSpatialRank: rank, inputShape: shape, weightShape: weight, hasBias: false, stride: strides,
                                    padding: pad, outputPadding: outputPaddings, dilation: dilations)
        case .pool:
            _ = try PoolingPlan(maxPoolSpatialRank: rank, inputShape: shape, kernelSize: kernel, stride: strides, padding: pad,
                                dilation: dilations, ceilMode: ceilMode)
        }
        let resolved = try pad.resolved(input: inputs, kernelSize: kernel, stride: strides, dilation: dilations)
        let k = try expand(kernel, rank, "kernel-size"), s = try expand(strides, rank, "stride")
        let d = try expand(dilations, rank, "dilation"), op0 = try expand(outputPaddings, rank, "output-padding")
        return (0..<rank).map { i in
            ShapeExplanation(operation: op, ceilMode: ceilMode, input: inputs[i], kernel: k[i], stride: s[i], dilation: d[i], padding: pad,
                             resolved: (resolved.low[i], resolved.high[i]), outputPadding: op0[i],
                             target: targets.map { $0.count == 1 ? $0[0] : $0[i] })
        }
    }

    private func expand(_ dims: Dims, _ rank: Int, _ option: String) throws -> [Int] {
        if dims.values.count == rank { return dims.values }
        if dims.values.count == 1 { return Array(repeating: dims.values[0], count: rank) }
        throw CLIError("--\(option) takes one value or one per dimension (\(rank)), but got \(dims)")
    }

    private func text(_ explanations: [ShapeExplanation]) -> String {
        guard let first = explanations.first else { return "" }
        let name = switch first.operation {
        case .conv: "convolution"
        case .convTranspose: "transposed convolution"
        case .pool: first.ceilMode ? "pooling (ceil_mode)" : "pooling"
        }
        var lines: [String] = []
        let identical = explanations.allSatisfy { $0.steps == first.steps && $0.remarks == first.remarks }
        for (index, explanation) in explanations.enumerated() {
            if identical && index > 0 { break }
            let which = explanations.count == 1 ? "" : (identical ? " (every dimension)" : " (dimension \(index))")
            lines.append("\(name)\(which):")
            lines += explanation.steps.map { "  " + $0 }
            lines += explanation.remarks.map { "  " + $0 }
        }
        lines.append("output size: " + explanations.map { String($0.output) }.joined(separator: " × "))
        return lines.joined(separator: "\n")
    }

    private func jsonText(_ explanations: [ShapeExplanation]) -> String {
        func value(_ item: Any?) -> Any { item ?? NSNull() }
        let dimensions: [[String: Any]] = explanations.map { e in
            var entry: [String: Any] = [
                "input": e.input, "kernel_size": e.kernel, "stride": e.stride, "dilation": e.dilation, "padding": [e.padLow, e.padHigh],
                "effective_kernel": e.effectiveKernel, "output": e.output, "steps": e.steps,
                "inputs_for_output": value(e.inputsForOutput.map { [$0.lowerBound, $0.upperBound] }),
            ]
            if e.operation == .convTranspose {
                entry["output_padding"] = e.outputPadding
            } else {
                entry["dropped_input"] = e.dropped
            }
            if target != nil {
                if e.operation == .convTranspose {
                    entry["output_padding_for_target"] = value(e.targetOutputPadding)
                } else {
                    entry["padding_for_target"] = value(e.targetPadding.map { solution -> [String: Any] in
                        ["padding": value(solution.symmetric), "low": solution.low, "high": solution.high,
                         "totals": [solution.totals.lowerBound, solution.totals.upperBound]]
                    })
                }
                if let problem = e.targetProblem { entry["target_problem"] = problem }
            }
            return entry
        }
        let object: [String: Any] = [
            "operation": explanations.first?.operation.rawValue ?? "conv",
            "ceil_mode": ceilMode,
            "output_size": explanations.map(\.output),
            "dimensions": dimensions,
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
