/// Which gradients a backward pass should compute.
public struct GradientRequest: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public static let input = GradientRequest(rawValue: 1)
    public static let weight = GradientRequest(rawValue: 2)
    public static let bias = GradientRequest(rawValue: 4)
    public static let all: GradientRequest = [.input, .weight, .bias]
}

/// Gradients of a convolution's loss with respect to its operands (`nil` where not requested).
public struct ConvGradients: Sendable {
    public var input: Tensor<Float>?
    public var weight: Tensor<Float>?
    public var bias: Tensor<Float>?
}

/// A convolution or transposed convolution whose arguments are checked and whose geometry is
/// resolved once: the *prepare* step. ``forward(_:weight:bias:)`` and
/// ``backward(gradOutput:input:weight:wrt:)`` then only compute.
///
/// Output size per spatial dimension (`P_low + P_high = 2·padding` unless asymmetric):
/// - convolution: `O = ⌊(I + P_low + P_high − d·(k − 1) − 1) / s⌋ + 1`
/// - transposed:  `O = (I − 1)·s − P_low − P_high + d·(k − 1) + output_padding + 1`
///
/// Internally both are one cross-correlation and its two adjoints: a transposed convolution's
/// forward pass is the correlation's input gradient, and vice versa.
public struct ConvolutionPlan: Sendable {
    /// The PyTorch name used in messages (`conv2d`, `conv_transpose1d`, …).
    public let op: String
    public let inputShape: [Int]
    public let weightShape: [Int]
    public let outputShape: [Int]
    public let hasBias: Bool
    /// Whether this is a transposed convolution.
    public let isTransposed: Bool
    /// Channels and windows of the underlying correlation (for transposed convolution, its
    /// correlation input is this op's output).
    let channels: ConvChannels
    let windows: Windows3D
    /// For `padding_mode` other than zeros: the explicit padding applied before correlating.
    let prePad: PadPlan?
    /// How `Float` tensors are computed: chosen per layer in `init`, or forced by its `algorithm`
    /// argument. Double-precision paths (gradient checks) always use the reference kernels.
    public let algorithm: ConvAlgorithm
    /// The fast path for ``algorithm`` (nil for `.reference`).
    let fast: FastConvolution?

