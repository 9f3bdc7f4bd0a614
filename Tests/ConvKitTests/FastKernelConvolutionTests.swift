@testable import ConvKit
import Testing

/// The fast convolution paths against the reference kernels (`algorithm: .reference`), forward and
/// all three gradients, on every instruction set this CPU has, over shapes that cross the tile
/// boundaries (channel counts around the GEMM's MR rows, widths and position counts around its NR
/// columns and the window kernels' vector blocks, K and position blocks), every stride, dilation,
/// group and padding kind; and bitwise-identical results for 1, 2 and 3 threads.
@Suite("Fast convolution kernels")
struct FastKernelConvolutionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var rank = 2
        var input: [Int]
        var weight: [Int]
        var stride: Dims = 1
        var padding: Padding = 0
        var dilation: Dims = 1
        var groups = 1
        var mode: PaddingMode = .zeros
        var transposed = false
        var outputPadding: Dims = 0
        var algorithm: ConvAlgorithm? = nil

        var testDescription: String {
            "\(transposed ? "conv_transpose" : "conv")\(rank)d x\(input) w\(weight) s\(stride) p\(padding) d\(dilation) g\(groups)"
                + (mode == .zeros ? "" : " \(mode)") + (algorithm.map { " \($0)" } ?? "")
        }

        func plan(_ algorithm: ConvAlgorithm?) throws -> ConvolutionPlan {
            if transposed {
                return try ConvolutionPlan(transposedSpatialRank: rank, inputShape: input, weightShape: weight, hasBias: true,
                                           stride: stride, padding: padding, outputPadding: outputPadding, groups: groups,
                                           dilation: dilation, algorithm: algorithm)
            }
            return try ConvolutionPlan(spatialRank: rank, inputShape: input, weightShape: weight, hasBias: true, stride: stride,
                                       padding: padding, dilation: dilation, groups: groups, paddingMode: mode, algorithm: algorithm)
        }
    }

    /// Hand-picked boundary cases.
    static let edges: [Case] = [
        // GEMM rows (MR = 6 or 8) and K blocks (K = 24·9 = 216 > one block).
        Case(input: [1, 24, 9, 10], weight: [13, 24, 3, 3], padding: 1),
        Case(input: [2, 3, 17, 16], weight: [7, 3, 3, 3], padding: 1),
        Case(input: [1, 5, 8, 33], weight: [1, 5, 3, 3], padding: 1),
        // Several row blocks of A (M > 128) and groups of column tiles per work item.
        Case(input: [1, 4, 30, 33], weight: [140, 4, 3, 3], padding: 1),
        Case(input: [1, 8, 31, 33], weight: [140, 8, 1, 1]),
        // B panels gathered per column tile (≥ 4 row tiles), with stride phases, dilation and a
        // partial last tile (batch 2).
        Case(input: [2, 6, 7, 9], weight: [25, 6, 3, 3], stride: 2, padding: 1),
        Case(input: [1, 16, 9, 9], weight: [24, 16, 3, 3], padding: 2, dilation: 2),
        // Small maps with ≥ 64 output channels: positions as GEMM rows (PositionRowsGemm), across
        // K blocks, images and stride phases, and a 1×1.
        Case(input: [1, 64, 7, 7], weight: [64, 64, 3, 3], padding: 1),
        Case(input: [3, 8, 13, 13], weight: [96, 8, 3, 3], stride: 2, padding: 1),
        Case(input: [1, 8, 7, 7], weight: [64, 8, 1, 1]),
        // … large maps of several row blocks per image, and a partial column tile (40 channels).
        Case(input: [2, 5, 21, 23], weight: [32, 5, 5, 5], padding: 2),
        Case(input: [1, 3, 37, 35], weight: [48, 3, 7, 7], stride: 2, padding: 3),
        Case(input: [2, 8, 4, 4], weight: [40, 8, 3, 3], padding: 1),
        // Position blocks of the weight gradient (> 512 positions), stride phases.
        Case(input: [1, 4, 26, 30], weight: [5, 4, 3, 3], padding: 1),
        Case(input: [2, 4, 23, 21], weight: [6, 4, 3, 3], stride: 2, padding: 1),
        Case(input: [1, 3, 29, 31], weight: [8, 3, 7, 7], stride: 2, padding: 3),
        Case(input: [1, 4, 13, 14], weight: [4, 4, 3, 3], stride: 3, padding: 2, dilation: 2),
        Case(input: [1, 8, 11, 11], weight: [8, 8, 3, 3], padding: 2, dilation: 2),
        Case(input: [3, 6, 7, 9], weight: [9, 2, 3, 3], padding: 1, groups: 3),
        Case(input: [1, 8, 6, 6], weight: [16, 1, 3, 3], padding: 1, groups: 8),
        Case(input: [2, 5, 5, 7], weight: [5, 5, 5, 2], padding: .same),
        Case(input: [1, 3, 6, 7], weight: [4, 3, 3, 3], padding: .asymmetric(low: [2, 0], high: [0, 3])),
        Case(input: [1, 3, 6, 7], weight: [4, 3, 3, 3], padding: 2, mode: .reflect),
        Case(input: [1, 3, 6, 7], weight: [4, 3, 2, 3], padding: [1, 2], mode: .circular),
        Case(input: [1, 3, 2, 3], weight: [4, 3, 2, 2], stride: 3, padding: 2),
        Case(input: [1, 2, 1, 1], weight: [3, 2, 3, 3], stride: 2, padding: 1),
        Case(input: [1, 2, 3, 2], weight: [3, 2, 3, 3], stride: 2, padding: 1),
        Case(input: [1, 2, 3, 2], weight: [2, 1, 3, 3], stride: 2, padding: 1, groups: 2),
        Case(input: [1, 2, 5, 3], weight: [3, 2, 1, 1], stride: 2, padding: 1),
        // Pointwise: positions around NR, the last tile read past the tensor's end.
        Case(input: [1, 7, 1, 1], weight: [6, 7, 1, 1]),
        Case(input: [2, 9, 3, 5], weight: [13, 9, 1, 1]),
        Case(input: [3, 4, 4, 8], weight: [7, 4, 1, 1]),
        Case(input: [1, 17, 5, 7], weight: [5, 17, 1, 1], groups: 1),
        Case(input: [2, 6, 4, 9], weight: [6, 3, 1, 1], groups: 2),
        Case(input: [1, 8, 9, 9], weight: [12, 8, 1, 1], stride: 2),
        // Depthwise: row lengths around the vector blocks (32 and 64 floats), strides, multipliers.
        Case(input: [1, 3, 4, 65], weight: [3, 1, 3, 3], padding: 1, groups: 3),
        Case(input: [2, 2, 9, 33], weight: [2, 1, 3, 3], stride: 2, padding: 1, groups: 2),
        Case(input: [1, 2, 10, 12], weight: [4, 1, 3, 3], stride: 3, padding: 1, groups: 2),
        Case(input: [1, 3, 8, 17], weight: [6, 1, 5, 5], padding: 4, dilation: 2, groups: 3),
        Case(input: [1, 4, 7, 7], weight: [4, 1, 1, 1], groups: 4),
        Case(input: [1, 4, 7, 7], weight: [4, 1, 3, 3], padding: .same, groups: 4, mode: .reflect),
        Case(input: [1, 4, 7, 8], weight: [4, 1, 2, 4], stride: [2, 1], padding: .asymmetric(low: [0, 2], high: [1, 1]), groups: 4),
        Case(input: [1, 4, 7, 8], weight: [4, 1, 3, 3], padding: 1, groups: 4, algorithm: .gemm),
        // Depthwise 3×3 read in place, stride 1: widths at one and two vectors (4, 8, 16 lanes), odd
        // widths, top padding 0, right padding 0 and 3 (columns past the row), a multiplier.
        Case(input: [1, 2, 5, 8], weight: [2, 1, 3, 3], padding: 1, groups: 2),
        Case(input: [2, 3, 7, 17], weight: [6, 1, 3, 3], padding: 1, groups: 3),
        Case(input: [1, 2, 6, 16], weight: [2, 1, 3, 3], padding: .asymmetric(low: [0, 1], high: [2, 0]), groups: 2),
        Case(input: [1, 2, 4, 9], weight: [2, 1, 3, 3], padding: .asymmetric(low: [1, 1], high: [1, 3]), groups: 2),
    ] + flatDepthwise + [
        // Stride 2: output widths at one and two vectors, odd widths (the last column alone),
        // inputs narrower than two vectors, top padding 0, extra right padding, a multiplier.
        Case(input: [1, 3, 11, 16], weight: [3, 1, 3, 3], stride: 2, padding: 1, groups: 3),
        Case(input: [2, 2, 12, 31], weight: [4, 1, 3, 3], stride: 2, padding: 1, groups: 2),
        Case(input: [1, 2, 5, 15], weight: [2, 1, 3, 3], stride: 2, padding: 1, groups: 2),
        Case(input: [1, 2, 9, 34], weight: [2, 1, 3, 3], stride: 2, padding: .asymmetric(low: [0, 1], high: [2, 3]),
             groups: 2),
        Case(input: [1, 2, 6, 66], weight: [2, 1, 3, 3], stride: 2, padding: 1, groups: 2),
        Case(input: [1, 3, 9, 28], weight: [3, 1, 3, 3], stride: 2, padding: 1, groups: 3),
        // 1-D and transposed.
        Case(rank: 1, input: [2, 3, 40], weight: [5, 3, 3], stride: 2, padding: 1),
        Case(rank: 1, input: [1, 2, 19], weight: [2, 1, 4], padding: .causal, dilation: 2, groups: 2),
        Case(rank: 1, input: [1, 4, 33], weight: [4, 1, 3], padding: 1, groups: 4),
        Case(input: [1, 4, 5, 6], weight: [4, 3, 3, 3], stride: 2, padding: 1, transposed: true, outputPadding: 1),
        Case(input: [2, 4, 4, 5], weight: [4, 2, 4, 3], stride: [2, 3], padding: [1, 0], groups: 2, transposed: true),
        Case(input: [1, 3, 6, 5], weight: [3, 1, 3, 3], stride: 2, padding: 1, groups: 3, transposed: true),
        Case(input: [1, 2, 3, 4], weight: [2, 3, 3, 2], stride: [2, 1], padding: [1, 0], dilation: [1, 2], transposed: true,
             outputPadding: [1, 1]),
    ]

    /// Depthwise 3 × 3, stride 1, padding 1 all round, rows narrower than a vector: each plane read
    /// as one run (16, 8 or 4 lanes). Mask periods from 1 to 15 vectors, planes of exactly one
    /// vector and a partial last vector, planes below one vector (a narrower level's run), runs of
    /// planes across images (batch 2), a multiplier (one plane a call).
    static let flatDepthwise: [Case] = [
        Case(input: [2, 3, 14, 14], weight: [3, 1, 3, 3], padding: 1, groups: 3),
        Case(input: [1, 4, 7, 7], weight: [4, 1, 3, 3], padding: 1, groups: 4),
        Case(input: [1, 2, 5, 15], weight: [2, 1, 3, 3], padding: 1, groups: 2),
        Case(input: [2, 2, 2, 8], weight: [2, 1, 3, 3], padding: 1, groups: 2),
        Case(input: [1, 2, 3, 3], weight: [2, 1, 3, 3], padding: 1, groups: 2),
        Case(input: [1, 2, 6, 1], weight: [2, 1, 3, 3], padding: 1, groups: 2),
        Case(input: [1, 2, 6, 6], weight: [4, 1, 3, 3], padding: 1, groups: 2),
        Case(input: [2, 5, 9, 12], weight: [5, 1, 3, 3], padding: 1, groups: 5),
    ]

    /// Seeded random configurations over the same boundaries.
    static let random: [Case] = {
        var rng = RandomGenerator(seed: 0xC0FFEE)
        func pick<T>(_ values: [T]) -> T { values[Int(rng.next() % UInt64(values.count))] }
        var cases: [Case] = []
        while cases.count < 60 {
            let depthwise = cases.count % 3 == 2
            let groups = depthwise ? pick([1, 2, 3, 5]) : pick([1, 1, 1, 2, 3])
            let inPer = depthwise ? 1 : pick([1, 2, 3, 5, 8])
            let outPer = depthwise ? pick([1, 1, 2]) : pick([1, 2, 5, 6, 7, 13])
            let k = [pick([1, 2, 3, 3, 5]), pick([1, 2, 3, 3, 5])]
            let c = Case(input: [pick([1, 1, 2, 3]), inPer * groups, pick([1, 2, 5, 8, 9]), pick([1, 3, 7, 8, 15, 16, 17, 31, 33])],
                         weight: [outPer * groups, inPer, k[0], k[1]],
                         stride: [pick([1, 1, 2, 3]), pick([1, 1, 2, 3])], padding: pick([0, 1, 2, .same]),
                         dilation: [pick([1, 1, 2]), pick([1, 1, 2])], groups: groups)
            if (try? c.plan(nil)) != nil { cases.append(c) }
        }
        return cases
    }()

    static func check(_ c: Case, isa: InstructionSet, threads: Int = 2) throws {
        var rng = RandomGenerator(seed: 42)
        let reference = try c.plan(.reference)
        let x: Tensor<Float> = rng.tensor(c.input)
        let w: Tensor<Float> = rng.tensor(c.weight)
        let b: Tensor<Float> = rng.tensor([reference.outChannels])
        let g: Tensor<Float> = rng.tensor(reference.outputShape)
        let expected = try reference.forward(x, weight: w, bias: b)
        let expectedGradients = try reference.backward(gradOutput: g, input: x, weight: w)
        try Runtime.$override.withValue(.init(threadCount: threads, instructionSet: isa)) {
            let plan = try c.plan(c.algorithm)
            #expect(plan.algorithm != .reference, "\(c.testDescription): expected a fast path")
            let y = try plan.forward(x, weight: w, bias: b)
            let gradients = try plan.backward(gradOutput: g, input: x, weight: w)
            let label = "\(c.testDescription) [\(isa), \(plan.algorithm)]"
            expectClose(y, expected, "\(label) forward")
            // The fused epilogues are exactly the activation of the same pass. ReLU6 with the bias
            // spread over ±6, so that results fall below 0, inside [0, 6] and above 6.
            let fused = try plan.forward(x, weight: w, bias: b, fusing: .relu)
            #expect(fused == Activation.relu(y), "\(label): fused ReLU differs from relu(forward)")
            let b6 = try Tensor(shape: b.shape, scalars: b.scalars.map { $0 * 6 })
            let fused6 = try plan.forward(x, weight: w, bias: b6, fusing: .relu6)
            #expect(fused6 == Activation.relu6(try plan.forward(x, weight: w, bias: b6)), "\(label): fused ReLU6 differs from relu6(forward)")
            expectClose(gradients.input, expectedGradients.input, "\(label) grad input")
            expectClose(gradients.weight, expectedGradients.weight, "\(label) grad weight")
            expectClose(gradients.bias, expectedGradients.bias, "\(label) grad bias")
        }
    }

    static func expectClose(_ actual: Tensor<Float>?, _ expected: Tensor<Float>?, _ label: String) {
        guard let actual, let expected else {
            #expect(actual == nil && expected == nil, "\(label): missing result")
            return
        }
        #expect(actual.shape == expected.shape, "\(label): shape \(actual.shape) vs \(expected.shape)")
        let error = actual.maxAbsDifference(expected) ?? .infinity
        let scale = max(expected.scalars.map(abs).max() ?? 0, 1)
        #expect(error <= 2e-5 * scale, "\(label): differs from the reference by \(error) (scale \(scale))")
    }

    @Test("boundary cases match the reference on every instruction set", arguments: edges)
    func boundaries(_ c: Case) throws {
        for isa in Runtime.availableInstructionSets { try Self.check(c, isa: isa) }
    }

    @Test("random cases match the reference on every instruction set", arguments: random)
    func randomCases(_ c: Case) throws {
        for isa in Runtime.availableInstructionSets { try Self.check(c, isa: isa, threads: 3) }
    }

    @Test("1, 2 and 3 threads give bitwise-identical results",
          arguments: Array(edges.prefix(12)) + Array(random.prefix(12)) + flatDepthwise.prefix(2))
    func threadCounts(_ c: Case) throws {
        var rng = RandomGenerator(seed: 7)
        let shapes = try c.plan(.reference)
        let x: Tensor<Float> = rng.tensor(c.input)
        let w: Tensor<Float> = rng.tensor(c.weight)
        let b: Tensor<Float> = rng.tensor([shapes.outChannels])
        let g: Tensor<Float> = rng.tensor(shapes.outputShape)
        var results: [[Tensor<Float>]] = []
        for threads in [1, 2, 3] {
            try Runtime.$override.withValue(.init(threadCount: threads)) {
                let plan = try c.plan(c.algorithm)
                let y = try plan.forward(x, weight: w, bias: b)
                let gradients = try plan.backward(gradOutput: g, input: x, weight: w)
                results.append([y, gradients.input!, gradients.weight!, gradients.bias!])
            }
        }
        for t in 1..<results.count {
            for (index, name) in ["forward", "grad input", "grad weight", "grad bias"].enumerated() {
                #expect(results[t][index].scalars == results[0][index].scalars,
                        "\(c.testDescription): \(name) with \(t + 1) threads differs from 1 thread")
            }
        }
    }

    @Test("an infinite input outside every window does not reach the weight gradient",
          arguments: [(4, 1, ConvAlgorithm.gemm), (2, 2, .depthwise)])
    func nonFiniteOutsideWindows(_ channels: Int, _ groups: Int, _ algorithm: ConvAlgorithm) throws {
        // 3×3, stride 2, no padding, width 6: input column 5 is in no window (but in the fast
        // paths' dropped grid columns).
        var rng = RandomGenerator(seed: 3)
        var x: Tensor<Float> = rng.tensor([1, 2, 5, 6])
        x.withUnsafeMutableBufferPointer { $0[5] = .infinity; $0[41] = -.infinity }
        let shape = [channels, 2 / groups, 3, 3]
        let w: Tensor<Float> = rng.tensor(shape)
        let fast = try ConvolutionPlan(spatialRank: 2, inputShape: x.shape, weightShape: w.shape, hasBias: false, stride: 2,
                                       groups: groups, algorithm: algorithm)
        let reference = try ConvolutionPlan(spatialRank: 2, inputShape: x.shape, weightShape: w.shape, hasBias: false, stride: 2,
                                            groups: groups, algorithm: .reference)
        let g: Tensor<Float> = rng.tensor(fast.outputShape)
        let expected = try reference.backward(gradOutput: g, input: x, weight: w, wrt: .weight).weight!
        let actual = try fast.backward(gradOutput: g, input: x, weight: w, wrt: .weight).weight!
        #expect(expected.scalars.allSatisfy { $0.isFinite })
        Self.expectClose(actual, expected, "\(algorithm) weight gradient")
    }

    static let winogradCases = [([1, 16, 12, 12], 8, 1), ([2, 3, 9, 10], 5, 1), ([1, 64, 8, 13], 6, 0), ([1, 128, 6, 6], 4, 1),
                                ([3, 5, 4, 4], 7, 0), ([1, 2, 17, 33], 3, 1), ([1, 3, 1, 1], 2, 1), ([1, 3, 2, 3], 2, 1),
                                ([1, 3, 3, 5], 2, 0),
                                // Rows of 4 (or 2, 8) tiles paired into one vector, with an odd last row
                                // (F(2×2): 7×7 and 8×8 maps are rows of 4 tiles).
                                ([1, 16, 14, 14], 8, 1), ([2, 16, 13, 15], 8, 1), ([1, 8, 10, 16], 4, 1), ([1, 16, 6, 6], 4, 1),
                                ([1, 8, 28, 30], 3, 1), ([1, 20, 7, 7], 13, 1), ([2, 9, 8, 8], 7, 1), ([1, 4, 16, 16], 3, 1),
                                // Large enough for the input gradient to take Winograd too (the flipped weights).
                                ([1, 16, 24, 24], 16, 1)]

    /// A 3×3 correlation with bias of random `input` to `outChannels`, its reference plan and output.
    static func winogradProblem(_ input: [Int], _ outChannels: Int, _ padding: Int, seed: UInt64) throws
        -> (x: Tensor<Float>, w: Tensor<Float>, b: Tensor<Float>, reference: ConvolutionPlan, expected: Tensor<Float>) {
        var rng = RandomGenerator(seed: seed)
        let x: Tensor<Float> = rng.tensor(input)
        let w: Tensor<Float> = rng.tensor([outChannels, input[1], 3, 3])
        let b: Tensor<Float> = rng.tensor([outChannels])
        let reference = try ConvolutionPlan(spatialRank: 2, inputShape: x.shape, weightShape: w.shape, hasBias: true,
                                            padding: Padding(integerLiteral: padding), algorithm: .reference)
        return (x, w, b, reference, try reference.forward(x, weight: w, bias: b))
    }

    @Test("Winograd (the tile size the plan picks) stays within 2e-4 of the reference", arguments: winogradCases)
    func winograd(_ input: [Int], _ outChannels: Int, _ padding: Int) throws {
        let (x, w, b, reference, expected) = try Self.winogradProblem(input, outChannels, padding, seed: 21)
        for isa in Runtime.availableInstructionSets {
            var first: Tensor<Float>?
            for threads in [1, 2, 3] {
                try Runtime.$override.withValue(.init(threadCount: threads, instructionSet: isa)) {
                    let plan = try ConvolutionPlan(spatialRank: 2, inputShape: x.shape, weightShape: w.shape, hasBias: true,
                                                   padding: Padding(integerLiteral: padding), algorithm: .winograd)
                    let y = try plan.forward(x, weight: w, bias: b)
                    if let first { #expect(y == first, "winograd x\(input) [\(isa)]: \(threads) threads differ from 1") }
                    first = first ?? y
                    let error = y.maxAbsDifference(expected) ?? .infinity
                    let scale = max(expected.scalars.map(abs).max() ?? 0, 1e-6)
                    let fused = try plan.forward(x, weight: w, bias: b, fusing: .relu)
                    #expect(fused == Activation.relu(y), "winograd x\(input): fused ReLU differs from relu(forward)")
                    let b6 = try Tensor(shape: b.shape, scalars: b.scalars.map { $0 * 6 })
                    #expect(try plan.forward(x, weight: w, bias: b6, fusing: .relu6) == Activation.relu6(try plan.forward(x, weight: w, bias: b6)),
                            "winograd x\(input): fused ReLU6 differs from relu6(forward)")
                    #expect(error <= 2e-4 * scale, "winograd x\(input) → \(outChannels) [\(isa), \(threads) threads]: error \(error / scale)")
                    let g: Tensor<Float> = RandomGenerator(seed: 22).tensorLike(plan.outputShape)
                    let gradients = try plan.backward(gradOutput: g, input: x, weight: w)
                    let expectedGradients = try reference.backward(gradOutput: g, input: x, weight: w)
                    Self.expectClose(gradients.input, expectedGradients.input, "winograd grad input")
                    Self.expectClose(gradients.weight, expectedGradients.weight, "winograd grad weight")
                }
            }
        }
    }

    @Test("Winograd F(2×2, 3×3) and F(4×4, 3×3) each stay within 2e-4 of the reference on every level, bitwise for any thread count",
          arguments: winogradCases, [2, 4])
    func winogradTiles(_ c: ([Int], Int, Int), _ tile: Int) throws {
        let (input, outChannels, padding) = c
        let (x, w, b, _, expected) = try Self.winogradProblem(input, outChannels, padding, seed: 25)
        let scale = max(expected.scalars.map(abs).max() ?? 0, 1e-6)
        let shape = ConvShape2D(batch: input[0], inChannels: input[1], outChannels: outChannels, groups: 1, inH: input[2],
                                inW: input[3], outH: input[2] + 2 * padding - 2, outW: input[3] + 2 * padding - 2, kH: 3, kW: 3,
                                strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, padTop: padding, padLeft: padding)
        func run(_ isa: InstructionSet, tile: Int = tile, storage: [Float]?, activation: FusedActivation? = nil) -> Tensor<Float> {
            var y = [Float](repeating: .nan, count: expected.count)
            x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in b.withUnsafeBufferPointer { bp in
                y.withUnsafeMutableBufferPointer { yp in
                    WinogradConvolution(shape: shape, tile: tile).forward(
                        input: xp.baseAddress!, weight: wp.baseAddress!, bias: bp.baseAddress!, output: yp.baseAddress!,
                        kernels: KernelTable(isa), weightStorage: storage, activation: activation)
                }
            } } }
            return Tensor(uncheckedShape: expected.shape, scalars: y)
        }
        for isa in Runtime.availableInstructionSets {
            var first: Tensor<Float>?
            for threads in [1, 2, 3] {
                Runtime.$override.withValue(.init(threadCount: threads, instructionSet: isa)) {
                    let y = run(isa, storage: threads == 2 ? w.scalars : nil)
                    let error = y.maxAbsDifference(expected) ?? .infinity
                    #expect(error <= 2e-4 * scale, "F(\(tile)×\(tile)) x\(input) → \(outChannels) [\(isa), \(threads) threads]: error \(error / scale)")
                    if let first { #expect(y == first, "F(\(tile)×\(tile)) x\(input) [\(isa)]: \(threads) threads differ from 1") }
                    first = first ?? y
                    if threads == 3 {
                        #expect(run(isa, storage: w.scalars, activation: .relu6) == Activation.relu6(y),
                                "F(\(tile)×\(tile)) x\(input): fused ReLU6 differs from relu6(forward)")
                        // The other tile size's weights, prepared first from the same storage, are cached apart.
                        let storage = w.scalars.map { $0 }
                        _ = run(isa, tile: 6 - tile, storage: storage)
                        #expect(run(isa, storage: storage) == y, "F(\(tile)×\(tile)) x\(input): cached weights of the other tile size")
                    }
                }
            }
        }
    }

    @Test("Winograd picks 2×2 tiles on small maps, where 4×4 tiles would mostly be GEMM padding")
    func winogradTileSize() throws {
        func shape(_ channels: Int, _ size: Int, batch: Int = 1) -> ConvShape2D {
            ConvShape2D(batch: batch, inChannels: channels, outChannels: channels, groups: 1, inH: size, inW: size, outH: size,
                        outW: size, kH: 3, kW: 3, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, padTop: 1, padLeft: 1)
        }
        // 7×7: 16 tiles of 2×2 (16 × 16 multiplies) against 4 of 4×4 padded to 16 (36 × 16).
        #expect(WinogradConvolution.tileSize(for: shape(512, 7)) == 2)
        #expect(WinogradConvolution.tileSize(for: shape(512, 8)) == 2)
        // 14×14: 49 tiles of 2×2 (16 × 64) against 16 of 4×4 (36 × 16); a batch of 7×7 maps fills 4×4 columns.
        #expect(WinogradConvolution.tileSize(for: shape(256, 14)) == 4)
        #expect(WinogradConvolution.tileSize(for: shape(512, 7, batch: 8)) == 4)
        #expect(WinogradConvolution(shape: shape(512, 7)).tile == 2)
        #expect(WinogradConvolution(shape: shape(64, 56)).tile == 4)
    }

    @Test("Winograd takes a narrower level's GEMM tiles where the wide ones would be mostly padding")
    func winogradLevel() throws {
        guard Runtime.availableInstructionSets.contains(.avx512) else { return }
        func shape(_ channels: Int, _ size: Int, dilation: Int = 1) -> ConvShape2D {
            ConvShape2D(batch: 1, inChannels: channels, outChannels: channels, groups: 1, inH: size, inW: size, outH: size,
                        outW: size, kH: 3, kW: 3, strideH: 1, strideW: 1, dilationH: dilation, dilationW: dilation,
                        padTop: dilation, padLeft: dilation)
        }
        let wide = KernelTable(.avx512), narrow = KernelTable(.avx2)
        // 16 tiles: 32 with AVX-512's 32-wide tiles, 16 with AVX2's.
        #expect(WinogradConvolution.level(for: shape(256, 14), tile: 4, below: wide).isa == .avx2)
        #expect(WinogradConvolution.level(for: shape(256, 14), tile: 4, below: narrow).isa == .avx2)
        // 196 tiles: 224 against 208, not worth AVX2's less efficient tiles; 784: 800 against 784.
        #expect(WinogradConvolution.level(for: shape(64, 56), tile: 4, below: wide).isa == .avx512)
        #expect(WinogradConvolution.level(for: shape(128, 112), tile: 4, below: wide).isa == .avx512)
        // DeepLab's phases (4 images of 17 × 17, fused): a block of 32 tiles of 256 channels overflows L2.
        let phases = try #require(WinogradConvolution.phaseShape(shape(256, 33, dilation: 2)))
        #expect(WinogradConvolution.level(for: phases, tile: 4, below: wide).isa == .avx2)
    }

    @Test("fused Winograd passes (blocks of tile rows in the thread's cache) match the reference, bitwise for any thread count",
          arguments: [([2, 4, 240, 236], 5), ([1, 4, 112, 112], 72)])
    func fusedWinograd(_ input: [Int], _ outChannels: Int) throws {
        // Tiles of ≥ 2 MiB in whole-layer passes: 12 and 14 blocks of tile rows; 72 output channels
        // are cut into two channel blocks.
        var rng = RandomGenerator(seed: 24)
        let x: Tensor<Float> = rng.tensor(input)
        let w: Tensor<Float> = rng.tensor([outChannels, input[1], 3, 3])
        let b: Tensor<Float> = rng.tensor([outChannels])
        func plan(_ algorithm: ConvAlgorithm) throws -> ConvolutionPlan {
            try ConvolutionPlan(spatialRank: 2, inputShape: x.shape, weightShape: w.shape, hasBias: true, padding: 1,
                                algorithm: algorithm)
        }
        let expected = try plan(.reference).forward(x, weight: w, bias: b)
        let scale = max(expected.scalars.map(abs).max() ?? 0, 1e-6)
        for isa in Runtime.availableInstructionSets {
            var first: Tensor<Float>?
            for threads in [1, 2, 3] {
                try Runtime.$override.withValue(.init(threadCount: threads, instructionSet: isa)) {
                    let y = try plan(.winograd).forward(x, weight: w, bias: b)
                    let error = y.maxAbsDifference(expected) ?? .infinity
                    #expect(error <= 2e-4 * scale, "fused winograd x\(input) [\(isa), \(threads) threads]: error \(error / scale)")
                    if let first { #expect(y == first, "fused winograd x\(input) [\(isa)]: \(threads) threads differ from 1") }
                    first = first ?? y
                }
            }
        }
    }

    @Test("dilated Winograd (one undilated layer per input phase) stays within 2e-4 of the reference",
          arguments: [([1, 16, 33, 33], 8, [2, 2], [2, 2]), ([2, 8, 10, 13], 5, [2, 3], [2, 3]), ([1, 16, 9, 9], 4, [4, 4], [2, 2]),
                      ([1, 4, 7, 8], 3, [3, 0], [3, 1])])
    func dilatedWinograd(_ input: [Int], _ outChannels: Int, _ padding: [Int], _ dilation: [Int]) throws {
        var rng = RandomGenerator(seed: 23)
        let x: Tensor<Float> = rng.tensor(input)
        let w: Tensor<Float> = rng.tensor([outChannels, input[1], 3, 3])
        let b: Tensor<Float> = rng.tensor([outChannels])
        func plan(_ algorithm: ConvAlgorithm) throws -> ConvolutionPlan {
            try ConvolutionPlan(spatialRank: 2, inputShape: x.shape, weightShape: w.shape, hasBias: true,
                                padding: .explicit(padding), dilation: Dims(dilation), algorithm: algorithm)
        }
        let expected = try plan(.reference).forward(x, weight: w, bias: b)
        for threads in [1, 3] {
            try Runtime.$override.withValue(.init(threadCount: threads)) {
                let y = try plan(.winograd).forward(x, weight: w, bias: b)
                let error = y.maxAbsDifference(expected) ?? .infinity
                let scale = max(expected.scalars.map(abs).max() ?? 0, 1e-6)
                #expect(error <= 2e-4 * scale, "dilated winograd x\(input) d\(dilation): error \(error / scale)")
                #expect(try plan(.winograd).forward(x, weight: w, bias: b, fusing: .relu) == Activation.relu(y))
            }
        }
        // Padding that is not a multiple of the dilation has no phase split.
        #expect(throws: ConvKitError.self) {
            try ConvolutionPlan(spatialRank: 2, inputShape: x.shape, weightShape: w.shape, hasBias: true, padding: 1,
                                dilation: 2, algorithm: .winograd)
        }
        // DeepLab's atrous layer takes it.
        let atrous = try ConvolutionPlan(spatialRank: 2, inputShape: [1, 256, 33, 33], weightShape: [256, 256, 3, 3],
                                         hasBias: true, padding: 2, dilation: 2)
        #expect(atrous.algorithm == .winograd)
    }

    @Test("prepared weights are cached by identity and never stale", arguments: [ConvAlgorithm.gemm, .pointwise, .winograd])
    func weightCache(_ algorithm: ConvAlgorithm) throws {
        var rng = RandomGenerator(seed: 31)
        let k = algorithm == .pointwise ? 1 : 3
        let x: Tensor<Float> = rng.tensor([1, 16, 12, 12])
        var w: Tensor<Float> = rng.tensor([8, 16, k, k])
        let plan = try ConvolutionPlan(spatialRank: 2, inputShape: x.shape, weightShape: w.shape, hasBias: false,
                                       padding: Padding(integerLiteral: k / 2), algorithm: algorithm)
        let reference = try ConvolutionPlan(spatialRank: 2, inputShape: x.shape, weightShape: w.shape, hasBias: false,
                                            padding: Padding(integerLiteral: k / 2), algorithm: .reference)
        let first = try plan.forward(x, weight: w)
        #expect(try plan.forward(x, weight: w).scalars == first.scalars, "a cache hit gives the same result")
        // In-place updates (as an optimizer's) and copies with other values must not hit stale entries.
        for step in 0..<3 {
            w.withUnsafeMutableBufferPointer { p in for i in 0..<p.count where i % 7 == step { p[i] += 0.5 } }
            Self.expectClose(try plan.forward(x, weight: w), try reference.forward(x, weight: w), "\(algorithm) after update \(step)")
            var copy = w
            copy[0, 0, 0, 0] = 3
            Self.expectClose(try plan.forward(x, weight: copy), try reference.forward(x, weight: copy), "\(algorithm) modified copy")
        }
    }

    @Test("forced algorithms are checked")
    func forcedAlgorithms() throws {
        #expect(throws: ConvKitError.self) {
            try ConvolutionPlan(spatialRank: 2, inputShape: [1, 4, 5, 5], weightShape: [4, 4, 3, 3], hasBias: false,
                                algorithm: .depthwise)
        }
        #expect(throws: ConvKitError.self) {
            try ConvolutionPlan(spatialRank: 2, inputShape: [1, 4, 5, 5], weightShape: [4, 4, 3, 3], hasBias: false,
                                algorithm: .pointwise)
        }
        #expect(throws: ConvKitError.self) {
            try ConvolutionPlan(spatialRank: 3, inputShape: [1, 2, 3, 3, 3], weightShape: [2, 2, 1, 1, 1], hasBias: false,
                                algorithm: .gemm)
        }
        let auto = try ConvolutionPlan(spatialRank: 2, inputShape: [1, 4, 5, 5], weightShape: [4, 1, 3, 3], hasBias: false, groups: 4)
        #expect(auto.algorithm == .depthwise)
        let pointwise = try ConvolutionPlan(spatialRank: 2, inputShape: [1, 4, 5, 5], weightShape: [4, 4, 1, 1], hasBias: false)
        #expect(pointwise.algorithm == .pointwise)
        // Winograd where it saves multiplies: many tiles, or few tiles with ≥ 128 channels; not for
        // small planes with few channels, nor where padding the tiles to GEMM columns eats the saving.
        func planned(_ input: [Int], _ outChannels: Int, padding: Padding = 1) throws -> ConvAlgorithm {
            try ConvolutionPlan(spatialRank: 2, inputShape: input, weightShape: [outChannels, input[1], 3, 3], hasBias: true,
                                padding: padding).algorithm
        }
        #expect(try planned([1, 64, 56, 56], 64) == .winograd)
        #expect(try planned([1, 256, 14, 14], 256) == .winograd)
        #expect(try planned([64, 32, 13, 13], 64, padding: 0) == .gemm)
        // F(2×2, 3×3) on ResNet's 7×7 maps with ≥ 128 channels (1.72× fewer multiplies), not with 64.
        #expect(try planned([1, 512, 7, 7], 512) == .winograd)
        #expect(try planned([1, 64, 7, 7], 64) == .gemm)
        let volume = try ConvolutionPlan(spatialRank: 3, inputShape: [1, 2, 3, 3, 3], weightShape: [2, 2, 1, 1, 1], hasBias: false)
        #expect(volume.algorithm == .reference)
    }
}

