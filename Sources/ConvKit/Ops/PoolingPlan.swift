/// The output of a pooling op: values, and for max pooling the argmax of each window
/// (flat index within its `[D·]H·W` input plane, as PyTorch's `return_indices`).
public struct PoolingResult: Sendable {
    public var output: Tensor<Float>
    public var indices: Tensor<Int>?
}

/// A max, average or adaptive pooling op whose arguments are checked and whose windows are
/// resolved once (the prepare step); ``forward(_:)`` and ``backward(gradOutput:indices:)`` compute.
///
/// Output size per spatial dimension:
/// - max/avg: `O = ⌊(I + 2p − d·(k − 1) − 1 + (ceil_mode ? s − 1 : 0)) / s⌋ + 1`, minus one
///   if `ceil_mode` would start the last window in the right padding;
/// - adaptive: `O` is given; window `o` covers `[⌊o·I/O⌋, ⌈(o + 1)·I/O⌉)`.
public struct PoolingPlan: Sendable {
    enum Reduction: Sendable, Equatable {
        case max
        case average(AvgDivisor)
    }

    /// The PyTorch name used in messages (`max_pool2d`, `adaptive_avg_pool1d`, …).
    public let op: String
    public let inputShape: [Int]
    public let outputShape: [Int]
    let reduction: Reduction
    let planes: Int
    let windows: Windows3D
    /// The fast `Float` path (nil: the reference kernels, e.g. adaptive or 3-D pooling).
    let fast: FastPooling?

    /// Prepares `max_pool1d/2d/3d`. `stride` defaults to `kernelSize`; padding (each side at most
    /// half the kernel) pads with −∞. Beyond PyTorch, `padding` may be `.same` (TensorFlow rule)
    /// or asymmetric.
    public init(maxPoolSpatialRank rank: Int, inputShape: [Int], kernelSize: Dims, stride: Dims? = nil,
                padding: Padding = 0, dilation: Dims = 1, ceilMode: Bool = false) throws {
        try self.init(op: "max_pool\(rank)d", rank: rank, inputShape: inputShape, kernelSize: kernelSize, stride: stride,
                      padding: padding, dilation: dilation, ceilMode: ceilMode, reduction: .max)
    }

    /// Prepares `avg_pool1d/2d/3d`. With `countIncludePad`, windows divide by their size clipped
    /// to the padded input; otherwise by the number of input elements; `divisorOverride`
    /// replaces both.
    public init(avgPoolSpatialRank rank: Int, inputShape: [Int], kernelSize: Dims, stride: Dims? = nil,
                padding: Padding = 0, ceilMode: Bool = false, countIncludePad: Bool = true,
                divisorOverride: Int? = nil) throws {
        let op = "avg_pool\(rank)d"
        if let divisorOverride, divisorOverride == 0 {
            throw ConvKitError.invalidArgument(op: op, "divisor_override must be non-zero, but got 0")
        }
        let divisor: AvgDivisor = divisorOverride.map { .fixed($0) } ?? (countIncludePad ? .includePadding : .validCount)
        try self.init(op: op, rank: rank, inputShape: inputShape, kernelSize: kernelSize, stride: stride,
                      padding: padding, dilation: 1, ceilMode: ceilMode, reduction: .average(divisor))
    }