    /// Prepares `conv1d` / `conv2d` / `conv3d` (`spatialRank` 1, 2, 3), as PyTorch's
    /// `nn.ConvNd` forward: input `[N, C_in, …]` or unbatched `[C_in, …]`, weight
    /// `[C_out, C_in / groups, k…]`, bias `[C_out]`. `algorithm` forces how `Float` tensors are
    /// computed (`nil`: the plan chooses; `.reference`: the reference kernels).
    public init(spatialRank: Int, inputShape: [Int], weightShape: [Int], hasBias: Bool,
                stride: Dims = 1, padding: Padding = 0, dilation: Dims = 1, groups: Int = 1,
                paddingMode: PaddingMode = .zeros, algorithm: ConvAlgorithm? = nil) throws {
        let op = "conv\(spatialRank)d"
        let rank = spatialRank
        let x = try SpatialInput(op: op, shape: inputShape, spatialRank: rank)
        let kernel = try Self.checkWeight(op: op, weightShape: weightShape, rank: rank, groups: groups)
        let outChannels = weightShape[0], inPerGroup = weightShape[1]
        guard outChannels % groups == 0 else {
            throw ConvKitError.invalidArgument(
                op: op, "groups (\(groups)) must divide out_channels (\(outChannels)); weight has shape \(weightShape)")
        }
        guard x.channels % groups == 0 else {
            throw ConvKitError.invalidArgument(op: op, "groups (\(groups)) must divide in_channels (\(x.channels))")
        }
        guard inPerGroup * groups == x.channels else {
            throw ConvKitError.invalidShape(
                op: op, "input has \(x.channels) channels, but weight \(weightShape) with groups=\(groups) expects \(inPerGroup * groups) (weight.shape[1] × groups)")
        }
        let strides = try checked(stride, "stride", op: op, rank: rank)
        let dilations = try checked(dilation, "dilation", op: op, rank: rank)
        guard x.spatial.allSatisfy({ $0 > 0 }) else {
            throw ConvKitError.invalidShape(
                op: op, "only the batch and channel sizes may be zero, but got input of shape \(inputShape)")
        }
        // Non-zero padding modes pad through F.pad, which also crops with negative amounts.
        let (low, high) = try padding.resolve(op: op, input: x.spatial, kernel: kernel, stride: strides, dilation: dilations,
                                              allowsCausal: rank == 1, allowsNegative: paddingMode != .zeros)
        // Non-zero padding modes pad explicitly first (as nn.ConvNd does), then correlate unpadded.
        var prePad: PadPlan?
        var correlated = x.spatial
        if paddingMode != .zeros, zip(low, high).contains(where: { $0 != 0 || $1 != 0 }) {
            let flat = (0..<rank).reversed().flatMap { [low[$0], high[$0]] }
            prePad = try PadPlan(op: op, inputShape: inputShape, pad: flat, mode: PadMode(rawValue: paddingMode.rawValue) ?? .constant)
            correlated = zip(x.spatial, zip(low, high)).map { $0 + $1.0 + $1.1 }
        }
        let windowPad = prePad == nil ? (low, high) : (Array(repeating: 0, count: rank), Array(repeating: 0, count: rank))
        var axes: [WindowAxis] = []
        for i in 0..<rank {
            let span = OutputSize.effectiveKernel(kernel[i], dilation: dilations[i])
            let padded = correlated[i] + windowPad.0[i] + windowPad.1[i]
            guard padded >= span else {
                throw ConvKitError.invalidShape(
                    op: op, "the padded input \(sizeText(zip(correlated, zip(windowPad.0, windowPad.1)).map { $0 + $1.0 + $1.1 })) is smaller than the dilated kernel \(sizeText((0..<rank).map { OutputSize.effectiveKernel(kernel[$0], dilation: dilations[$0]) })) (input \(sizeText(x.spatial)), kernel_size \(sizeText(kernel)), dilation \(sizeText(dilations))); use a smaller kernel or dilation, or more padding")
            }
            let out = OutputSize.convolution(input: correlated[i], kernel: kernel[i], stride: strides[i],
                                             padLow: windowPad.0[i], padHigh: windowPad.1[i], dilation: dilations[i])
            axes.append(WindowAxis(input: correlated[i], output: out, kernel: kernel[i], stride: strides[i],
                                   dilation: dilations[i], padLow: windowPad.0[i], padHigh: windowPad.1[i]))
        }
        self.op = op
        self.inputShape = inputShape
        self.weightShape = weightShape
        self.hasBias = hasBias
        self.isTransposed = false
        self.prePad = prePad
        self.windows = Windows3D(axes)
        // As PyTorch: an input with no channels gives an output with no channels (not the bias).
        let produced = x.channels == 0 ? 0 : outChannels
        self.channels = ConvChannels(batch: x.batch, inChannels: x.channels, outChannels: produced, groups: groups)
        self.outputShape = x.outputShape(channels: produced, spatial: axes.map(\.outputSize))
        (self.algorithm, self.fast) = try Self.plan(op: op, channels, windows, forced: algorithm)
    }

