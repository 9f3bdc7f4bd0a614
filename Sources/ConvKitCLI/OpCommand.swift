import ArgumentParser
import ConvKit
import Foundation

/// `convkit op NAME --input X.npy … --output Y.npy [options]`: one `torch.nn.functional` op on
/// `.npy` files, forward and (with `--grad-output`) backward.
public struct OpCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "op",
        abstract: "Run one op (torch.nn.functional name) on .npy files, forward and backward.",
        discussion: """
        Options are PyTorch's keyword names in kebab-case; a tuple is comma-separated (--stride 2,1) and a \
        single number applies to every dimension. --padding also takes same, valid, causal (conv1d) and \
        low:high pairs (1:2,0:1). On any error nothing is written and the exit status is non-zero.
        """)

    @Argument(help: "The op: conv1d/2d/3d, conv_transpose1d/2d/3d, pad, max_pool1d/2d/3d, avg_pool1d/2d/3d, adaptive_avg_pool1d/2d/3d, adaptive_max_pool1d/2d/3d, max_unpool1d/2d/3d, unfold, fold.")
    var name: String

    @Option(help: "Input tensor (.npy, float32 or float64).") var input: String
    @Option(help: "Weight (conv ops).") var weight: String?
    @Option(help: "Bias (conv ops).") var bias: String?
    @Option(help: "Indices from a max pool (max_unpool ops, int64).") var indices: String?
    @Option(help: "Where to write the result.") var output: String
    @Option(name: .customLong("indices-output"), help: "Where to write max-pool indices (int64).") var indicesOutput: String?
    @Option(name: .customLong("grad-output"), help: "Gradient of the loss w.r.t. the output.") var gradOutput: String?
    @Option(name: .customLong("grad-input"), help: "Where to write the input gradient.") var gradInput: String?
    @Option(name: .customLong("grad-weight"), help: "Where to write the weight gradient.") var gradWeight: String?
    @Option(name: .customLong("grad-bias"), help: "Where to write the bias gradient.") var gradBias: String?

    @Option(parsing: .unconditional) var stride: String?
    @Option(parsing: .unconditional, help: "Integers, low:high pairs, same, valid or causal.") var padding: String?
    @Option(parsing: .unconditional) var dilation: String?
    @Option(parsing: .unconditional) var groups: String?
    @Option(name: .customLong("padding-mode"), help: "zeros, reflect, replicate or circular.") var paddingMode: String?
    @Option(name: .customLong("output-padding"), parsing: .unconditional) var outputPadding: String?
    @Option(name: .customLong("kernel-size"), parsing: .unconditional) var kernelSize: String?
    @Option(name: .customLong("output-size"), parsing: .unconditional, help: "Integers; 'none' keeps a dimension (adaptive pools).") var outputSize: String?
    @Option(parsing: .unconditional, help: "F.pad's flat list, last dimension first.") var pad: String?
    @Option(help: "constant, reflect, replicate or circular (pad).") var mode: String?
    @Option(parsing: .unconditional, help: "Fill value of constant padding.") var value: String?
    @Option(name: .customLong("divisor-override"), parsing: .unconditional) var divisorOverride: String?
    @Flag(name: .customLong("ceil-mode")) var ceilMode = false
    @Flag(name: .customLong("return-indices")) var returnIndices = false
    @Flag(inversion: .prefixedNo) var countIncludePad: Bool?

    public init() {}

    public func run() throws {
        func load(_ path: String?) throws -> Tensor<Float>? {
            try path.map { try Tensor<Float>(npyFile: URL(fileURLWithPath: $0)) }
        }
        var tensors = OpTensors()
        tensors.input = try load(input)
        tensors.weight = try load(weight)
        tensors.bias = try load(bias)
        tensors.gradOutput = try load(gradOutput)
        tensors.indices = try indices.map { try Tensor<Int>(npyFile: URL(fileURLWithPath: $0)) }
        let result = try compute(tensors)

        var files: [(URL, Data)] = []
        func add<T: NPYScalar>(_ path: String?, _ tensor: Tensor<T>?, _ what: String) throws {
            guard let path else { return }
            guard let tensor else { throw CLIError("\(name): no \(what) to write to \(path)") }
            files.append((URL(fileURLWithPath: path), tensor.npyData()))
        }
        try add(output, result.output, "output")
        try add(indicesOutput, result.indicesOutput, "indices (only max pools return indices)")
        try add(gradInput, result.gradInput, "input gradient")
        try add(gradWeight, result.gradWeight, "weight gradient")
        try add(gradBias, result.gradBias, "bias gradient")
        try AtomicFile.write(files)
    }

    /// Parses the options and runs the op in memory (used by `run()` and by the tests).
    public func compute(_ tensors: OpTensors) throws -> OpTensors {
        var request: GradientRequest = []
        if gradInput != nil { request.insert(.input) }
        if gradWeight != nil { request.insert(.weight) }
        if gradBias != nil { request.insert(.bias) }
        if !request.isEmpty, tensors.gradOutput == nil {
            throw CLIError("\(name): --grad-input, --grad-weight and --grad-bias need --grad-output")
        }
        if tensors.gradOutput != nil, request.isEmpty {
            throw CLIError("\(name): --grad-output given, but no --grad-input, --grad-weight or --grad-bias to write")
        }
        let parsed: OpOptions
        do { parsed = try options() } catch let error as CLIError { throw CLIError("\(name): \(error)") }
        return try runOp(name, options: parsed, tensors: tensors, request: request)
    }

    func options() throws -> OpOptions {
        var o = OpOptions()
        func note(_ option: String, _ text: String?) -> String? {
            if text != nil { o.given.insert(option) }
            return text
        }
        o.stride = try note("stride", stride).map { try OptionValue.dims($0, option: "stride") }
        o.padding = try note("padding", padding).map { try OptionValue.padding($0) }
        o.dilation = try note("dilation", dilation).map { try OptionValue.dims($0, option: "dilation") }
        o.groups = try note("groups", groups).map { try OptionValue.integer($0, option: "groups") }
        o.paddingMode = try note("padding-mode", paddingMode).map { try OptionValue.choice($0, option: "padding-mode") }
        o.outputPadding = try note("output-padding", outputPadding).map { try OptionValue.dims($0, option: "output-padding") }
        o.kernelSize = try note("kernel-size", kernelSize).map { try OptionValue.dims($0, option: "kernel-size") }
        o.outputSize = try note("output-size", outputSize).map { try OptionValue.optionalSizes($0, option: "output-size") }
        o.pad = try note("pad", pad).map { try OptionValue.integers($0, option: "pad") }
        o.mode = try note("mode", mode).map { try OptionValue.choice($0, option: "mode") }
        o.value = try note("value", value).map { try OptionValue.float($0, option: "value") }
        o.divisorOverride = try note("divisor-override", divisorOverride).map { try OptionValue.integer($0, option: "divisor-override") }
        if ceilMode { o.given.insert("ceil-mode") }
        if returnIndices || indicesOutput != nil { o.given.insert("return-indices") }
        if let countIncludePad {
            o.given.insert("count-include-pad")
            o.countIncludePad = countIncludePad
        }
        o.ceilMode = ceilMode
        o.returnIndices = returnIndices || indicesOutput != nil
        return o
    }
}
