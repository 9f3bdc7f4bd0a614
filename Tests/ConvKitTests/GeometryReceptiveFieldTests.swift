import ConvKit
import Testing

/// The receptive-field recursion (Araujo et al. 2019) on the seeds' tables, against the
/// gradient support of single output units computed by ConvKit's own backward passes, and the
/// branch merge with its misalignment report.
@Suite("Geometry: receptive field")
struct GeometryReceptiveFieldTests {
    /// `(k, s, d)` layers with no padding, as the seeds' `receptive_field(layers)` exercise.
    static func sizes(_ layers: [(Int, Int, Int)]) throws -> [Int] {
        var field = ReceptiveField.input(rank: 1)
        return try layers.map { layer in
            field = try field.appending(kernel: [layer.0], stride: [layer.1], dilation: [layer.2])
            return field.size[0]
        }
    }

    @Test("seed tables: 3×3 stacks, dilated 1-2-4, WaveNet, MNIST pipeline")
    func seedTables() throws {
        #expect(try Self.sizes(Array(repeating: (3, 1, 1), count: 7)) == [3, 5, 7, 9, 11, 13, 15])  // E010, E043, E086a
        #expect(try Self.sizes(Array(repeating: (3, 1, 1), count: 10)).last == 21)  // E059
        #expect(try Self.sizes([(3, 1, 1), (3, 1, 2), (3, 1, 4)]) == [3, 7, 15])  // E011
        #expect(try Self.sizes([(2, 1, 1), (2, 1, 2), (2, 1, 4), (2, 1, 8)]) == [2, 4, 8, 16])  // E044
        #expect(try Self.sizes((0..<10).map { (2, 1, 1 << $0) }) == (1...10).map { 1 << $0 })  // E045: 1024
        #expect(try Self.sizes([(3, 1, 1), (2, 2, 1), (3, 1, 1), (2, 2, 1)]) == [3, 4, 8, 10])  // MNIST pipeline
    }

    @Test("seed E047 quick check: conv3, conv3, pool2, conv3, conv3 has RF 14 (the widget's formula says 11)")
    func seed_rf_quickcheck_14() throws {
        let stack = [(3, 1, 1), (3, 1, 1), (2, 2, 1), (3, 1, 1), (3, 1, 1)]
        #expect(try Self.sizes(stack) == [3, 5, 6, 10, 14])
        // The widget's "RF_n = RF_{n−1} + (k − 1) × stride" uses the layer's own stride: wrong once a stride precedes.
        let widget = stack.reduce(into: [1]) { $0.append($0.last! + ($1.0 - 1) * $1.1) }.dropFirst()
        #expect(Array(widget) == [3, 5, 7, 9, 11])
    }

    @Test("effective stride and padding: ResNet-18 stem and the output interval of a unit")
    func strideAndPadding() throws {
        var field = ReceptiveField.input(rank: 2)
        field = try field.appending(kernel: [7], stride: [2], padLow: [3])  // conv1
        #expect(field.size == [7, 7] && field.stride == [2, 2] && field.padding == [3, 3])
        field = try field.appending(kernel: [3], stride: [2], padLow: [1])  // max pool
        #expect(field.size == [11, 11] && field.stride == [4, 4] && field.padding == [5, 5])
        // Unit (0, 0) sees [−5, 5]; unit (10, 2) sees [35, 45] × [3, 13].
        #expect(field.inputInterval(ofOutput: [0, 0]) == [-5...5, -5...5])
        #expect(field.inputInterval(ofOutput: [10, 2]) == [35...45, 3...13])
        #expect(field.centre == [0, 0])
        // Global pooling covers the whole 56×56 map: r + 55·S.
        let pooled = field.appendingAdaptivePool(inputSize: [56, 56], outputSize: [1, 1])
        #expect(pooled?.size == [231, 231] && pooled?.padding == [5, 5])
        // Adaptive pooling with regular windows is ordinary pooling; otherwise no (r, S, P) describes it.
        #expect(field.appendingAdaptivePool(inputSize: [56, 56], outputSize: [7, 7])?.stride == [32, 32])
        #expect(field.appendingAdaptivePool(inputSize: [56, 56], outputSize: [5, 5])?.stride == [44, 44])  // k 12, s 11
        #expect(field.appendingAdaptivePool(inputSize: [56, 56], outputSize: [6, 6]) == nil)  // starts 0, 9, 18, 28, …
        let x = ReceptiveField.input(rank: 1)
        #expect(x.appendingAdaptivePool(inputSize: [7], outputSize: [3]) == (try x.appending(kernel: [3], stride: [2])))  // [0,3) [2,5) [4,7)
        #expect(x.appendingAdaptivePool(inputSize: [10], outputSize: [4]) == nil)  // starts 0, 2, 5, 7
        #expect(x.appendingAdaptivePool(inputSize: [3], outputSize: [6]) == nil)  // windows overlap irregularly
        #expect(x.appendingAdaptivePool(inputSize: [5], outputSize: [5]) == x)  // identity
        #expect(throws: ConvKitError.self) { try field.appending(kernel: [3, 3, 3], stride: [1]) }
    }

