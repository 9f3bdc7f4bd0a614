@testable import ConvKit
import Testing

/// Fast max and average pooling against the reference kernels (`PoolingPlan.run` / `gradient`),
/// forward and backward, on every instruction set, across window, stride, padding, dilation and
/// ceil-mode combinations and row lengths around the vector widths; PyTorch's NaN / −∞ argmax
/// rules; bitwise-identical results for 1, 2 and 3 threads.
@Suite("Fast pooling kernels")
struct FastKernelPoolingTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var max = true
        var rank = 2
        var input: [Int]
        var kernel: Dims
        var stride: Dims? = nil
        var padding: Padding = 0
        var dilation: Dims = 1
        var ceilMode = false
        var countIncludePad = true
        var divisorOverride: Int? = nil

        var testDescription: String {
            "\(max ? "max" : "avg")_pool\(rank)d x\(input) k\(kernel) s\(stride.map { "\($0)" } ?? "-") p\(padding) d\(dilation)"
                + (ceilMode ? " ceil" : "") + (countIncludePad ? "" : " exclude-pad") + (divisorOverride.map { " div\($0)" } ?? "")
        }

        func plan() throws -> PoolingPlan {
            if max {
                return try PoolingPlan(maxPoolSpatialRank: rank, inputShape: input, kernelSize: kernel, stride: stride,
                                       padding: padding, dilation: dilation, ceilMode: ceilMode)
            }
            return try PoolingPlan(avgPoolSpatialRank: rank, inputShape: input, kernelSize: kernel, stride: stride,
                                   padding: padding, ceilMode: ceilMode, countIncludePad: countIncludePad,
                                   divisorOverride: divisorOverride)
        }
    }

    static let cases: [Case] = {
        var cases: [Case] = [
            Case(input: [1, 3, 112, 112], kernel: 3, stride: 2, padding: 1),
            Case(input: [2, 2, 9, 33], kernel: 2),
            Case(input: [1, 2, 17, 65], kernel: 3, stride: 1, padding: 1),
            Case(input: [1, 2, 10, 11], kernel: 3, stride: 2, padding: 1, ceilMode: true),
            Case(input: [1, 2, 13, 14], kernel: [3, 2], stride: [2, 3], padding: [1, 1], dilation: [2, 1]),
            Case(input: [1, 1, 7, 7], kernel: 5, stride: 3, padding: 2, dilation: 2, ceilMode: true),
            Case(rank: 1, input: [2, 3, 40], kernel: 3, stride: 2, padding: 1),
            // 3 × 3 windows read in place (without indices): widths at and around one and two vectors,
            // ceil mode's windows past the right and bottom edges.
            Case(input: [1, 2, 6, 16], kernel: 3, stride: 2, padding: 1),
            Case(input: [1, 2, 8, 31], kernel: 3, stride: 2, padding: 1),
            Case(input: [1, 2, 7, 33], kernel: 3, stride: 2, padding: 1, ceilMode: true),
            Case(input: [1, 2, 5, 8], kernel: 3, stride: 1, padding: 1),
            Case(input: [1, 2, 4, 17], kernel: 3, stride: 1, padding: 1),
            // Stride 1 on planes whose rows are narrower than a vector: each plane as one run.
            Case(input: [2, 3, 7, 7], kernel: 3, stride: 1, padding: 1),
            Case(input: [1, 2, 14, 14], kernel: 3, stride: 1, padding: 1),
            Case(input: [1, 2, 5, 15], kernel: 3, stride: 1, padding: 1),
            Case(input: [1, 2, 3, 3], kernel: 3, stride: 1, padding: 1),
            Case(input: [1, 2, 6, 1], kernel: 3, stride: 1, padding: 1),
            // 2 × 2 windows at stride 2 read in place: output widths at and around one and two
            // vectors, odd input sizes (the last row and column dropped), ceil mode (not in place).
            Case(input: [1, 2, 4, 16], kernel: 2), Case(input: [1, 2, 5, 34], kernel: 2), Case(input: [2, 3, 7, 65], kernel: 2),
            Case(input: [1, 2, 6, 7], kernel: 2), Case(input: [2, 2, 26, 26], kernel: 2),
            Case(input: [1, 2, 5, 33], kernel: 2, ceilMode: true),
            Case(max: false, input: [1, 3, 56, 56], kernel: 3, stride: 2, padding: 1),
            Case(max: false, input: [2, 2, 9, 33], kernel: 2),
            Case(max: false, input: [1, 2, 17, 65], kernel: 3, stride: 1, padding: 1, countIncludePad: false),
            Case(max: false, input: [1, 2, 10, 11], kernel: 3, stride: 2, padding: 1, ceilMode: true),
            Case(max: false, input: [1, 2, 10, 11], kernel: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false),
            Case(max: false, input: [1, 2, 13, 14], kernel: [3, 2], stride: [2, 3], padding: [1, 1], divisorOverride: 7),
            Case(max: false, input: [1, 1, 7, 7], kernel: 7),
            Case(max: false, rank: 1, input: [2, 3, 40], kernel: 4, stride: 3, padding: 2, ceilMode: true),
        ]
        var rng = RandomGenerator(seed: 0xB00)
        func pick<T>(_ values: [T]) -> T { values[Int(rng.next() % UInt64(values.count))] }
        while cases.count < 55 {
            let k = pick([1, 2, 3, 4, 5])
            let c = Case(max: cases.count % 2 == 0, input: [pick([1, 2]), pick([1, 3]), pick([1, 5, 8, 9, 16]), pick([7, 8, 15, 16, 17, 33])],
                         kernel: [k, pick([1, 2, 3])], stride: [pick([1, 2, 3]), pick([1, 2])], padding: [pick([0, 1]) * (k / 2), 0],
                         dilation: cases.count % 2 == 0 ? [pick([1, 2]), 1] : 1, ceilMode: pick([false, true]),
                         countIncludePad: pick([false, true]))
            if (try? c.plan())?.fast != nil { cases.append(c) }
        }
        return cases
    }()

    static func check(_ c: Case, _ x: Tensor<Float>, isa: InstructionSet, threads: Int) throws {
        let plan = try c.plan()
        #expect(plan.fast != nil, "\(c.testDescription): expected the fast path")
        var rng = RandomGenerator(seed: 5)
        let (expected, expectedIndices) = try plan.run(x)
        let g: Tensor<Float> = rng.tensor(plan.outputShape)
        let expectedGradient = try plan.gradient(g, indices: expectedIndices)
        try Runtime.$override.withValue(.init(threadCount: threads, instructionSet: isa)) {
            let label = "\(c.testDescription) [\(isa)]"
            let result = try plan.forward(x)
            // Same values (NaN-aware) and the same argmax as the reference.
            let same = zip(result.output.scalars, expected.scalars).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
            #expect(same, "\(label): forward differs from the reference")
            #expect(result.indices == expectedIndices, "\(label): indices differ from the reference")
            // Without indices (inference): the same values, no indices.
            let valuesOnly = try plan.forward(x, returningIndices: false)
            #expect(valuesOnly.indices == nil)
            let sameValues = zip(valuesOnly.output.scalars, expected.scalars).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
            #expect(sameValues, "\(label): forward without indices differs from the reference")
            let gradient = try plan.backward(gradOutput: g, indices: result.indices)
            let error = gradient.maxAbsDifference(expectedGradient) ?? .infinity
            let scale = max(expectedGradient.scalars.map(abs).max() ?? 0, 1)
            #expect(error <= 1e-6 * scale, "\(label): gradient differs by \(error)")
        }
    }

    @Test("match the reference on every instruction set", arguments: cases)
    func matchesReference(_ c: Case) throws {
        var rng = RandomGenerator(seed: 11)
        let x: Tensor<Float> = rng.tensor(c.input)
        for isa in Runtime.availableInstructionSets { try Self.check(c, x, isa: isa, threads: 3) }
    }

    @Test("max pooling keeps PyTorch's NaN and −∞ rules")
    func specialValues() throws {
        var rng = RandomGenerator(seed: 12)
        var x: Tensor<Float> = rng.tensor([1, 2, 9, 20])
        // NaNs (the last one in a window wins), ties, and windows that are all −∞.
        for (i, v) in [(3, Float.nan), (4, 0.5), (5, 0.5), (27, .nan), (29, .nan), (60, .infinity)] { x.withUnsafeMutableBufferPointer { $0[i] = v } }
        x.withUnsafeMutableBufferPointer { p in for i in 180..<260 { p[i] = -.infinity } }
        // The same values in planes wide enough for whole vectors of 2 × 2 windows (16 lanes).
        var wide: Tensor<Float> = rng.tensor([1, 2, 6, 40])
        for (i, v) in [(3, Float.nan), (4, 0.5), (5, 0.5), (43, .nan), (44, .nan), (45, 2), (120, .infinity)] {
            wide.withUnsafeMutableBufferPointer { $0[i] = v }
        }
        wide.withUnsafeMutableBufferPointer { p in for i in 240..<330 { p[i] = -.infinity } }
        // The same values in planes of 13-float rows (one run each at stride 1): NaNs and −∞ at
        // the rows' ends, where the wrapped taps are masked.
        var narrow: Tensor<Float> = rng.tensor([1, 2, 9, 13])
        for (i, v) in [(12, Float.nan), (13, 0.5), (25, .infinity), (26, .nan), (40, .nan), (41, .nan)] {
            narrow.withUnsafeMutableBufferPointer { $0[i] = v }
        }
        narrow.withUnsafeMutableBufferPointer { p in for i in 117..<160 { p[i] = -.infinity } }
        for isa in Runtime.availableInstructionSets {
            try Self.check(Case(input: narrow.shape, kernel: 3, stride: 1, padding: 1), narrow, isa: isa, threads: 2)
            try Self.check(Case(input: x.shape, kernel: 3, stride: 2, padding: 1), x, isa: isa, threads: 2)
            try Self.check(Case(input: x.shape, kernel: 2), x, isa: isa, threads: 2)
            try Self.check(Case(input: wide.shape, kernel: 2), wide, isa: isa, threads: 2)
        }
    }

    @Test("1, 2 and 3 threads give bitwise-identical results", arguments: Array(cases.prefix(20)))
    func threadCounts(_ c: Case) throws {
        var rng = RandomGenerator(seed: 13)
        let x: Tensor<Float> = rng.tensor(c.input)
        let plan = try c.plan()
        let g: Tensor<Float> = rng.tensor(plan.outputShape)
        var results: [[Float]] = []
        for threads in [1, 2, 3] {
            try Runtime.$override.withValue(.init(threadCount: threads)) {
                let y = try plan.forward(x)
                results.append(y.output.scalars + (try plan.backward(gradOutput: g, indices: y.indices).scalars))
            }
        }
        #expect(results[1] == results[0] && results[2] == results[0], "\(c.testDescription): results depend on the thread count")
    }
}
