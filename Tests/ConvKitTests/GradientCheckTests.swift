@testable import ConvKit
import Testing

/// Every backward pass checked against central finite differences of its own forward pass,
/// in Double, on small cases: the loss is `L = Σ y · g` for a fixed random `g`.
@Suite("Finite-difference gradients (Double)")
struct GradientCheckTests {
    /// Numeric `∂L/∂inputs[k]` for each input.
    static func numericGradients(_ inputs: [Tensor<Double>], _ gradOutput: Tensor<Double>,
                                 _ forward: ([Tensor<Double>]) throws -> Tensor<Double>) throws -> [Tensor<Double>] {
        let h = 1e-6
        func loss(_ values: [Tensor<Double>]) throws -> Double {
            zip(try forward(values).scalars, gradOutput.scalars).reduce(0) { $0 + $1.0 * $1.1 }
        }
        return try inputs.indices.map { k in
            var gradient = [Double](repeating: 0, count: inputs[k].count)
            for i in 0..<inputs[k].count {
                var plus = inputs, minus = inputs
                plus[k] = Tensor(uncheckedShape: inputs[k].shape, scalars: inputs[k].scalars.enumerated().map { $0 == i ? $1 + h : $1 })
                minus[k] = Tensor(uncheckedShape: inputs[k].shape, scalars: inputs[k].scalars.enumerated().map { $0 == i ? $1 - h : $1 })
                gradient[i] = (try loss(plus) - loss(minus)) / (2 * h)
            }
            return Tensor(uncheckedShape: inputs[k].shape, scalars: gradient)
        }
    }

    static func expectClose(_ analytic: Tensor<Double>?, _ numeric: Tensor<Double>, _ label: String) {
        guard let analytic else { Issue.record("\(label): no analytic gradient"); return }
        #expect(analytic.shape == numeric.shape, "\(label): shape")
        let scale = max(numeric.scalars.map(abs).max() ?? 0, 1e-9)
        let error = analytic.maxAbsDifference(numeric) ?? .infinity
        #expect(error <= 1e-6 * scale + 1e-9, "\(label): analytic vs numeric differ by \(error) (scale \(scale))")
    }

    struct ConvCase: CustomTestStringConvertible, Sendable {
        let rank: Int, input: [Int], weight: [Int]
        var stride: Dims = 1, padding: Padding = 0, dilation: Dims = 1, groups = 1
        var mode: PaddingMode = .zeros, transposed = false, outputPadding: Dims = 0
        var testDescription: String {
            "\(transposed ? "conv_transpose" : "conv")\(rank)d in \(input) w \(weight) s \(stride) p \(padding) d \(dilation) g \(groups) \(mode)"
        }
    }

    static let convCases: [ConvCase] = [
        ConvCase(rank: 1, input: [2, 3, 7], weight: [4, 3, 3], stride: 2, padding: 1),
        ConvCase(rank: 1, input: [1, 2, 6], weight: [2, 1, 2], padding: .causal, dilation: 2, groups: 2),
        ConvCase(rank: 2, input: [2, 4, 5, 6], weight: [6, 2, 3, 2], stride: [2, 1], padding: [1, 0], dilation: [1, 2], groups: 2),
        ConvCase(rank: 2, input: [1, 3, 5, 5], weight: [3, 1, 3, 3], padding: .same, groups: 3),
        ConvCase(rank: 2, input: [1, 2, 6, 5], weight: [3, 2, 3, 3], stride: 2, padding: .same),
        ConvCase(rank: 2, input: [1, 2, 4, 5], weight: [2, 2, 3, 3], padding: 2, mode: .reflect),
        ConvCase(rank: 2, input: [1, 2, 4, 5], weight: [2, 2, 2, 3], padding: [1, 2], mode: .replicate),
        ConvCase(rank: 2, input: [1, 2, 4, 5], weight: [2, 2, 3, 3], padding: .asymmetric(low: [2, 0], high: [1, 3]), mode: .circular),
        ConvCase(rank: 3, input: [1, 2, 3, 4, 3], weight: [2, 2, 2, 3, 2], stride: [1, 2, 1], padding: 1),
        ConvCase(rank: 1, input: [2, 4, 5], weight: [4, 3, 3], stride: 2, padding: 1, groups: 2, transposed: true, outputPadding: 1),
        ConvCase(rank: 2, input: [1, 2, 3, 4], weight: [2, 3, 3, 2], stride: [2, 1], padding: [1, 0], dilation: [1, 2],
                 transposed: true, outputPadding: [1, 1]),
        ConvCase(rank: 3, input: [1, 2, 2, 3, 2], weight: [2, 1, 2, 2, 3], stride: 2, groups: 2, transposed: true),
    ]

