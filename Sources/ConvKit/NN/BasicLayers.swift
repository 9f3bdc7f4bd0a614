/// `nn.BatchNorm1d/2d/3d` over `[N, C, …]`: γ = 1, β = 0, running mean 0 and variance 1 at start;
/// `momentum` nil is a cumulative average.
public final class BatchNormLayer: Module {
    public var isTraining = true
    public let numFeatures: Int
    public let eps: Float
    public let momentum: Float?
    public let weight: Variable?
    public let bias: Variable?
    public let runningMean: Variable?
    public let runningVar: Variable?
    public let batchesTracked: Variable?

    public init(numFeatures: Int, eps: Float = 1e-5, momentum: Float? = 0.1, affine: Bool = true, trackRunningStats: Bool = true) throws {
        guard numFeatures > 0 else {
            throw ConvKitError.invalidArgument(op: "BatchNorm", "num_features (\(numFeatures)) must be positive")
        }
        self.numFeatures = numFeatures
        self.eps = eps
        self.momentum = momentum
        let ones = Tensor<Float>(uncheckedShape: [numFeatures], scalars: Array(repeating: 1, count: numFeatures))
        let zeros = Tensor<Float>(uncheckedShape: [numFeatures], scalars: Array(repeating: 0, count: numFeatures))
        weight = affine ? Variable(ones, requiresGrad: true) : nil
        bias = affine ? Variable(zeros, requiresGrad: true) : nil
        runningMean = trackRunningStats ? Variable(zeros) : nil
        runningVar = trackRunningStats ? Variable(ones) : nil
        batchesTracked = trackRunningStats ? Variable(Tensor(uncheckedShape: [], scalars: [0])) : nil
    }

    /// A copy of `layer`'s configuration, parameters and statistics, as constants
    /// (``Sequential/foldingBatchNorm()``).
    init(copying layer: BatchNormLayer) {
        numFeatures = layer.numFeatures
        eps = layer.eps
        momentum = layer.momentum
        weight = layer.weight.map { Variable($0.value) }
        bias = layer.bias.map { Variable($0.value) }
        runningMean = layer.runningMean.map { Variable($0.value) }
        runningVar = layer.runningVar.map { Variable($0.value) }
        batchesTracked = layer.batchesTracked.map { Variable($0.value) }
    }

    public var parameters: [(name: String, variable: Variable)] {
        [("weight", weight), ("bias", bias)].compactMap { name, v in v.map { (name, $0) } }
    }

    public var buffers: [(name: String, buffer: Buffer)] {
        guard let runningMean, let runningVar, let batchesTracked else { return [] }
        return [("running_mean", Buffer(variable: runningMean, dtype: .float32)),
                ("running_var", Buffer(variable: runningVar, dtype: .float32)),
                ("num_batches_tracked", Buffer(variable: batchesTracked, dtype: .int64))]
    }

    public func callAsFunction(_ input: Variable) throws -> Variable {
        var tracked = 0
        if isTraining, let batchesTracked {
            tracked = Int(batchesTracked.value.scalars[0]) + 1
            batchesTracked.value = Tensor(uncheckedShape: [], scalars: [Float(tracked)])
        }
        return try Variable.batchNorm(input, weight: weight, bias: bias, runningMean: runningMean,
                                      runningVar: runningVar, training: isTraining, momentum: momentum,
                                      batchesTracked: tracked, eps: eps)
    }
}

/// An element-wise activation layer (`nn.ReLU`, `nn.GELU`, …).
public final class ActivationLayer: Module {
    public var isTraining = true
    public let activation: Activation
    public init(_ activation: Activation) { self.activation = activation }
    public func callAsFunction(_ input: Variable) throws -> Variable { try input.activated(activation) }
}

/// `nn.ZeroPad`/`ConstantPad`/`ReflectionPad`/`ReplicationPad`/`CircularPad` 1d/2d/3d: ``pad(_:_:mode:value:)`` as a layer.
public final class PadLayer: Module {
    public var isTraining = true
    public let pad: [Int], mode: PadMode, value: Float
    public init(pad: [Int], mode: PadMode = .constant, value: Float = 0) {
        self.pad = pad
        self.mode = mode
        self.value = value
    }
    public func callAsFunction(_ input: Variable) throws -> Variable { try input.padded(pad, mode: mode, value: value) }
}

/// `nn.Dropout(p)`, or with `channelRank` `nn.Dropout1d/2d/3d(p)` (whole channels): active in training only.
public final class Dropout: Module {
    public var isTraining = true
    public let probability: Float
    public let channelRank: Int?
    public init(p: Float = 0.5, channelRank: Int? = nil) throws {
        guard p >= 0, p <= 1 else { throw ConvKitError.invalidArgument(op: "Dropout", "p (\(p)) must lie in [0, 1]") }
        probability = p
        self.channelRank = channelRank
    }
    public func callAsFunction(_ input: Variable) throws -> Variable {
        guard isTraining, probability > 0 else { return input }
        // Channel dropout shares one draw across each channel's spatial plane.
        let plane = channelRank.map { input.shape.suffix($0).reduce(1, *) } ?? 1
        return try GlobalRandom.withGenerator { try input.dropout(probability: probability, sharing: plane, generator: &$0) }
    }
}

/// `nn.Flatten(start_dim=1, end_dim=-1)`.
public final class Flatten: Module {
    public var isTraining = true
    public let startDim: Int, endDim: Int
    public init(startDim: Int = 1, endDim: Int = -1) {
        self.startDim = startDim
        self.endDim = endDim
    }
    public func callAsFunction(_ input: Variable) throws -> Variable { try input.flattened(startDim: startDim, endDim: endDim) }
}

/// `nn.Linear(in_features, out_features)`: `y = x·Wᵀ + b`, weight `[out, in]`.
public final class Linear: Module {
    public var isTraining = true
    public let weight: Variable
    public let bias: Variable?
    public init(inFeatures: Int, outFeatures: Int, bias: Bool = true) throws {
        guard inFeatures >= 0, outFeatures >= 0 else {
            throw ConvKitError.invalidArgument(op: "Linear", "in_features (\(inFeatures)) and out_features (\(outFeatures)) must be non-negative")
        }
        (weight, self.bias) = DefaultInitialization.parameters(weightShape: [outFeatures, inFeatures], bias: bias)
    }
    /// A layer with these parameter values, as constants (``Sequential/foldingBatchNorm()``).
    init(weight: Tensor<Float>, bias: Tensor<Float>?) {
        self.weight = Variable(weight)
        self.bias = bias.map { Variable($0) }
    }
    public var parameters: [(name: String, variable: Variable)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }
    public func callAsFunction(_ input: Variable) throws -> Variable { try Variable.linear(input, weight: weight, bias: bias) }
}
