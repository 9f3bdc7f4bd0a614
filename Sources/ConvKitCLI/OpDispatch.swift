import ConvKit

/// The ops `convkit op` runs, by their `torch.nn.functional` names, and the options each takes.
public enum OpFamily: Sendable {
    case conv, convTranspose, pad, maxPool, avgPool, adaptiveAvgPool, adaptiveMaxPool, maxUnpool, unfold, fold

    /// Op name → (family, spatial rank).
    public static let byName: [String: (family: OpFamily, rank: Int)] = {
        var table: [String: (OpFamily, Int)] = ["pad": (.pad, 0), "unfold": (.unfold, 2), "fold": (.fold, 2)]
        for rank in 1...3 {
            table["conv\(rank)d"] = (.conv, rank)
            table["conv_transpose\(rank)d"] = (.convTranspose, rank)
            table["max_pool\(rank)d"] = (.maxPool, rank)
            table["avg_pool\(rank)d"] = (.avgPool, rank)
            table["adaptive_avg_pool\(rank)d"] = (.adaptiveAvgPool, rank)
            table["adaptive_max_pool\(rank)d"] = (.adaptiveMaxPool, rank)
            table["max_unpool\(rank)d"] = (.maxUnpool, rank)
        }
        return table
    }()

    /// The options (kebab-case) this family accepts.
    var options: Set<String> {
        switch self {
        case .conv: return ["stride", "padding", "dilation", "groups", "padding-mode"]
        case .convTranspose: return ["stride", "padding", "output-padding", "groups", "dilation"]
        case .pad: return ["pad", "mode", "value"]
        case .maxPool: return ["kernel-size", "stride", "padding", "dilation", "ceil-mode", "return-indices"]
        case .avgPool: return ["kernel-size", "stride", "padding", "ceil-mode", "count-include-pad", "divisor-override"]
        case .adaptiveAvgPool: return ["output-size"]
        case .adaptiveMaxPool: return ["output-size", "return-indices"]
        case .maxUnpool: return ["kernel-size", "stride", "padding", "output-size"]
        case .unfold: return ["kernel-size", "dilation", "padding", "stride"]
        case .fold: return ["output-size", "kernel-size", "dilation", "padding", "stride"]
        }
    }

    var hasWeight: Bool { self == .conv || self == .convTranspose }
}

/// The typed values of `convkit op`'s options; `given` lists the ones the user set.
public struct OpOptions: Sendable {
    public var stride: Dims?
    public var padding: Padding?
    public var dilation: Dims?
    public var groups: Int?
    public var paddingMode: PaddingMode?
    public var outputPadding: Dims?
    public var kernelSize: Dims?
    public var outputSize: [Int?]?
    public var pad: [Int]?
    public var mode: PadMode?
    public var value: Float?
    public var divisorOverride: Int?
    public var ceilMode = false
    public var returnIndices = false
    public var countIncludePad = true
    public var given: Set<String> = []
    public init() {}
}

/// The tensors an op reads and the ones it produces.
public struct OpTensors: Sendable {
    public var input: Tensor<Float>?
    public var weight: Tensor<Float>?
    public var bias: Tensor<Float>?
    /// `max_unpool`'s input indices.
    public var indices: Tensor<Int>?
    public var gradOutput: Tensor<Float>?

    public var output: Tensor<Float>?
    public var indicesOutput: Tensor<Int>?
    public var gradInput: Tensor<Float>?
    public var gradWeight: Tensor<Float>?
    public var gradBias: Tensor<Float>?
    public init() {}
}

