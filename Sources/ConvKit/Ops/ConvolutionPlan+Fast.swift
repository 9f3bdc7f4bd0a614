/// The `Float` fast path of ``ConvolutionPlan``: the planner (which algorithm per layer) and the
/// glue from tensors to ``FastConvolution``. The reference path (`run` / `gradients`) stays the
/// oracle and serves `Double`.
extension ConvolutionPlan {
    /// Picks the algorithm for a correlation (or checks a forced one) and prepares its fast path.
    static func plan(op: String, _ channels: ConvChannels, _ windows: Windows3D,
                     forced: ConvAlgorithm?) throws -> (ConvAlgorithm, FastConvolution?) {
        let shape = ConvShape2D(channels, windows)
        switch FastConvolution.choose(shape, forced: forced) {
        case let .failure(reason):
            throw ConvKitError.invalidArgument(op: op, reason.reason)
        case let .success(algorithm):
            guard algorithm != .reference, let shape else { return (.reference, nil) }
            return (algorithm, FastConvolution(shape: shape, algorithm: algorithm))
        }
    }

    func runFast(_ fast: FastConvolution, _ input: Tensor<Float>, weight: Tensor<Float>,
                 bias: Tensor<Float>?, activation: FusedActivation?) throws -> Tensor<Float> {
        if fast.shape.isEmpty {
            let output = try run(input, weight: weight, bias: bias)
            return activation.map { $0.activation(output) } ?? output
        }
        try checkOperands(input, weight)
        try checkBias(bias)
        let count = outputShape.reduce(1, *)
        let output = [Float](unsafeUninitializedCapacity: count) { y, initialized in
            weight.withUnsafeBufferPointer { w in
                if isTransposed {
                    // This op's output is the correlation's input gradient.
                    input.withUnsafeBufferPointer { x in
                        fast.backwardInput(gradOutput: x.baseAddress!, weight: w.baseAddress!, gradInput: y.baseAddress!)
                    }
                    if let bias {
                        bias.withUnsafeBufferPointer { b in
                            addBiasFast(b.baseAddress!, to: y.baseAddress!, batch: channels.batch,
                                        channels: producedChannels, plane: outputPlane)
                        }
                    }
                    if let activation, let y = y.baseAddress { activation.apply(y, count: count) }
                } else {
                    let x = prePad.map { $0.run(input, value: 0) } ?? input
                    x.withUnsafeBufferPointer { x in
                        withOptionalPointer(bias) { b in
                            fast.forward(input: x.baseAddress!, weight: w.baseAddress!, bias: b, output: y.baseAddress!,
                                         weightStorage: Runtime.cachesPreparedWeights ? weight.scalars : nil,
                                         activation: activation)
                        }
                    }
                }
            }
            initialized = count
        }
        return Tensor(uncheckedShape: outputShape, scalars: output)
    }