    /// A 1-D layer for the gradient-support check.
    enum Layer {
        case conv(kernel: Int, stride: Int, dilation: Int, padding: Int)
        case avgPool(kernel: Int, stride: Int, padding: Int)
        case convTranspose(kernel: Int, dilation: Int, padding: Int)
    }

    /// The input positions that output unit `unit` of the last layer depends on: the bounding box
    /// of the non-zero input gradient when every weight is 1 (no cancellation).
    static func gradientSupport(_ layers: [Layer], input: Int, unit: Int) throws -> ClosedRange<Int>? {
        var shapes = [[1, 1, input]]
        var plans: [(ConvolutionPlan?, PoolingPlan?)] = []
        for layer in layers {
            let shape = shapes.last!
            switch layer {
            case let .conv(k, s, d, p):
                let plan = try ConvolutionPlan(spatialRank: 1, inputShape: shape, weightShape: [1, 1, k], hasBias: false,
                                               stride: Dims([s]), padding: Padding.explicit([p]), dilation: Dims([d]))
                plans.append((plan, nil))
                shapes.append(plan.outputShape)
            case let .convTranspose(k, d, p):
                let plan = try ConvolutionPlan(transposedSpatialRank: 1, inputShape: shape, weightShape: [1, 1, k], hasBias: false,
                                               padding: Padding.explicit([p]), dilation: Dims([d]))
                plans.append((plan, nil))
                shapes.append(plan.outputShape)
            case let .avgPool(k, s, p):
                let plan = try PoolingPlan(avgPoolSpatialRank: 1, inputShape: shape, kernelSize: Dims([k]), stride: Dims([s]),
                                           padding: Padding.explicit([p]))
                plans.append((nil, plan))
                shapes.append(plan.outputShape)
            }
        }
        guard unit < shapes.last![2] else { return nil }
        var gradient = try Tensor<Float>(shape: shapes.last!, scalars: (0..<shapes.last![2]).map { $0 == unit ? 1 : 0 })
        for (index, plan) in plans.enumerated().reversed() {
            if let conv = plan.0 {
                let zeros = try Tensor<Float>(shape: shapes[index], scalars: Array(repeating: 0, count: shapes[index].reduce(1, *)))
                let ones = try Tensor<Float>(shape: conv.weightShape, scalars: Array(repeating: 1, count: conv.weightShape.reduce(1, *)))
                gradient = try conv.backward(gradOutput: gradient, input: zeros, weight: ones, wrt: .input).input!
            } else if let pool = plan.1 {
                gradient = try pool.backward(gradOutput: gradient)
            }
        }
        let touched = gradient.scalars.indices.filter { gradient.scalars[$0] != 0 }
        guard let first = touched.first, let last = touched.last else { return nil }
        return first...last
    }

    static func recursion(_ layers: [Layer]) throws -> ReceptiveField {
        var field = ReceptiveField.input(rank: 1)
        for layer in layers {
            switch layer {
            case let .conv(k, s, d, p): field = try field.appending(kernel: [k], stride: [s], dilation: [d], padLow: [p])
            case let .avgPool(k, s, p): field = try field.appending(kernel: [k], stride: [s], padLow: [p])
            case let .convTranspose(k, d, p):
                field = try #require(field.appendingTransposedConvolution(kernel: [k], stride: [1], dilation: [d], padLow: [p]))
            }
        }
        return field
    }

    static let stacks: [[Layer]] = [
        [.conv(kernel: 3, stride: 1, dilation: 1, padding: 1), .conv(kernel: 3, stride: 2, dilation: 1, padding: 1),
         .conv(kernel: 3, stride: 1, dilation: 1, padding: 1), .avgPool(kernel: 2, stride: 2, padding: 0),
         .conv(kernel: 5, stride: 1, dilation: 2, padding: 4)],
        [.conv(kernel: 7, stride: 2, dilation: 1, padding: 3), .avgPool(kernel: 3, stride: 2, padding: 1),
         .conv(kernel: 3, stride: 2, dilation: 1, padding: 1), .conv(kernel: 1, stride: 2, dilation: 1, padding: 0)],
        [.conv(kernel: 2, stride: 1, dilation: 1, padding: 0), .conv(kernel: 2, stride: 1, dilation: 2, padding: 0),
         .conv(kernel: 2, stride: 1, dilation: 4, padding: 0), .conv(kernel: 2, stride: 1, dilation: 8, padding: 0)],
        [.conv(kernel: 4, stride: 3, dilation: 1, padding: 2), .convTranspose(kernel: 3, dilation: 2, padding: 1),
         .conv(kernel: 3, stride: 2, dilation: 3, padding: 0)],
    ]