    /// Prepares `conv_transpose1d` / `2d` / `3d`, as PyTorch's: input `[N, C_in, …]` or
    /// unbatched, weight `[C_in, C_out / groups, k…]`, bias `[C_out]`. Each `output_padding`
    /// must be smaller than its stride or its dilation. Padding may be explicit or asymmetric.
    /// `algorithm` forces how `Float` tensors are computed (`nil`: the plan chooses).
    public init(transposedSpatialRank rank: Int, inputShape: [Int], weightShape: [Int], hasBias: Bool,
                stride: Dims = 1, padding: Padding = 0, outputPadding: Dims = 0, groups: Int = 1,
                dilation: Dims = 1, algorithm: ConvAlgorithm? = nil) throws {
        let op = "conv_transpose\(rank)d"
        let x = try SpatialInput(op: op, shape: inputShape, spatialRank: rank)
        let kernel = try Self.checkWeight(op: op, weightShape: weightShape, rank: rank, groups: groups)
        guard weightShape[0] == x.channels else {
            throw ConvKitError.invalidShape(
                op: op, "input has \(x.channels) channels, but weight \(weightShape) expects \(weightShape[0]) (weight.shape[0] = in_channels)")
        }
        guard x.channels % groups == 0 else {
            throw ConvKitError.invalidArgument(op: op, "groups (\(groups)) must divide in_channels (\(x.channels))")
        }
        let outChannels = weightShape[1] * groups
        let strides = try checked(stride, "stride", op: op, rank: rank)
        let dilations = try checked(dilation, "dilation", op: op, rank: rank)
        let outputPaddings = try checked(outputPadding, "output_padding", op: op, rank: rank, minimum: 0)
        for i in 0..<rank where outputPaddings[i] >= strides[i] && outputPaddings[i] >= dilations[i] {
            throw ConvKitError.invalidArgument(
                op: op, "output_padding (\(outputPaddings[i])) must be smaller than either stride (\(strides[i])) or dilation (\(dilations[i])) in dimension \(i); got output_padding=\(outputPadding), stride=\(stride), dilation=\(dilation)")
        }
        guard !padding.isNamed else {
            throw ConvKitError.invalidArgument(
                op: op, "padding=\(padding) is not supported for transposed convolution; give padding as integers (or (low, high) pairs)")
        }
        guard x.spatial.allSatisfy({ $0 > 0 }) else {
            throw ConvKitError.invalidShape(
                op: op, "only the batch and channel sizes may be zero, but got input of shape \(inputShape)")
        }
        let (low, high) = try padding.resolve(op: op, input: x.spatial, kernel: kernel, stride: strides,
                                              dilation: dilations, allowsCausal: false)
        let outputs = (0..<rank).map {
            OutputSize.transposedConvolution(input: x.spatial[$0], kernel: kernel[$0], stride: strides[$0], padLow: low[$0],
                                             padHigh: high[$0], dilation: dilations[$0], outputPadding: outputPaddings[$0])
        }
        guard outputs.allSatisfy({ $0 > 0 }) else {
            throw ConvKitError.invalidShape(
                op: op, "input size \(sizeText(x.spatial)) gives output size \(sizeText(outputs)), which is too small; every output size (I − 1)·stride − 2·padding + dilation·(k − 1) + output_padding + 1 must be ≥ 1 (reduce padding)")
        }
        // The correlation runs from this op's output (its input) to this op's input (its output).
        let axes = (0..<rank).map {
            WindowAxis(input: outputs[$0], output: x.spatial[$0], kernel: kernel[$0], stride: strides[$0],
                       dilation: dilations[$0], padLow: low[$0], padHigh: high[$0])
        }
        self.op = op
        self.inputShape = inputShape
        self.weightShape = weightShape
        self.hasBias = hasBias
        self.isTransposed = true
        self.prePad = nil
        self.windows = Windows3D(axes)
        self.channels = ConvChannels(batch: x.batch, inChannels: outChannels, outChannels: x.channels, groups: groups)
        self.outputShape = x.outputShape(channels: outChannels, spatial: outputs)
        (self.algorithm, self.fast) = try Self.plan(op: op, channels, windows, forced: algorithm)
    }

