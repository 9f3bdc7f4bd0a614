/// Loss functions (mean reduction, as PyTorch's defaults).
public enum Loss {
    /// Cross-entropy of `logits [N, C]` against class `labels`, with PyTorch's label smoothing:
    /// `L = mean_n [ −(1 − ε)·log p[n, y_n] − (ε / C)·Σ_c log p[n, c] ]`, `p = softmax(logits)`.
    public static func crossEntropy(_ logits: Variable, labels: [Int], labelSmoothing: Float = 0) throws -> Variable {
        guard (0...1).contains(labelSmoothing) else {
            throw ConvKitError.invalidArgument(op: "cross_entropy", "label_smoothing (\(labelSmoothing)) must lie in [0, 1]")
        }
        let classes = try checkTargets(logits.shape, labels, op: "cross_entropy")
        let logProbabilities = try logits.logSoftmax(dim: 1)
        let uniform = labelSmoothing / Float(classes)
        let weights = labels.flatMap { label in
            (0..<classes).map { c in -(uniform + (c == label ? 1 - labelSmoothing : 0)) / Float(labels.count) }
        }
        return weightedSum(logProbabilities, weights: weights)
    }

    /// Negative log-likelihood of `logProbabilities [N, C]`: `L = −mean_n log p[n, y_n]`.
    public static func nll(_ logProbabilities: Variable, labels: [Int]) throws -> Variable {
        let classes = try checkTargets(logProbabilities.shape, labels, op: "nll_loss")
        let weights = labels.flatMap { label in (0..<classes).map { $0 == label ? -1 / Float(labels.count) : 0 } }
        return weightedSum(logProbabilities, weights: weights)
    }

    /// Mean squared error: `L = mean (x − t)²`.
    public static func mse(_ prediction: Variable, target: Tensor<Float>) throws -> Variable {
        try checkShape(target, prediction.shape, op: "mse_loss", argument: "target")
        let difference = zip(prediction.value.scalars, target.scalars).map { $0 - $1 }
        let count = Float(max(difference.count, 1))
        let loss = difference.reduce(0) { $0 + $1 * $1 } / count
        return Variable.result(Tensor(uncheckedShape: [], scalars: [loss]), of: [prediction]) { g in
            [Tensor(uncheckedShape: prediction.shape, scalars: difference.map { 2 * $0 / count * g.scalars[0] })]
        }
    }

    /// `Σ w·x` as a scalar variable.
    private static func weightedSum(_ x: Variable, weights: [Float]) -> Variable {
        let total = zip(x.value.scalars, weights).reduce(Float(0)) { $0 + $1.0 * $1.1 }
        return Variable.result(Tensor(uncheckedShape: [], scalars: [total]), of: [x]) { g in
            [Tensor(uncheckedShape: x.shape, scalars: weights.map { $0 * g.scalars[0] })]
        }
    }

    private static func checkTargets(_ shape: [Int], _ labels: [Int], op: String) throws -> Int {
        guard shape.count == 2, shape[0] == labels.count, shape[0] > 0 else {
            throw ConvKitError.invalidShape(op: op, "expected input [N, C] with N = \(labels.count) labels, but got shape \(shape)")
        }
        if let bad = labels.first(where: { $0 < 0 || $0 >= shape[1] }) {
            throw ConvKitError.invalidArgument(op: op, "target \(bad) is out of bounds for \(shape[1]) classes")
        }
        return shape[1]
    }
}
