import ConvKit
import Testing

/// The output-size formulas and padding resolution, on the seeds' worked examples (checked
/// against PyTorch in the research notes) and on PyTorch's own rules.
@Suite("Geometry: output sizes and padding")
struct GeometryFormulaTests {
    /// `(I, k, s, p, d, O)` rows from the seed texts; every one was run through `nn.Conv2d`.
    static let convolutionTable: [(Int, Int, Int, Int, Int, Int)] = [
        (32, 3, 2, 1, 1, 16),   // E002 stride 2 halves
        (32, 3, 1, 0, 1, 30), (32, 3, 2, 0, 1, 15), (32, 3, 4, 0, 1, 8), (32, 7, 2, 0, 1, 13),  // E021–E024
        (224, 7, 2, 3, 1, 112),  // E015
        (224, 3, 1, 1, 2, 222),  // E016: p=1 is not 'same' for d=2
        (224, 5, 2, 0, 1, 110),  // E017
        (56, 5, 1, 2, 1, 56), (56, 5, 1, 4, 2, 56),  // E051, E052 (k_eff 9, not 5)
        (5, 3, 1, 0, 2, 1), (5, 3, 1, 2, 2, 5),  // E035, E037
        (28, 5, 2, 0, 1, 12), (64, 5, 2, 2, 1, 32), (128, 5, 2, 2, 1, 64),  // E075, E083, E092
        (6, 3, 2, 1, 1, 3),  // E068
        (224, 3, 1, 0, 1, 222), (224, 5, 2, 1, 1, 111),
    ]

