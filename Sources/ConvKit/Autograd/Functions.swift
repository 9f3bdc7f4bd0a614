import Foundation

/// Differentiable operations on ``Variable``s. Each forward pass is a ConvKit op and each
/// pullback is that op's own backward function.
extension Variable {
    /// A convolution (or transposed convolution) prepared by `plan`.
    ///
    /// With `fusing`, `relu(conv(x))` or `relu6(conv(x))`: in one pass when no gradient is recorded
    /// (inference), else as the two differentiable steps.
    public static func convolution(_ input: Variable, weight: Variable, bias: Variable?, plan: ConvolutionPlan,
                                   fusing activation: FusedActivation? = nil) throws -> Variable {
        let operands = [input, weight] + (bias.map { [$0] } ?? [])
        let recorded = Autograd.isEnabled && operands.contains(where: \.requiresGrad)
        if let activation {
            if recorded { return try convolution(input, weight: weight, bias: bias, plan: plan).activated(activation.activation) }
            return Variable(try plan.forward(input.value, weight: weight.value, bias: bias?.value, fusing: activation))
        }
        let output = try plan.forward(input.value, weight: weight.value, bias: bias?.value)
        return result(output, of: operands) { gradOutput in
            var request: GradientRequest = []
            if input.requiresGrad { request.insert(.input) }
            if weight.requiresGrad { request.insert(.weight) }
            if bias?.requiresGrad == true { request.insert(.bias) }
            let g = try plan.backward(gradOutput: gradOutput, input: input.value, weight: weight.value, wrt: request)
            return [g.input, g.weight] + (bias == nil ? [] : [g.bias])
        }
    }

    /// Max, average or adaptive pooling prepared by `plan`.
    public static func pooling(_ input: Variable, plan: PoolingPlan) throws -> Variable {
        let pooled = try plan.forward(input.value, returningIndices: Autograd.isEnabled && input.requiresGrad)
        return result(pooled.output, of: [input]) { [try plan.backward(gradOutput: $0, indices: pooled.indices)] }
    }

    /// `x·Wᵀ + b`.
    public static func linear(_ input: Variable, weight: Variable, bias: Variable?) throws -> Variable {
        let output = try ConvKit.linear(input.value, weight: weight.value, bias: bias?.value)
        return result(output, of: [input, weight] + (bias.map { [$0] } ?? [])) { gradOutput in
            var request: GradientRequest = [.weight]
            if input.requiresGrad { request.insert(.input) }
            if bias != nil { request.insert(.bias) }
            let g = try linearBackward(gradOutput: gradOutput, input: input.value, weight: weight.value, wrt: request)
            return [g.input, g.weight] + (bias == nil ? [] : [g.bias])
        }
    }

    /// An activation: element-wise, or `Softmax` / `LogSoftmax` along a dimension.
    public func activated(_ activation: Activation) throws -> Variable {
        switch activation {
        case let .softmax(dim): return try softmax(dim: dim)
        case let .logSoftmax(dim): return try logSoftmax(dim: dim)
        default:
            let input = value
            return Variable.result(activation(input), of: [self]) { [try activation.backward(gradOutput: $0, input: input)] }
        }
    }

    /// The dimension a softmax runs along: `dim` (negative counts from the end), or PyTorch's
    /// legacy choice for `nil` (0 for 0-, 1- and 3-D inputs, else 1).
    private func softmaxDimension(_ dim: Int?) throws -> Int {
        let rank = shape.count
        let chosen = dim.map { $0 < 0 ? $0 + rank : $0 } ?? ([0, 1, 3].contains(rank) ? 0 : 1)
        guard chosen >= 0, chosen < max(rank, 1) else {
            throw ConvKitError.invalidArgument(op: "softmax", "dim (\(dim ?? 0)) is out of range for a tensor of shape \(shape)")
        }
        return chosen
    }