/// The turned-around GEMM (positions as rows) is chosen where it saves register tiles, and gives
/// bitwise the same results as the usual orientation.
@Suite("Positions as GEMM rows")
struct PositionRowsGemmTests {
    @Test("chosen for small maps with many channels, and bitwise equal to the usual orientation")
    func sameAsUsual() throws {
        let kernels = Runtime.kernels
        // Small maps, images in one row block, strides, a 1×1, and large maps of several row blocks
        // per image (32, 5×5; 64 from 3 channels, 7×7 stride 2), and a partial column tile (40).
        // Without padding the planes are read in place (3×3 and 1×1 at stride 2; the last row and
        // column of 14 × 14 unread); with it, from a padded copy (at 14 × 14 stride 2 cut short).
        for (input, outChannels, k, stride, padding) in [([1, 64, 7, 7], 64, 3, 1, 1), ([3, 8, 13, 13], 96, 3, 2, 1),
                                                         ([1, 8, 7, 7], 64, 1, 1, 0), ([2, 8, 40, 40], 32, 5, 1, 2),
                                                         ([1, 3, 45, 45], 64, 7, 2, 3), ([2, 8, 4, 4], 40, 3, 1, 1),
                                                         ([3, 8, 13, 13], 96, 3, 2, 0), ([2, 16, 14, 14], 64, 1, 2, 0),
                                                         ([1, 8, 14, 14], 64, 3, 2, 0), ([2, 8, 14, 14], 64, 3, 2, 1)] {
            var rng = RandomGenerator(seed: 77)
            let plan = try ConvolutionPlan(spatialRank: 2, inputShape: input, weightShape: [outChannels, input[1], k, k], hasBias: true,
                                           stride: Dims(integerLiteral: stride), padding: Padding(integerLiteral: padding))
            let fast = try #require(plan.fast)
            let source = fast.forwardSource(nr: kernels.nr)
            let problem = fast.algorithm == .pointwise ? fast.pointwiseProblem() : fast.forwardProblem(source)
            #expect(PositionRowsGemm.isWorthwhile(problem, kernels: kernels), "\(input) → \(outChannels)")
            let x: Tensor<Float> = rng.tensor(input), w: Tensor<Float> = rng.tensor([outChannels, input[1], k, k])
            let b: Tensor<Float> = rng.tensor([outChannels])
            let turned = try plan.forward(x, weight: w, bias: b)
            // The usual orientation, run directly.
            var usual = [Float](repeating: 0, count: plan.outputShape.reduce(1, *))
            x.withUnsafeBufferPointer { x in w.withUnsafeBufferPointer { w in b.withUnsafeBufferPointer { b in
                usual.withUnsafeMutableBufferPointer { y in
                    if fast.algorithm == .pointwise {
                        problem.run(a: w.baseAddress!, src: x.baseAddress!, dst: y.baseAddress!, bias: b.baseAddress!, kernels: kernels)
                    } else {
                        BufferCache.shared.with(source.count(batch: input[0])) { buffer in
                            source.fill(buffer, from: x.baseAddress!, batch: input[0])
                            problem.run(a: w.baseAddress!, src: buffer, dst: y.baseAddress!, bias: b.baseAddress!, kernels: kernels)
                        }
                    }
                }
            } } }
            #expect(turned.scalars == usual, "\(input) → \(outChannels): the orientations differ")
        }
        // Not where the channels fill the column tiles worse than they fill row tiles (40 of 48).
        let ragged = try ConvolutionPlan(spatialRank: 2, inputShape: [1, 16, 56, 56], weightShape: [40, 16, 3, 3], hasBias: false,
                                         padding: 1)
        #expect(!PositionRowsGemm.isWorthwhile(try #require(ragged.fast).forwardProblem(ragged.fast!.forwardSource(nr: kernels.nr)),
                                               kernels: kernels))
    }
}