    @Test("convolution: O = ⌊(I + 2P − D(K − 1) − 1)/S⌋ + 1 on the seeds' table")
    func convolutionTableMatches() {
        for (i, k, s, p, d, o) in Self.convolutionTable {
            #expect(OutputSize.convolution(input: i, kernel: k, stride: s, padLow: p, padHigh: p, dilation: d) == o,
                    "I=\(i) k=\(k) s=\(s) p=\(p) d=\(d)")
        }
    }

    @Test("effective kernel d·(k − 1) + 1 (seed E034: 3, 5, 7, 9, 17; E052: k5 d2 is 9)")
    func effectiveKernel() {
        #expect([1, 2, 3, 4, 8].map { OutputSize.effectiveKernel(3, dilation: $0) } == [3, 5, 7, 9, 17])
        #expect(OutputSize.effectiveKernel(5, dilation: 2) == 9)
        #expect([6, 12, 18, 24].map { OutputSize.effectiveKernel(3, dilation: $0) } == [13, 25, 37, 49])  // ASPP, E050
    }

    @Test("unpadded 3×3 stack erodes 32 by 2 per layer (E003)")
    func erosion() {
        var size = 32
        for layer in 1...15 {
            size = OutputSize.convolution(input: size, kernel: 3, stride: 1, padLow: 0, padHigh: 0, dilation: 1)
            #expect(size == 32 - 2 * layer)
        }
        // A 16th layer has no valid position: the formula gives 0, and the plan rejects it as PyTorch does.
        #expect(OutputSize.convolution(input: size, kernel: 3, stride: 1, padLow: 0, padHigh: 0, dilation: 1) == 0)
        #expect(throws: ConvKitError.self) {
            try ConvolutionPlan(spatialRank: 2, inputShape: [1, 1, 2, 2], weightShape: [1, 1, 3, 3], hasBias: false)
        }
    }

    @Test("transposed: O = (I − 1)·s − 2p + d(k − 1) + output_padding + 1")
    func transposed() {
        // Seed F.12: ConvTranspose2d(k3, s2, p1, output_padding=1) maps 16 → 32.
        #expect(OutputSize.transposedConvolution(input: 16, kernel: 3, stride: 2, padLow: 1, padHigh: 1, dilation: 1, outputPadding: 1) == 32)
        #expect(OutputSize.transposedConvolution(input: 16, kernel: 3, stride: 2, padLow: 1, padHigh: 1, dilation: 1, outputPadding: 0) == 31)
        #expect(OutputSize.transposedConvolution(input: 7, kernel: 4, stride: 2, padLow: 1, padHigh: 1, dilation: 1, outputPadding: 0) == 14)
        #expect(OutputSize.transposedConvolution(input: 5, kernel: 3, stride: 1, padLow: 0, padHigh: 0, dilation: 2, outputPadding: 1) == 10)
        // Transposed convolution inverts the convolution's size map for the right output_padding.
        for input in 1...40 {
            for (k, s, p) in [(3, 2, 1), (4, 2, 1), (5, 3, 2), (1, 2, 0)] {
                let down = OutputSize.convolution(input: input, kernel: k, stride: s, padLow: p, padHigh: p, dilation: 1)
                guard down >= 1 else { continue }
                let up0 = OutputSize.transposedConvolution(input: down, kernel: k, stride: s, padLow: p, padHigh: p, dilation: 1, outputPadding: 0)
                #expect(input - up0 >= 0 && input - up0 < s, "I=\(input) k=\(k) s=\(s) p=\(p)")
            }
        }
    }

    @Test("pooling: floor, and ceil_mode with PyTorch's last-window rule")
    func pooling() {
        // Seed E090: 5×5 map, k2 s2: floor 2, ceil 3.
        #expect(OutputSize.pooling(input: 5, kernel: 2, stride: 2, padLow: 0, padHigh: 0, dilation: 1, ceilMode: false) == 2)
        #expect(OutputSize.pooling(input: 5, kernel: 2, stride: 2, padLow: 0, padHigh: 0, dilation: 1, ceilMode: true) == 3)
        // Seed F.9: I=5, k2, s3, p1: ceil gives 3, but the last window would start in the padding → 2.
        #expect(OutputSize.pooling(input: 5, kernel: 2, stride: 3, padLow: 1, padHigh: 1, dilation: 1, ceilMode: true) == 2)
        // MNIST pipeline: 11 → 5 floor, 6 with ceil_mode.
        #expect(OutputSize.pooling(input: 11, kernel: 2, stride: 2, padLow: 0, padHigh: 0, dilation: 1, ceilMode: false) == 5)
        #expect(OutputSize.pooling(input: 11, kernel: 2, stride: 2, padLow: 0, padHigh: 0, dilation: 1, ceilMode: true) == 6)
        // ResNet stem max pool: 112 → 56.
        #expect(OutputSize.pooling(input: 112, kernel: 3, stride: 2, padLow: 1, padHigh: 1, dilation: 1, ceilMode: false) == 56)
        // Floor-mode pooling is the convolution formula.
        for i in 1...30 {
            for (k, s, p, d) in [(2, 2, 0, 1), (3, 2, 1, 1), (3, 1, 1, 2), (3, 3, 0, 1)] where i + 2 * p >= d * (k - 1) + 1 {
                #expect(OutputSize.pooling(input: i, kernel: k, stride: s, padLow: p, padHigh: p, dilation: d, ceilMode: false)
                        == OutputSize.convolution(input: i, kernel: k, stride: s, padLow: p, padHigh: p, dilation: d))
            }
        }
    }

    @Test("padding resolution: explicit, asymmetric, valid, full, causal")
    func namedPadding() throws {
        #expect(try Padding.explicit([1]).resolved(input: [5, 5], kernelSize: 3) == ResolvedPadding(low: [1, 1], high: [1, 1]))
        #expect(try Padding.explicit([1, 2]).resolved(input: [5, 5], kernelSize: 3) == ResolvedPadding(low: [1, 2], high: [1, 2]))
        #expect(try Padding.asymmetric(low: [0], high: [1]).resolved(input: [5, 5], kernelSize: 2)
                == ResolvedPadding(low: [0, 0], high: [1, 1]))
        #expect(try Padding.valid.resolved(input: [5, 5], kernelSize: 3) == ResolvedPadding(low: [0, 0], high: [0, 0]))
        // Seed E029: full is P = K − 1 (dilated: d·(k − 1)), output I + K − 1.
        let full = try Padding.full.resolved(input: [10], kernelSize: 3, dilation: 2)
        #expect(full == ResolvedPadding(low: [4], high: [4]))
        #expect(OutputSize.convolution(input: 10, kernel: 3, stride: 1, padLow: 4, padHigh: 4, dilation: 2) == 14)
        // WaveNet causal padding: d·(k − 1) before, none after.
        #expect(try Padding.causal.resolved(input: [100], kernelSize: 2, dilation: 8) == ResolvedPadding(low: [8], high: [0]))
        #expect(throws: ConvKitError.self) { try Padding.causal.resolved(input: [5, 5], kernelSize: 3) }
        #expect(throws: ConvKitError.self) { try Padding.explicit([-1]).resolved(input: [5], kernelSize: 3) }
        #expect(throws: ConvKitError.self) { try Padding.explicit([1, 2, 3]).resolved(input: [5, 5], kernelSize: 3) }
    }

    @Test("'same' at stride 1 is PyTorch's: odd pixel after (k4 → (1, 2), k2 → (0, 1), k3 d2 → (2, 2))")
    func sameStrideOne() throws {
        #expect(try Padding.same.resolved(input: [9], kernelSize: 4) == ResolvedPadding(low: [1], high: [2]))
        #expect(try Padding.same.resolved(input: [9], kernelSize: 2) == ResolvedPadding(low: [0], high: [1]))
        #expect(try Padding.same.resolved(input: [9], kernelSize: 3, dilation: 2) == ResolvedPadding(low: [2], high: [2]))
        // Seeds E004/E033/E038: odd k → (k − 1)/2 each side; dilated → d(k − 1)/2.
        for (k, d, p) in [(3, 1, 1), (5, 1, 2), (7, 1, 3), (3, 2, 2), (3, 4, 4), (3, 6, 6)] {
            #expect(try Padding.same.resolved(input: [33], kernelSize: Dims([k]), dilation: Dims([d])) == ResolvedPadding(low: [p], high: [p]))
        }
        // Every size is kept at stride 1.
        for i in 1...20 {
            for k in 1...6 {
                let pad = try Padding.same.resolved(input: [i], kernelSize: Dims([k]))
                #expect(OutputSize.convolution(input: i, kernel: k, stride: 1, padLow: pad.low[0], padHigh: pad.high[0], dilation: 1) == i)
            }
        }
    }

    @Test("'same' at stride > 1 is TensorFlow/JAX's: output ⌈I/s⌉, total max((O − 1)s + k_eff − I, 0)")
    func sameStrided() throws {
        #expect(try Padding.same.resolved(input: [5], kernelSize: 3, stride: 2) == ResolvedPadding(low: [1], high: [1]))
        #expect(try Padding.same.resolved(input: [6], kernelSize: 3, stride: 2) == ResolvedPadding(low: [0], high: [1]))
        #expect(try Padding.same.resolved(input: [224], kernelSize: 7, stride: 2) == ResolvedPadding(low: [2], high: [3]))
        #expect(try Padding.same.resolved(input: [8], kernelSize: 1, stride: 4) == ResolvedPadding(low: [0], high: [0]))
        for i in 1...30 {
            for (k, s, d) in [(3, 2, 1), (4, 2, 1), (1, 3, 1), (3, 3, 2), (7, 2, 1)] {
                let pad = try Padding.same.resolved(input: [i], kernelSize: Dims([k]), stride: Dims([s]), dilation: Dims([d]))
                let out = OutputSize.convolution(input: i, kernel: k, stride: s, padLow: pad.low[0], padHigh: pad.high[0], dilation: d)
                #expect(out == (i + s - 1) / s, "I=\(i) k=\(k) s=\(s) d=\(d)")
                #expect(pad.high[0] - pad.low[0] == 0 || pad.high[0] - pad.low[0] == 1)
            }
        }
    }
}