    /// `softmax` along `dim`: `exp(x − logΣexp x)`.
    public func softmax(dim: Int?) throws -> Variable {
        let logs = try logSoftmax(dim: dim)
        let output = Tensor(uncheckedShape: shape, scalars: logs.value.scalars.map { exp($0) })
        let (outer, size, inner) = try strides(for: softmaxDimension(dim))
        return Variable.result(output, of: [self]) { g in
            // ∂x = y ⊙ (g − Σ_dim g ⊙ y)
            var gradInput = g.scalars
            for o in 0..<outer {
                for i in 0..<inner {
                    var dot: Float = 0
                    for k in 0..<size { let at = (o * size + k) * inner + i; dot += g.scalars[at] * output.scalars[at] }
                    for k in 0..<size { let at = (o * size + k) * inner + i; gradInput[at] = output.scalars[at] * (g.scalars[at] - dot) }
                }
            }
            return [Tensor(uncheckedShape: g.shape, scalars: gradInput)]
        }
    }

    /// (elements before, along, after) dimension `dim`.
    private func strides(for dim: Int) -> (Int, Int, Int) {
        guard !shape.isEmpty else { return (1, 1, 1) }
        return (shape[..<dim].reduce(1, *), shape[dim], shape[(dim + 1)...].reduce(1, *))
    }

    /// Batch normalisation; in training, updates `runningMean` / `runningVar`.
    public static func batchNorm(_ input: Variable, weight: Variable?, bias: Variable?,
                                 runningMean: Variable?, runningVar: Variable?, training: Bool,
                                 momentum: Float?, batchesTracked: Int, eps: Float) throws -> Variable {
        var mean = runningMean?.value, variance = runningVar?.value
        let useBatchStatistics = training || mean == nil
        let forward = try BatchNorm.forward(input.value, weight: weight?.value, bias: bias?.value, runningMean: &mean,
                                            runningVar: &variance, training: useBatchStatistics, momentum: momentum,
                                            batchesTracked: batchesTracked, eps: eps)
        if let mean { runningMean?.value = mean }
        if let variance { runningVar?.value = variance }
        let operands = [input] + [weight, bias].compactMap { $0 }
        return result(forward.output, of: operands) { gradOutput in
            let g = try BatchNorm.backward(gradOutput: gradOutput, forward: forward, weight: weight?.value, training: useBatchStatistics)
            return [g.input] + (weight == nil ? [] : [g.weight]) + (bias == nil ? [] : [g.bias])
        }
    }

    /// The same values with another shape (`-1` infers one dimension).
    public func reshaped(_ shape: [Int]) throws -> Variable {
        let original = self.shape
        return Variable.result(try value.reshaped(shape), of: [self]) { [try $0.reshaped(original)] }
    }

    /// Flattens dimensions `startDim…endDim` into one (PyTorch's `nn.Flatten`, default 1…−1).
    public func flattened(startDim: Int = 1, endDim: Int = -1) throws -> Variable {
        let rank = shape.count
        let start = startDim < 0 ? startDim + rank : startDim, end = endDim < 0 ? endDim + rank : endDim
        guard start >= 0, end < rank, start <= end else {
            throw ConvKitError.invalidArgument(op: "flatten", "start_dim (\(startDim)) and end_dim (\(endDim)) must lie within the \(rank) dimensions of shape \(shape) with start ≤ end")
        }
        return try reshaped(Array(shape[..<start]) + [shape[start...end].reduce(1, *)] + Array(shape[(end + 1)...]))
    }

    /// Element-wise sum of two variables of equal shape (residual connections).
    public func adding(_ other: Variable) throws -> Variable {
        guard shape == other.shape else {
            throw ConvKitError.invalidShape(op: "add", "cannot add shapes \(shape) and \(other.shape); they must be equal")
        }
        return Variable.result(value.adding(other.value), of: [self, other]) { [$0, $0] }
    }

    /// `relu(self + other)`: in one pass when no gradient is recorded (inference), else as the two
    /// differentiable steps.
    public func addingWithReLU(_ other: Variable) throws -> Variable {
        guard !(Autograd.isEnabled && (requiresGrad || other.requiresGrad)) else { return try adding(other).activated(.relu) }
        guard shape == other.shape else {
            throw ConvKitError.invalidShape(op: "add", "cannot add shapes \(shape) and \(other.shape); they must be equal")
        }
        return Variable(value.adding(other.value, relu: true))
    }