/// Runs op `name` on `tensors` with `options`; with a `gradOutput`, also computes the gradients in `request`.
public func runOp(_ name: String, options: OpOptions, tensors: OpTensors, request: GradientRequest) throws -> OpTensors {
    guard let (family, rank) = OpFamily.byName[name] else {
        throw CLIError("convkit op: unknown op '\(name)'; expected one of \(OpFamily.byName.keys.sorted().joined(separator: ", "))")
    }
    // PyTorch's avg_pool1d has no divisor_override.
    let accepted = family == .avgPool && rank == 1 ? family.options.subtracting(["divisor-override"]) : family.options
    if let stray = options.given.subtracting(accepted).sorted().first {
        throw CLIError("\(name): option --\(stray) does not apply (\(name) takes \(accepted.sorted().map { "--" + $0 }.joined(separator: ", ")))")
    }
    guard let x = tensors.input else { throw CLIError("\(name): --input is required") }
    if family.hasWeight, tensors.weight == nil { throw CLIError("\(name): --weight is required") }
    if !family.hasWeight, request.contains(.weight) || request.contains(.bias), tensors.gradOutput != nil {
        throw CLIError("\(name): has no weight or bias, so --grad-weight and --grad-bias do not apply")
    }
    if !family.hasWeight, tensors.weight != nil || tensors.bias != nil {
        throw CLIError("\(name): takes no --weight or --bias")
    }
    func required<T>(_ value: T?, _ option: String) throws -> T {
        guard let value else { throw CLIError("\(name): --\(option) is required") }
        return value
    }
    func sizes(_ option: String) throws -> [Int]? {
        try options.outputSize.map { sizes in
            try sizes.map { size in
                guard let size else { throw CLIError("\(name): --\(option) takes integers only, not 'none'") }
                return size
            }
        }
    }
    var result = tensors
    let gy = tensors.gradOutput
    switch family {
    case .conv, .convTranspose:
        let w = tensors.weight!
        let plan = family == .conv
            ? try ConvolutionPlan(spatialRank: rank, inputShape: x.shape, weightShape: w.shape, hasBias: tensors.bias != nil,
                                  stride: options.stride ?? 1, padding: options.padding ?? 0, dilation: options.dilation ?? 1,
                                  groups: options.groups ?? 1, paddingMode: options.paddingMode ?? .zeros)
            : try ConvolutionPlan(transposedSpatialRank: rank, inputShape: x.shape, weightShape: w.shape,
                                  hasBias: tensors.bias != nil, stride: options.stride ?? 1, padding: options.padding ?? 0,
                                  outputPadding: options.outputPadding ?? 0, groups: options.groups ?? 1,
                                  dilation: options.dilation ?? 1)
        result.output = try plan.forward(x, weight: w, bias: tensors.bias)
        if let gy {
            let gradients = try plan.backward(gradOutput: gy, input: x, weight: w, wrt: request)
            (result.gradInput, result.gradWeight, result.gradBias) = (gradients.input, gradients.weight, gradients.bias)
            if request.contains(.bias), tensors.bias == nil {
                throw CLIError("\(name): --grad-bias needs a --bias")
            }
        }
    case .pad:
        let padList = try required(options.pad, "pad")
        let mode = options.mode ?? .constant
        if mode != .constant, options.value.map({ $0 != 0 }) ?? false {
            throw CLIError("pad: --value applies only to --mode constant, not \(mode.rawValue)")
        }
        result.output = try pad(x, padList, mode: mode, value: options.value ?? 0)
        if let gy { result.gradInput = try padBackward(gradOutput: gy, inputShape: x.shape, pad: padList, mode: mode) }
    case .maxPool, .avgPool, .adaptiveAvgPool, .adaptiveMaxPool:
        let plan: PoolingPlan
        switch family {
        case .maxPool:
            plan = try PoolingPlan(maxPoolSpatialRank: rank, inputShape: x.shape, kernelSize: try required(options.kernelSize, "kernel-size"),
                                   stride: options.stride, padding: options.padding ?? 0, dilation: options.dilation ?? 1,
                                   ceilMode: options.ceilMode)
        case .avgPool:
            plan = try PoolingPlan(avgPoolSpatialRank: rank, inputShape: x.shape, kernelSize: try required(options.kernelSize, "kernel-size"),
                                   stride: options.stride, padding: options.padding ?? 0, ceilMode: options.ceilMode,
                                   countIncludePad: options.countIncludePad, divisorOverride: options.divisorOverride)
        default:
            plan = try PoolingPlan(adaptiveSpatialRank: rank, max: family == .adaptiveMaxPool, inputShape: x.shape,
                                   outputSize: try required(options.outputSize, "output-size"))
        }
        let pooled = try plan.forward(x)
        result.output = pooled.output
        result.indicesOutput = pooled.indices
        if let gy { result.gradInput = try plan.backward(gradOutput: gy, indices: pooled.indices) }
    case .maxUnpool:
        let indices = try required(tensors.indices, "indices")
        let plan = try MaxUnpoolPlan(spatialRank: rank, inputShape: x.shape, kernelSize: try required(options.kernelSize, "kernel-size"),
                                     stride: options.stride, padding: try padDims(options.padding, name), outputSize: try sizes("output-size"))
        result.output = try plan.forward(x, indices: indices)
        if let gy { result.gradInput = try plan.backward(gradOutput: gy, indices: indices) }
    case .unfold:
        let plan = try FoldPlan(unfoldInputShape: x.shape, spatialRank: rank, kernelSize: try required(options.kernelSize, "kernel-size"),
                                dilation: options.dilation ?? 1, padding: try padDims(options.padding, name), stride: options.stride ?? 1)
        result.output = try plan.unfold(x)
        if let gy { result.gradInput = try plan.fold(gy) }
    case .fold:
        let plan = try FoldPlan(foldInputShape: x.shape, outputSize: Dims(try required(sizes("output-size"), "output-size")),
                                kernelSize: try required(options.kernelSize, "kernel-size"), dilation: options.dilation ?? 1,
                                padding: try padDims(options.padding, name), stride: options.stride ?? 1)
        result.output = try plan.fold(x)
        if let gy { result.gradInput = try plan.unfold(gy) }
    }
    return result
}

/// `--padding` for ops that take integers only.
private func padDims(_ padding: Padding?, _ name: String) throws -> Dims {
    switch padding {
    case nil: return 0
    case let .explicit(values)?: return Dims(values)
    case let other?: throw CLIError("\(name): --padding takes integers only, not \(other)")
    }
}
