import Foundation

/// Differentiable operations on ``Variable``s. Each forward pass is a ConvKit op and each
/// pullback is that op's own backward function.
extension Variable {
    /// A convolution (or transposed convolution) prepared by `plan`.
    public static func convolution(_ input: Variable, weight: Variable, bias: Variable?, plan: ConvolutionPlan) throws -> Variable {
        let output = try plan.forward(input.value, weight: weight.value, bias: bias?.value)
        let operands = [input, weight] + (bias.map { [$0] } ?? [])
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
        let pooled = try plan.forward(input.value)
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

    /// An element-wise activation.
    public func activated(_ activation: Activation) -> Variable {
        let input = value
        return Variable.result(activation(input), of: [self]) { [try activation.backward(gradOutput: $0, input: input)] }
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

    /// `log softmax` over the last dimension, computed stably.
    public func logSoftmax() -> Variable {
        let classes = shape.last ?? 1, rows = value.count / max(classes, 1)
        var output = value.scalars
        for r in 0..<rows {
            let row = value.scalars[(r * classes)..<((r + 1) * classes)]
            let top = row.max() ?? 0
            let logSum = top + log(row.reduce(Float(0)) { $0 + exp($1 - top) })
            for c in 0..<classes { output[r * classes + c] = value.scalars[r * classes + c] - logSum }
        }
        return Variable.result(Tensor(uncheckedShape: shape, scalars: output), of: [self]) { g in
            var gradInput = g.scalars
            for r in 0..<rows {
                let sum = g.scalars[(r * classes)..<((r + 1) * classes)].reduce(0, +)
                for c in 0..<classes { gradInput[r * classes + c] -= exp(output[r * classes + c]) * sum }
            }
            return [Tensor(uncheckedShape: g.shape, scalars: gradInput)]
        }
    }
}