    /// Concatenates `[N, C_i, …]` variables along the channel dimension.
    public static func concatenated(channels parts: [Variable]) throws -> Variable {
        guard let first = parts.first, first.shape.count >= 2 else {
            throw ConvKitError.invalidShape(op: "cat", "expected at least one input of shape [N, C, …]")
        }
        let batch = first.shape[0], rest = Array(first.shape.dropFirst(2)), plane = rest.reduce(1, *)
        for part in parts where part.shape.count != first.shape.count || part.shape[0] != batch || Array(part.shape.dropFirst(2)) != rest {
            throw ConvKitError.invalidShape(
                op: "cat", "cannot concatenate shapes \(parts.map(\.shape)) along channels: all other sizes must match")
        }
        let channels = parts.map { $0.shape[1] }, total = channels.reduce(0, +)
        var output = [Float](repeating: 0, count: batch * total * plane)
        for n in 0..<batch {
            var offset = 0
            for (part, c) in zip(parts, channels) {
                let source = part.value.scalars[(n * c * plane)..<((n + 1) * c * plane)]
                output.replaceSubrange(((n * total + offset) * plane)..<((n * total + offset + c) * plane), with: source)
                offset += c
            }
        }
        return result(Tensor(uncheckedShape: [batch, total] + rest, scalars: output), of: parts) { gradOutput in
            var offset = 0
            return zip(parts, channels).map { part, c in
                var slice: [Float] = []
                slice.reserveCapacity(batch * c * plane)
                for n in 0..<batch {
                    slice += gradOutput.scalars[((n * total + offset) * plane)..<((n * total + offset + c) * plane)]
                }
                offset += c
                return Tensor(uncheckedShape: part.shape, scalars: slice)
            }
        }
    }

    /// Zeroes each element (or each run of `sharing` consecutive elements) with probability `p`
    /// and scales the rest by `1 / (1 − p)`.
    public func dropout(probability p: Float, sharing: Int = 1, generator: inout RandomGenerator) throws -> Variable {
        guard p >= 0, p <= 1 else {
            throw ConvKitError.invalidArgument(op: "dropout", "probability (\(p)) must lie in [0, 1]")
        }
        let scale: Float = p == 1 ? 0 : 1 / (1 - p)
        let run = max(sharing, 1)
        let draws = (0..<((value.count + run - 1) / run)).map { _ in Float.random(in: 0..<1, using: &generator) < p ? 0 : scale }
        let mask = (0..<value.count).map { draws[$0 / run] }
        let output = Tensor(uncheckedShape: shape, scalars: zip(value.scalars, mask).map(*))
        return Variable.result(output, of: [self]) { g in
            [Tensor(uncheckedShape: g.shape, scalars: zip(g.scalars, mask).map(*))]
        }
    }

    /// `log softmax` along `dim` (default: the last dimension), computed stably:
    /// `x − max − log Σ exp(x − max)`.
    public func logSoftmax(dim: Int? = -1) throws -> Variable {
        let (outer, size, inner) = strides(for: try softmaxDimension(dim))
        var output = value.scalars
        for o in 0..<outer {
            for i in 0..<inner {
                var top = -Float.infinity
                for k in 0..<size { top = max(top, value.scalars[(o * size + k) * inner + i]) }
                var sum: Float = 0
                for k in 0..<size { sum += exp(value.scalars[(o * size + k) * inner + i] - top) }
                let logSum = top + log(sum)
                for k in 0..<size { output[(o * size + k) * inner + i] -= logSum }
            }
        }
        return Variable.result(Tensor(uncheckedShape: shape, scalars: output), of: [self]) { g in
            // ∂x = g − softmax ⊙ Σ_dim g
            var gradInput = g.scalars
            for o in 0..<outer {
                for i in 0..<inner {
                    var sum: Float = 0
                    for k in 0..<size { sum += g.scalars[(o * size + k) * inner + i] }
                    for k in 0..<size { let at = (o * size + k) * inner + i; gradInput[at] -= exp(output[at]) * sum }
                }
            }
            return [Tensor(uncheckedShape: g.shape, scalars: gradInput)]
        }
    }

    /// Pads (or crops) the trailing dimensions as ``pad(_:_:mode:value:)``.
    public func padded(_ pad: [Int], mode: PadMode = .constant, value fill: Float = 0) throws -> Variable {
        let plan = try PadPlan(op: "pad", inputShape: shape, pad: pad, mode: mode)
        return Variable.result(plan.run(value, value: fill), of: [self]) { [plan.gradient($0)] }
    }
}