    func gradientsFast(_ fast: FastConvolution, gradOutput: Tensor<Float>, input: Tensor<Float>, weight: Tensor<Float>,
                       wrt request: GradientRequest) throws -> ConvGradients {
        let weightTensor = weight
        if fast.shape.isEmpty {
            let (gx, gw, gb) = try gradients(gradOutput: gradOutput, input: input, weight: weight, wrt: request)
            return ConvGradients(input: gx, weight: gw, bias: gb)
        }
        try checkOperands(input, weight)
        try checkShape(gradOutput, outputShape, op: op, argument: "grad_output")
        var result = ConvGradients()
        let weightCount = weightShape.reduce(1, *)
        if isTransposed {
            if request.contains(.input) {
                let gx = [Float](unsafeUninitializedCapacity: input.count) { gx, initialized in
                    gradOutput.withUnsafeBufferPointer { gy in weight.withUnsafeBufferPointer { w in
                        fast.forward(input: gy.baseAddress!, weight: w.baseAddress!, bias: nil, output: gx.baseAddress!,
                                     weightStorage: Runtime.cachesPreparedWeights ? weight.scalars : nil)
                    } }
                    initialized = input.count
                }
                result.input = Tensor(uncheckedShape: inputShape, scalars: gx)
            }
            if request.contains(.weight) {
                let gw = [Float](unsafeUninitializedCapacity: weightCount) { gw, initialized in
                    input.withUnsafeBufferPointer { x in gradOutput.withUnsafeBufferPointer { gy in
                        fast.backwardWeight(gradOutput: x.baseAddress!, input: gy.baseAddress!, gradWeight: gw.baseAddress!)
                    } }
                    initialized = weightCount
                }
                result.weight = Tensor(uncheckedShape: weightShape, scalars: gw)
            }
        } else {
            if request.contains(.input) {
                let paddedShape = prePad?.outputShape ?? inputShape
                let paddedCount = paddedShape.reduce(1, *)
                let gx = [Float](unsafeUninitializedCapacity: paddedCount) { gx, initialized in
                    gradOutput.withUnsafeBufferPointer { gy in weight.withUnsafeBufferPointer { w in
                        fast.backwardInput(gradOutput: gy.baseAddress!, weight: w.baseAddress!, gradInput: gx.baseAddress!)
                    } }
                    initialized = paddedCount
                }
                let padded = Tensor(uncheckedShape: paddedShape, scalars: gx)
                result.input = prePad.map { $0.gradient(padded) } ?? padded
            }
            if request.contains(.weight) {
                let x = prePad.map { $0.run(input, value: 0) } ?? input
                let gw = [Float](unsafeUninitializedCapacity: weightCount) { gw, initialized in
                    x.withUnsafeBufferPointer { x in gradOutput.withUnsafeBufferPointer { gy in
                        fast.backwardWeight(gradOutput: gy.baseAddress!, input: x.baseAddress!, gradWeight: gw.baseAddress!)
                    } }
                    initialized = weightCount
                }
                result.weight = Tensor(uncheckedShape: weightShape, scalars: gw)
            }
        }
        // The fast weight gradients also sum the dropped grid columns, as 0 · input: a non-finite
        // input there would make NaN where the reference has none. Recompute such (rare) results.
        if let weight = result.weight, !allFinite(weight) {
            result.weight = try gradients(gradOutput: gradOutput, input: input, weight: weightTensor, wrt: .weight).1
        }
        if request.contains(.bias), hasBias {
            let sums = [Float](unsafeUninitializedCapacity: outChannels) { b, initialized in
                b.initialize(repeating: 0)
                gradOutput.withUnsafeBufferPointer { gy in
                    biasGradientFast(gy.baseAddress!, into: b.baseAddress!, batch: channels.batch,
                                     channels: producedChannels, plane: outputPlane)
                }
                initialized = outChannels
            }
            result.bias = Tensor(uncheckedShape: [outChannels], scalars: sums)
        }
        return result
    }
}

/// Whether every element is finite: a vectorised sum of `x · 0`, which is NaN exactly when some x
/// is infinite or NaN.
func allFinite(_ tensor: Tensor<Float>) -> Bool {
    tensor.withUnsafeBufferPointer { p in
        var lanes = SIMD8<Float>()
        var i = 0
        let n = p.count
        while i + 8 <= n {
            lanes += UnsafeRawPointer(p.baseAddress! + i).loadUnaligned(as: SIMD8<Float>.self) * 0
            i += 8
        }
        var tail: Float = 0
        while i < n { tail += p[i] * 0; i += 1 }
        return !(lanes.sum() + tail).isNaN
    }
}

/// Calls `body` with the tensor's storage, or with nil.
@inline(__always)
func withOptionalPointer<R>(_ tensor: Tensor<Float>?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let tensor else { return body(nil) }
    return tensor.withUnsafeBufferPointer { body($0.baseAddress) }
}