    private init(op: String, rank: Int, inputShape: [Int], kernelSize: Dims, stride: Dims?, padding: Padding,
                 dilation: Dims, ceilMode: Bool, reduction: Reduction) throws {
        let x = try SpatialInput(op: op, shape: inputShape, spatialRank: rank)
        try x.requireNonEmpty(op: op, shape: inputShape)
        let kernel = try checked(kernelSize, "kernel_size", op: op, rank: rank)
        let strides = try stride.map { try checked($0, "stride", op: op, rank: rank) } ?? kernel
        let dilations = try checked(dilation, "dilation", op: op, rank: rank)
        if case .causal = padding {
            throw ConvKitError.invalidArgument(op: op, "padding='causal' is only defined for conv1d")
        }
        if case .average = reduction, rank == 3, padding != .same, zip(x.spatial, kernel).contains(where: { $0 < $1 }) {
            // avg_pool3d (only) requires the unpadded input to hold a whole kernel.
            throw ConvKitError.invalidShape(
                op: op, "input size \(sizeText(x.spatial)) is smaller than kernel_size \(sizeText(kernel)); avg_pool3d needs every input size ≥ its kernel size (padding does not count)")
        }
        let (low, high) = try padding.resolve(op: op, input: x.spatial, kernel: kernel, stride: strides,
                                              dilation: dilations, allowsCausal: false)
        // ('same' is an extension: its TensorFlow padding may exceed half a dilated kernel.)
        for i in 0..<rank where padding != .same && max(low[i], high[i]) > kernel[i] / 2 {
            throw ConvKitError.invalidArgument(
                op: op, "padding (\(padding)) must be at most half of kernel_size (\(kernelSize)) in every dimension; got \(max(low[i], high[i])) > \(kernel[i]) / 2 in dimension \(i)")
        }
        let outputs = (0..<rank).map {
            OutputSize.pooling(input: x.spatial[$0], kernel: kernel[$0], stride: strides[$0], padLow: low[$0],
                               padHigh: high[$0], dilation: dilations[$0], ceilMode: ceilMode)
        }
        guard outputs.allSatisfy({ $0 >= 1 }) else {
            throw ConvKitError.invalidShape(
                op: op, "input size \(sizeText(x.spatial)) gives output size \(sizeText(outputs)), which is too small; with kernel_size \(sizeText(kernel)), stride \(sizeText(strides)), padding \(padding), dilation \(sizeText(dilations)) every output size must be ≥ 1")
        }
        let axes = (0..<rank).map {
            WindowAxis(input: x.spatial[$0], output: outputs[$0], kernel: kernel[$0], stride: strides[$0],
                       dilation: dilations[$0], padLow: low[$0], padHigh: high[$0])
        }
        self.init(op: op, x: x, inputShape: inputShape, axes: axes, reduction: reduction)
    }

    /// Prepares `adaptive_max_pool1d/2d/3d` (`max: true`) or `adaptive_avg_pool1d/2d/3d`.
    /// `outputSize` has one entry per spatial dimension (or one for all); `nil` keeps that
    /// dimension's input size. Outputs larger than the input are allowed (windows overlap).
    public init(adaptiveSpatialRank rank: Int, max: Bool, inputShape: [Int], outputSize: [Int?]) throws {
        let op = "adaptive_\(max ? "max" : "avg")_pool\(rank)d"
        let x = try SpatialInput(op: op, shape: inputShape, spatialRank: rank)
        // As PyTorch: adaptive_avg_pool1d/2d accept empty channels; the max pools and 3-D do not.
        guard x.spatial.allSatisfy({ $0 > 0 }), (!max && rank < 3) || x.channels > 0 else {
            throw ConvKitError.invalidShape(
                op: op, "expected input with non-zero \((!max && rank < 3) ? "" : "channel and ")spatial sizes, but got shape \(inputShape)")
        }
        let sizes = outputSize.count == 1 ? Array(repeating: outputSize[0], count: rank) : outputSize
        let sizeText = "[" + outputSize.map { $0.map(String.init) ?? "None" }.joined(separator: ", ") + "]"
        guard sizes.count == rank else {
            throw ConvKitError.invalidArgument(
                op: op, "output_size must have 1 or \(rank) entries, but got output_size=\(sizeText)")
        }
        let outputs = zip(sizes, x.spatial).map { $0 ?? $1 }
        guard outputs.allSatisfy({ $0 >= 0 }) else {
            throw ConvKitError.invalidArgument(op: op, "output_size entries must be non-negative, but got output_size=\(sizeText)")
        }
        let axes = zip(x.spatial, outputs).map { WindowAxis(adaptiveInput: $0, output: $1) }
        self.init(op: op, x: x, inputShape: inputShape, axes: axes, reduction: max ? .max : .average(.validCount))
    }

    private init(op: String, x: SpatialInput, inputShape: [Int], axes: [WindowAxis], reduction: Reduction) {
        self.op = op
        self.inputShape = inputShape
        self.reduction = reduction
        self.planes = x.batch * x.channels
        self.windows = Windows3D(axes)
        self.outputShape = x.outputShape(channels: x.channels, spatial: axes.map(\.outputSize))
        let adaptive = axes.contains { $0.stride == 0 }
        self.fast = adaptive ? nil : FastPooling(planes: planes, windows: windows, reduction: reduction)
    }

