/// The shared implementation of `Conv1d/2d/3d` and `ConvTranspose1d/2d/3d`: parameters, their
/// default initialisation, and a convolution plan per input shape.
public class ConvolutionLayer: Module {
    public var isTraining = true
    public let spatialRank: Int
    public let inChannels: Int
    public let outChannels: Int
    public let kernelSize: [Int]
    public let stride: Dims
    public let padding: Padding
    public let dilation: Dims
    public let groups: Int
    public let paddingMode: PaddingMode
    public let isTransposed: Bool
    public let outputPadding: Dims
    /// `[C_out, C_in/groups, k…]`, or `[C_in, C_out/groups, k…]` when transposed.
    public let weight: Variable
    public let bias: Variable?
    private var plans = PlanCache<ConvolutionPlan>()

    public init(rank: Int, transposed: Bool, inChannels: Int, outChannels: Int, kernelSize: Dims, stride: Dims, padding: Padding,
         outputPadding: Dims, dilation: Dims, groups: Int, bias: Bool, paddingMode: PaddingMode) throws {
        let name = transposed ? "ConvTranspose\(rank)d" : "Conv\(rank)d"
        guard groups > 0 else { throw ConvKitError.invalidArgument(op: name, "groups (\(groups)) must be a positive integer") }
        guard inChannels % groups == 0 else {
            throw ConvKitError.invalidArgument(op: name, "in_channels (\(inChannels)) must be divisible by groups (\(groups))")
        }
        guard outChannels % groups == 0 else {
            throw ConvKitError.invalidArgument(op: name, "out_channels (\(outChannels)) must be divisible by groups (\(groups))")
        }
        guard !transposed || paddingMode == .zeros else {
            throw ConvKitError.invalidArgument(op: name, "only padding_mode 'zeros' is supported for transposed convolution")
        }
        spatialRank = rank
        isTransposed = transposed
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = try kernelSize.expanded(to: rank, op: name, argument: "kernel_size")
        guard self.kernelSize.allSatisfy({ $0 > 0 }) else {
            throw ConvKitError.invalidArgument(op: name, "kernel_size must be positive, but got kernel_size=\(kernelSize)")
        }
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
        self.dilation = dilation
        self.groups = groups
        self.paddingMode = paddingMode
        let shape = transposed ? [inChannels, outChannels / groups] + self.kernelSize : [outChannels, inChannels / groups] + self.kernelSize
        (weight, self.bias) = DefaultInitialization.parameters(weightShape: shape, bias: bias)
    }

