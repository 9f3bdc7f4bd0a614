/// Batch normalisation over the channel dimension of `[N, C]` or `[N, C, spatial…]`, as
/// PyTorch's `F.batch_norm`:
///
///     y = γ · (x − μ) / √(σ² + ε) + β
///
/// In training, μ and σ² are the batch statistics (biased variance) and the running
/// statistics move by `momentum` toward them (unbiased variance); in evaluation the running
/// statistics are used.
public struct BatchNormResult: Sendable {
    public var output: Tensor<Float>
    /// `(x − μ) / √(σ² + ε)`, kept for the backward pass.
    public var normalized: Tensor<Float>
    /// `1 / √(σ² + ε)` per channel.
    public var inverseStd: [Float]
}

public enum BatchNorm {
    /// (batch, channels, elements per channel and sample) of an input shape.
    static func layout(_ shape: [Int], channels: Int) throws -> (Int, Int, Int) {
        guard shape.count >= 2, shape[1] == channels else {
            throw ConvKitError.invalidShape(
                op: "batch_norm", "expected input [N, \(channels), …] with \(channels) channels (num_features), but got shape \(shape)")
        }
        return (shape[0], shape[1], shape.dropFirst(2).reduce(1, *))
    }

    /// Normalises `input`; in training updates `runningMean` / `runningVar` (if given) in place.
    /// `momentum` nil means a cumulative average over `batchesTracked` batches.
    public static func forward(_ input: Tensor<Float>, weight: Tensor<Float>?, bias: Tensor<Float>?,
                               runningMean: inout Tensor<Float>?, runningVar: inout Tensor<Float>?,
                               training: Bool, momentum: Float?, batchesTracked: Int, eps: Float) throws -> BatchNormResult {
        let channels = weight?.count ?? runningMean?.count ?? (input.shape.count > 1 ? input.shape[1] : 0)
        let (batch, _, plane) = try layout(input.shape, channels: channels)
        let count = batch * plane
        var mean = [Float](repeating: 0, count: channels), variance = mean
        if training {
            guard count > 1 else {
                throw ConvKitError.invalidShape(
                    op: "batch_norm", "expected more than 1 value per channel when training, but got input of shape \(input.shape)")
            }
            for c in 0..<channels {
                var sum: Double = 0, squares: Double = 0
                for n in 0..<batch {
                    let base = (n * channels + c) * plane
                    for i in 0..<plane { sum += Double(input.scalars[base + i]) }
                }
                let mu = sum / Double(count)
                for n in 0..<batch {
                    let base = (n * channels + c) * plane
                    for i in 0..<plane {
                        let d = Double(input.scalars[base + i]) - mu
                        squares += d * d
                    }
                }
                mean[c] = Float(mu)
                variance[c] = Float(squares / Double(count))
            }
            let factor = momentum ?? 1 / Float(max(batchesTracked, 1))
            let unbias = Float(count) / Float(count - 1)
            if var rm = runningMean, var rv = runningVar {
                for c in 0..<channels {
                    rm[c] = (1 - factor) * rm[c] + factor * mean[c]
                    rv[c] = (1 - factor) * rv[c] + factor * variance[c] * unbias
                }
                runningMean = rm
                runningVar = rv
            }
        } else {
            guard let rm = runningMean, let rv = runningVar else {
                throw ConvKitError.invalidArgument(op: "batch_norm", "evaluation needs running statistics (track_running_stats=True)")
            }
            mean = rm.scalars
            variance = rv.scalars
        }
        let inverseStd = variance.map { 1 / ($0 + eps).squareRoot() }
        var normalized = [Float](repeating: 0, count: input.count), output = normalized
        for n in 0..<batch {
            for c in 0..<channels {
                let base = (n * channels + c) * plane
                let gamma = weight?.scalars[c] ?? 1, beta = bias?.scalars[c] ?? 0
                for i in 0..<plane {
                    let xhat = (input.scalars[base + i] - mean[c]) * inverseStd[c]
                    normalized[base + i] = xhat
                    output[base + i] = gamma * xhat + beta
                }
            }
        }
        return BatchNormResult(output: Tensor(uncheckedShape: input.shape, scalars: output),
                               normalized: Tensor(uncheckedShape: input.shape, scalars: normalized), inverseStd: inverseStd)
    }

    /// Gradients with respect to input, weight (γ) and bias (β). In training the batch
    /// statistics depend on the input; in evaluation they are constants.
    public static func backward(gradOutput: Tensor<Float>, forward: BatchNormResult, weight: Tensor<Float>?,
                                training: Bool) throws -> ConvGradients {
        let channels = forward.inverseStd.count
        let (batch, _, plane) = try layout(gradOutput.shape, channels: channels)
        try checkShape(gradOutput, forward.normalized.shape, op: "batch_norm", argument: "grad_output")
        let count = Float(batch * plane)
        var gradGamma = [Float](repeating: 0, count: channels), gradBeta = gradGamma
        for n in 0..<batch {
            for c in 0..<channels {
                let base = (n * channels + c) * plane
                for i in 0..<plane {
                    gradBeta[c] += gradOutput.scalars[base + i]
                    gradGamma[c] += gradOutput.scalars[base + i] * forward.normalized.scalars[base + i]
                }
            }
        }
        var gradInput = [Float](repeating: 0, count: gradOutput.count)
        for n in 0..<batch {
            for c in 0..<channels {
                let base = (n * channels + c) * plane
                let scale = (weight?.scalars[c] ?? 1) * forward.inverseStd[c]
                for i in 0..<plane {
                    let g = gradOutput.scalars[base + i]
                    gradInput[base + i] = training
                        ? scale * (g - gradBeta[c] / count - forward.normalized.scalars[base + i] * gradGamma[c] / count)
                        : scale * g
                }
            }
        }
        return ConvGradients(input: Tensor(uncheckedShape: gradOutput.shape, scalars: gradInput),
                             weight: weight == nil ? nil : Tensor(uncheckedShape: [channels], scalars: gradGamma),
                             bias: Tensor(uncheckedShape: [channels], scalars: gradBeta))
    }
}