    /// Checks the weight's rank, groups and kernel sizes; returns the kernel sizes.
    private static func checkWeight(op: String, weightShape: [Int], rank: Int, groups: Int) throws -> [Int] {
        guard weightShape.count == rank + 2 else {
            let layout = op.hasPrefix("conv_transpose") ? "[in_channels, out_channels/groups, \(spatialNames(rank).lowercased())]" : "[out_channels, in_channels/groups, \(spatialNames(rank).lowercased())]"
            throw ConvKitError.invalidShape(
                op: op, "expected a \(rank + 2)-D weight \(layout), but got weight of shape \(weightShape)")
        }
        guard groups > 0 else {
            throw ConvKitError.invalidArgument(op: op, "groups (\(groups)) must be positive")
        }
        let kernel = Array(weightShape[2...])
        let transposed = op.hasPrefix("conv_transpose")
        // PyTorch allows an empty weight only for an empty input channel dimension of a convolution.
        guard kernel.allSatisfy({ $0 > 0 }), !transposed || weightShape[1] > 0 else {
            throw ConvKitError.invalidShape(op: op, "weight of shape \(weightShape) must have non-zero sizes")
        }
        guard weightShape[0] >= groups else {
            throw ConvKitError.invalidShape(
                op: op, "weight.shape[0] (\(weightShape[0])) must be at least groups (\(groups)); weight has shape \(weightShape)")
        }
        return kernel
    }

    /// Output channels (the bias length): `weight.shape[0]`, or `weight.shape[1] × groups` when transposed.
    public var outChannels: Int { isTransposed ? channels.inChannels : weightShape[0] }

    /// Channels the output actually has (0 for an input without channels, as in PyTorch).
    var producedChannels: Int { isTransposed ? channels.inChannels : channels.outChannels }

    /// Runs the convolution. `bias` is required exactly when the plan has one.
    ///
    /// With `fusing`, the result is `relu(conv(x))` or `relu6(conv(x))` computed in the same pass
    /// (each output block is clamped while it is still in cache; NaN stays NaN, as in PyTorch): an
    /// inference fusion, with no gradient of its own.
    public func forward(_ input: Tensor<Float>, weight: Tensor<Float>, bias: Tensor<Float>? = nil,
                        fusing activation: FusedActivation? = nil) throws -> Tensor<Float> {
        if let fast { return try runFast(fast, input, weight: weight, bias: bias, activation: activation) }
        let output = try run(input, weight: weight, bias: bias)
        return activation.map { $0.activation(output) } ?? output
    }

    /// Gradients of the loss with respect to input, weight and bias, given `gradOutput`
    /// (shaped like the output).
    public func backward(gradOutput: Tensor<Float>, input: Tensor<Float>, weight: Tensor<Float>,
                         wrt request: GradientRequest = .all) throws -> ConvGradients {
        if let fast { return try gradientsFast(fast, gradOutput: gradOutput, input: input, weight: weight, wrt: request) }
        let (gradInput, gradWeight, gradBias) = try gradients(gradOutput: gradOutput, input: input, weight: weight, wrt: request)
        return ConvGradients(input: gradInput, weight: gradWeight, bias: gradBias)
    }

    // MARK: Generic implementation (Float for the API, Double for gradient checks)

    func run<T: BinaryFloatingPoint>(_ input: Tensor<T>, weight: Tensor<T>, bias: Tensor<T>?) throws -> Tensor<T> {
        try checkOperands(input, weight)
        try checkBias(bias)
        var output: [T]
        if isTransposed {
            output = correlationBackwardInput(gradOutput: input.scalars, weight: weight.scalars)
        } else {
            output = correlate(prePad.map { $0.run(input, value: 0).scalars } ?? input.scalars, weight.scalars)
        }
        if let bias {
            bias.withUnsafeBufferPointer { b in
                output.withUnsafeMutableBufferPointer {
                    ReferenceConvolution.addBias(b, to: $0, batch: channels.batch, channels: producedChannels, plane: outputPlane)
                }
            }
        }
        return Tensor(uncheckedShape: outputShape, scalars: output)
    }