    public var parameters: [(name: String, variable: Variable)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    /// A copy of `layer`'s configuration with other parameter values, as constants
    /// (``Sequential/foldingBatchNorm()``); `weight` has `layer.weight`'s shape.
    init(copying layer: ConvolutionLayer, weight: Tensor<Float>, bias: Tensor<Float>?) {
        spatialRank = layer.spatialRank
        isTransposed = layer.isTransposed
        inChannels = layer.inChannels
        outChannels = layer.outChannels
        kernelSize = layer.kernelSize
        stride = layer.stride
        padding = layer.padding
        outputPadding = layer.outputPadding
        dilation = layer.dilation
        groups = layer.groups
        paddingMode = layer.paddingMode
        self.weight = Variable(weight)
        self.bias = bias.map { Variable($0) }
    }

    /// The plan for inputs of `shape` (prepared once per shape).
    public func plan(for shape: [Int]) throws -> ConvolutionPlan {
        try plans.plan(for: shape) {
            isTransposed
            ? try ConvolutionPlan(transposedSpatialRank: spatialRank, inputShape: shape, weightShape: weight.shape, hasBias: bias != nil,
                                  stride: stride, padding: padding, outputPadding: outputPadding, groups: groups, dilation: dilation)
            : try ConvolutionPlan(spatialRank: spatialRank, inputShape: shape, weightShape: weight.shape, hasBias: bias != nil,
                                  stride: stride, padding: padding, dilation: dilation, groups: groups, paddingMode: paddingMode)
        }
    }

    /// The activation applied in the same pass (set by ``Sequential/foldingBatchNorm()`` when the
    /// convolution is followed by `nn.ReLU` or `nn.ReLU6`; an inference fusion, differentiable as
    /// two steps).
    public var fusedActivation: FusedActivation?

    public func callAsFunction(_ input: Variable) throws -> Variable {
        try Variable.convolution(input, weight: weight, bias: bias, plan: plan(for: input.shape), fusing: fusedActivation)
    }
}

/// 1-D convolution, as `nn.Conv1d`: `L_out = ⌊(L + 2p − d·(k − 1) − 1) / s⌋ + 1`.
public final class Conv1d: ConvolutionLayer {
    public init(inChannels: Int, outChannels: Int, kernelSize: Dims, stride: Dims = 1, padding: Padding = 0, dilation: Dims = 1,
                groups: Int = 1, bias: Bool = true, paddingMode: PaddingMode = .zeros) throws {
        try super.init(rank: 1, transposed: false, inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize, stride: stride,
                       padding: padding, outputPadding: 0, dilation: dilation, groups: groups, bias: bias, paddingMode: paddingMode)
    }
}

/// 2-D convolution, as `nn.Conv2d`: per dimension `O = ⌊(I + 2p − d·(k − 1) − 1) / s⌋ + 1`.
public final class Conv2d: ConvolutionLayer {
    public init(inChannels: Int, outChannels: Int, kernelSize: Dims, stride: Dims = 1, padding: Padding = 0, dilation: Dims = 1,
                groups: Int = 1, bias: Bool = true, paddingMode: PaddingMode = .zeros) throws {
        try super.init(rank: 2, transposed: false, inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize, stride: stride,
                       padding: padding, outputPadding: 0, dilation: dilation, groups: groups, bias: bias, paddingMode: paddingMode)
    }
}

/// 3-D convolution, as `nn.Conv3d`.
public final class Conv3d: ConvolutionLayer {
    public init(inChannels: Int, outChannels: Int, kernelSize: Dims, stride: Dims = 1, padding: Padding = 0, dilation: Dims = 1,
                groups: Int = 1, bias: Bool = true, paddingMode: PaddingMode = .zeros) throws {
        try super.init(rank: 3, transposed: false, inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize, stride: stride,
                       padding: padding, outputPadding: 0, dilation: dilation, groups: groups, bias: bias, paddingMode: paddingMode)
    }
}

/// 1-D transposed convolution, as `nn.ConvTranspose1d`: `L_out = (L − 1)·s − 2p + d·(k − 1) + output_padding + 1`.
public final class ConvTranspose1d: ConvolutionLayer {
    public init(inChannels: Int, outChannels: Int, kernelSize: Dims, stride: Dims = 1, padding: Padding = 0, outputPadding: Dims = 0,
                groups: Int = 1, bias: Bool = true, dilation: Dims = 1) throws {
        try super.init(rank: 1, transposed: true, inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize, stride: stride,
                       padding: padding, outputPadding: outputPadding, dilation: dilation, groups: groups, bias: bias, paddingMode: .zeros)
    }
}

/// 2-D transposed convolution, as `nn.ConvTranspose2d`.
public final class ConvTranspose2d: ConvolutionLayer {
    public init(inChannels: Int, outChannels: Int, kernelSize: Dims, stride: Dims = 1, padding: Padding = 0, outputPadding: Dims = 0,
                groups: Int = 1, bias: Bool = true, dilation: Dims = 1) throws {
        try super.init(rank: 2, transposed: true, inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize, stride: stride,
                       padding: padding, outputPadding: outputPadding, dilation: dilation, groups: groups, bias: bias, paddingMode: .zeros)
    }
}

/// 3-D transposed convolution, as `nn.ConvTranspose3d`.
public final class ConvTranspose3d: ConvolutionLayer {
    public init(inChannels: Int, outChannels: Int, kernelSize: Dims, stride: Dims = 1, padding: Padding = 0, outputPadding: Dims = 0,
                groups: Int = 1, bias: Bool = true, dilation: Dims = 1) throws {
        try super.init(rank: 3, transposed: true, inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize, stride: stride,
                       padding: padding, outputPadding: outputPadding, dilation: dilation, groups: groups, bias: bias, paddingMode: .zeros)
    }
}