    var isMax: Bool { reduction == .max }

    /// Pools `input`; max pooling also returns the argmax indices unless `returningIndices` is
    /// false (inference: the fast kernel then skips the argmax bookkeeping).
    public func forward(_ input: Tensor<Float>, returningIndices: Bool = true) throws -> PoolingResult {
        // (Empty tensors take the reference path: it needs no buffers.)
        if let fast, input.count > 0, outputShape.reduce(1, *) > 0 {
            return try runFast(fast, input, returningIndices: returningIndices)
        }
        let (output, indices) = try run(input)
        return PoolingResult(output: output, indices: returningIndices ? indices : nil)
    }

    /// The gradient with respect to the input. Max pooling needs the `indices` its forward pass returned.
    public func backward(gradOutput: Tensor<Float>, indices: Tensor<Int>? = nil) throws -> Tensor<Float> {
        if let fast, gradOutput.count > 0, inputShape.reduce(1, *) > 0 { return try gradientFast(fast, gradOutput, indices: indices) }
        return try gradient(gradOutput, indices: indices)
    }

    func run<T: BinaryFloatingPoint>(_ input: Tensor<T>) throws -> (Tensor<T>, Tensor<Int>?) {
        try checkShape(input, inputShape, op: op, argument: "input")
        let count = outputShape.reduce(1, *)
        var output = [T](repeating: 0, count: count)
        switch reduction {
        case .max:
            var indices = [Int](repeating: 0, count: count)
            input.withUnsafeBufferPointer { x in output.withUnsafeMutableBufferPointer { y in indices.withUnsafeMutableBufferPointer {
                ReferencePooling.maxForward(planes: planes, windows, input: x, output: y, indices: $0)
            } } }
            return (Tensor(uncheckedShape: outputShape, scalars: output), Tensor(uncheckedShape: outputShape, scalars: indices))
        case let .average(divisor):
            input.withUnsafeBufferPointer { x in output.withUnsafeMutableBufferPointer {
                ReferencePooling.avgForward(planes: planes, windows, divisor: divisor, input: x, output: $0)
            } }
            return (Tensor(uncheckedShape: outputShape, scalars: output), nil)
        }
    }

    /// The indices a max pooling's forward pass returned, checked against this plan.
    func checkedIndices(_ indices: Tensor<Int>?) throws -> Tensor<Int> {
        guard let indices else {
            throw ConvKitError.invalidArgument(op: op, "the backward pass of max pooling needs the indices of the forward pass")
        }
        try checkShape(indices, outputShape, op: op, argument: "indices")
        let inputPlane = windows.inputPlane
        if let bad = indices.scalars.first(where: { $0 < 0 || $0 >= inputPlane }) {
            throw ConvKitError.invalidArgument(op: op, "index \(bad) is outside the input plane of \(inputPlane) elements")
        }
        return indices
    }

    func gradient<T: BinaryFloatingPoint>(_ gradOutput: Tensor<T>, indices: Tensor<Int>?) throws -> Tensor<T> {
        try checkShape(gradOutput, outputShape, op: op, argument: "grad_output")
        var gradInput = [T](repeating: 0, count: inputShape.reduce(1, *))
        switch reduction {
        case .max:
            let indices = try checkedIndices(indices)
            let inputPlane = windows.inputPlane
            gradOutput.withUnsafeBufferPointer { g in indices.withUnsafeBufferPointer { i in gradInput.withUnsafeMutableBufferPointer {
                ReferencePooling.maxBackward(planes: planes, inputPlane: inputPlane, outputPlane: windows.outputPlane,
                                             gradOutput: g, indices: i, gradInput: $0)
            } } }
        case let .average(divisor):
            gradOutput.withUnsafeBufferPointer { g in gradInput.withUnsafeMutableBufferPointer {
                ReferencePooling.avgBackward(planes: planes, windows, divisor: divisor, gradOutput: g, gradInput: $0)
            } }
        }
        return Tensor(uncheckedShape: inputShape, scalars: gradInput)
    }
}