    @Test("the recursion equals the gradient support of every unit inside the input", arguments: stacks.indices)
    func recursionMatchesGradientSupport(stack: Int) throws {
        let layers = Self.stacks[stack]
        let field = try Self.recursion(layers)
        let input = 160
        var checked = 0
        for unit in 0..<60 {
            let expected = field.dimensions[0].inputInterval(ofOutput: unit)
            guard expected.lowerBound >= 0, expected.upperBound < input,
                  let support = try Self.gradientSupport(layers, input: input, unit: unit) else { continue }
            #expect(support == expected, "unit \(unit)")
            checked += 1
        }
        #expect(checked >= 3)
    }

    @Test("branches: a ResNet basic block and its downsampling version are aligned")
    func residualAligned() throws {
        let x = try ReceptiveField(size: [7], stride: [2], padding: [3])
        let body = try x.appending(kernel: [3], stride: [1], padLow: [1]).appending(kernel: [3], stride: [1], padLow: [1])
        let merge = ReceptiveField.merging([body, x])
        #expect(merge.isAligned && merge.field == body)
        let down = try x.appending(kernel: [3], stride: [2], padLow: [1]).appending(kernel: [3], stride: [1], padLow: [1])
        let shortcut = try x.appending(kernel: [1], stride: [2])
        let merged = ReceptiveField.merging([down, shortcut])
        #expect(merged.isAligned)
        #expect(merged.field == (try ReceptiveField(size: [19], stride: [4], padding: [9])))
    }

    @Test("branches: ASPP's dilated 3×3 branches with padding = dilation are aligned; r, P are the maxima")
    func asppAligned() throws {
        let x = ReceptiveField.input(rank: 2)
        let branches = try [x.appending(kernel: [1], stride: [1])] + [6, 12, 18].map {
            try x.appending(kernel: [3], stride: [1], dilation: [$0], padLow: [$0])
        }
        let merge = ReceptiveField.merging(branches)
        #expect(merge.isAligned && merge.stridesAgree)
        #expect(merge.field?.size == [37, 37] && merge.field?.padding == [18, 18] && merge.field?.stride == [1, 1])
    }

    @Test("branches: misalignment is reported (even kernel, causal WaveNet block)")
    func misaligned() throws {
        let x = ReceptiveField.input(rank: 1)
        let even = ReceptiveField.merging([try x.appending(kernel: [2], stride: [1]), x])
        #expect(!even.isAligned && even.misalignedDimensions == [0])
        #expect(even.field?.size == [2] && even.field?.padding == [0])
        #expect(even.description.contains("centres (r − 1)/2 − P are branch 0: [0.5]; branch 1: [0]"))
        // A causal residual block: the body looks back d·(k − 1) positions, the shortcut does not.
        let causal = try x.appending(kernel: [2], stride: [1], dilation: [4], padLow: [4])
        let block = ReceptiveField.merging([causal, x])
        #expect(!block.isAligned)
        #expect(block.field == (try ReceptiveField(size: [5], stride: [1], padding: [4])))
        #expect(block.field?.inputInterval(ofOutput: [10]) == [6...10])  // unit t sees only inputs ≤ t
        // Misaligned in one dimension of two.
        let wide = try ReceptiveField.input(rank: 2).appending(kernel: [3, 2], stride: [1], padLow: [1, 0])
        #expect(ReceptiveField.merging([wide, .input(rank: 2)]).misalignedDimensions == [1])
    }

    @Test("branches: disagreeing effective strides have no merged field")
    func stridesDisagree() throws {
        let x = ReceptiveField.input(rank: 1)
        let merge = ReceptiveField.merging([try x.appending(kernel: [1], stride: [2]), try x.appending(kernel: [5], stride: [1])])
        #expect(!merge.stridesAgree && merge.field == nil)
        #expect(merge.description.contains("different effective strides"))
        // A globally pooled and broadcast branch (S = 0) next to a dense one.
        let pooled = try #require(x.appendingAdaptivePool(inputSize: [33], outputSize: [1])).appendingBroadcast()
        #expect(pooled.stride == [0] && pooled.size == [33])
        #expect(pooled.inputInterval(ofOutput: [5]) == [0...32])
        #expect(ReceptiveField.merging([x, pooled]).field == nil)
    }

    @Test("transposed convolution: stride 1 is a convolution with low padding d(k − 1) − p; stride > 1 has no field")
    func transposed() throws {
        let x = ReceptiveField.input(rank: 1)
        let field = x.appendingTransposedConvolution(kernel: [3], stride: [1], dilation: [1], padLow: [0])
        #expect(field == (try ReceptiveField(size: [3], stride: [1], padding: [2])))
        #expect(x.appendingTransposedConvolution(kernel: [4], stride: [2], dilation: [1], padLow: [1]) == nil)
    }
}