    @Test("convolution input, weight and bias gradients", arguments: convCases)
    func convolution(_ c: ConvCase) throws {
        var random = RandomGenerator(seed: 7)
        let x: Tensor<Double> = random.tensor(c.input), w: Tensor<Double> = random.tensor(c.weight)
        let plan = c.transposed
            ? try ConvolutionPlan(transposedSpatialRank: c.rank, inputShape: c.input, weightShape: c.weight, hasBias: true,
                                  stride: c.stride, padding: c.padding, outputPadding: c.outputPadding, groups: c.groups,
                                  dilation: c.dilation)
            : try ConvolutionPlan(spatialRank: c.rank, inputShape: c.input, weightShape: c.weight, hasBias: true, stride: c.stride,
                                  padding: c.padding, dilation: c.dilation, groups: c.groups, paddingMode: c.mode)
        let b: Tensor<Double> = random.tensor([plan.outChannels])
        let g: Tensor<Double> = random.tensor(plan.outputShape)
        let numeric = try Self.numericGradients([x, w, b], g) { try plan.run($0[0], weight: $0[1], bias: $0[2]) }
        let (gx, gw, gb) = try plan.gradients(gradOutput: g, input: x, weight: w, wrt: .all)
        Self.expectClose(gx, numeric[0], "input")
        Self.expectClose(gw, numeric[1], "weight")
        Self.expectClose(gb, numeric[2], "bias")
    }

    @Test("pad gradients", arguments: PadMode.allCases)
    func padding(_ mode: PadMode) throws {
        var random = RandomGenerator(seed: 11)
        let x: Tensor<Double> = random.tensor([2, 2, 4, 5])
        let pads = mode == .constant ? [2, -1, 1, 3] : [2, 1, 1, 3]
        let plan = try PadPlan(op: "pad", inputShape: x.shape, pad: pads, mode: mode)
        let g: Tensor<Double> = random.tensor(plan.outputShape)
        let numeric = try Self.numericGradients([x], g) { plan.run($0[0], value: 0.5) }
        Self.expectClose(plan.gradient(g), numeric[0], "input")
    }

    @Test("pooling gradients")
    func pooling() throws {
        let plans = [
            try PoolingPlan(maxPoolSpatialRank: 2, inputShape: [2, 2, 6, 7], kernelSize: 3, stride: 2, padding: 1, ceilMode: true),
            try PoolingPlan(maxPoolSpatialRank: 1, inputShape: [1, 3, 9], kernelSize: 2, stride: 2, padding: 1, dilation: 2),
            try PoolingPlan(avgPoolSpatialRank: 2, inputShape: [2, 2, 6, 7], kernelSize: 3, stride: 2, padding: 1, ceilMode: true,
                            countIncludePad: false),
            try PoolingPlan(avgPoolSpatialRank: 3, inputShape: [1, 2, 4, 5, 3], kernelSize: [2, 3, 2], padding: 1, divisorOverride: 5),
            try PoolingPlan(adaptiveSpatialRank: 2, max: false, inputShape: [1, 2, 5, 7], outputSize: [3, 4]),
            try PoolingPlan(adaptiveSpatialRank: 3, max: true, inputShape: [1, 2, 4, 5, 3], outputSize: [3, nil, 2]),
        ]
        var random = RandomGenerator(seed: 13)
        for plan in plans {
            // Distinct values: max pooling is differentiable away from ties.
            let x: Tensor<Double> = random.tensor(plan.inputShape)
            let g: Tensor<Double> = random.tensor(plan.outputShape)
            let (_, indices) = try plan.run(x)
            let numeric = try Self.numericGradients([x], g) { try plan.run($0[0]).0 }
            Self.expectClose(try plan.gradient(g, indices: indices), numeric[0], plan.op)
        }
    }

    @Test("unfold and fold gradients")
    func unfoldFold() throws {
        var random = RandomGenerator(seed: 17)
        let unfold = try FoldPlan(unfoldInputShape: [2, 2, 5, 6], kernelSize: [2, 3], dilation: [2, 1], padding: 1, stride: [1, 2])
        let x: Tensor<Double> = random.tensor(unfold.imageShape)
        let gx: Tensor<Double> = random.tensor(unfold.columnsShape)
        Self.expectClose(try unfold.image(of: gx), try Self.numericGradients([x], gx) { try unfold.columns(of: $0[0]) }[0], "unfold")
        let fold = try FoldPlan(foldInputShape: unfold.columnsShape, outputSize: [5, 6], kernelSize: [2, 3], dilation: [2, 1],
                                padding: 1, stride: [1, 2])
        let gy: Tensor<Double> = random.tensor(fold.imageShape)
        Self.expectClose(try fold.columns(of: gy), try Self.numericGradients([gx], gy) { try fold.image(of: $0[0]) }[0], "fold")
    }
}