    func gradients<T: BinaryFloatingPoint>(gradOutput: Tensor<T>, input: Tensor<T>, weight: Tensor<T>,
                                           wrt request: GradientRequest) throws -> (Tensor<T>?, Tensor<T>?, Tensor<T>?) {
        try checkOperands(input, weight)
        try checkShape(gradOutput, outputShape, op: op, argument: "grad_output")
        var gradInput: Tensor<T>?, gradWeight: Tensor<T>?, gradBias: Tensor<T>?
        if isTransposed {
            if request.contains(.input) {
                gradInput = Tensor(uncheckedShape: inputShape, scalars: correlate(gradOutput.scalars, weight.scalars))
            }
            if request.contains(.weight) {
                gradWeight = Tensor(uncheckedShape: weightShape,
                                    scalars: correlationBackwardWeight(gradOutput: input.scalars, input: gradOutput.scalars))
            }
        } else {
            if request.contains(.input) {
                let padded = correlationBackwardInput(gradOutput: gradOutput.scalars, weight: weight.scalars)
                gradInput = prePad.map { $0.gradient(Tensor(uncheckedShape: $0.outputShape, scalars: padded)) }
                    ?? Tensor(uncheckedShape: inputShape, scalars: padded)
            }
            if request.contains(.weight) {
                let x = prePad.map { $0.run(input, value: 0).scalars } ?? input.scalars
                gradWeight = Tensor(uncheckedShape: weightShape,
                                    scalars: correlationBackwardWeight(gradOutput: gradOutput.scalars, input: x))
            }
        }
        if request.contains(.bias), hasBias {
            var sums = [T](repeating: 0, count: outChannels)
            gradOutput.withUnsafeBufferPointer { g in
                sums.withUnsafeMutableBufferPointer {
                    ReferenceConvolution.biasGradient(g, into: $0, batch: channels.batch, channels: producedChannels, plane: outputPlane)
                }
            }
            gradBias = Tensor(uncheckedShape: [outChannels], scalars: sums)
        }
        return (gradInput, gradWeight, gradBias)
    }

    /// Elements per output channel plane.
    var outputPlane: Int { isTransposed ? windows.inputPlane : windows.outputPlane }

    func checkOperands<T>(_ input: Tensor<T>, _ weight: Tensor<T>) throws {
        try checkShape(input, inputShape, op: op, argument: "input")
        try checkShape(weight, weightShape, op: op, argument: "weight")
    }

    func checkBias<T>(_ bias: Tensor<T>?) throws {
        switch (bias, hasBias) {
        case (nil, false): return
        case let (bias?, true): try checkShape(bias, [outChannels], op: op, argument: "bias")
        case (nil, true): throw ConvKitError.invalidArgument(op: op, "this plan was prepared with a bias, but none was given")
        case (_?, false): throw ConvKitError.invalidArgument(op: op, "this plan was prepared without a bias, but one was given")
        }
    }

    // MARK: The correlation and its adjoints on flat storage

    private var correlationInputCount: Int { channels.batch * channels.inChannels * windows.inputPlane }
    private var correlationOutputCount: Int { channels.batch * channels.outChannels * windows.outputPlane }

    private func correlate<T: BinaryFloatingPoint>(_ x: [T], _ w: [T]) -> [T] {
        var y = [T](repeating: 0, count: correlationOutputCount)
        x.withUnsafeBufferPointer { x in w.withUnsafeBufferPointer { w in y.withUnsafeMutableBufferPointer {
            ReferenceConvolution.forward(channels, windows, input: x, weight: w, output: $0)
        } } }
        return y
    }

    private func correlationBackwardInput<T: BinaryFloatingPoint>(gradOutput: [T], weight: [T]) -> [T] {
        var gx = [T](repeating: 0, count: correlationInputCount)
        gradOutput.withUnsafeBufferPointer { g in weight.withUnsafeBufferPointer { w in gx.withUnsafeMutableBufferPointer {
            ReferenceConvolution.backwardInput(channels, windows, gradOutput: g, weight: w, gradInput: $0)
        } } }
        return gx
    }

    private func correlationBackwardWeight<T: BinaryFloatingPoint>(gradOutput: [T], input: [T]) -> [T] {
        var gw = [T](repeating: 0, count: weightShape.reduce(1, *))
        gradOutput.withUnsafeBufferPointer { g in input.withUnsafeBufferPointer { x in gw.withUnsafeMutableBufferPointer {
            ReferenceConvolution.backwardWeight(channels, windows, gradOutput: g, input: x, gradWeight: $0)
        } } }
        return gw
    }
}
