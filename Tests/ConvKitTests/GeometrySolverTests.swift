import ConvKit
import Testing

/// The inverse problems: padding for a wanted output, the inputs mapping to an output, the rows
/// floor rounding drops, and the output_padding a transposed convolution needs — each checked
/// against the forward formula by exhaustive sweeps.
@Suite("Geometry: solvers")
struct GeometrySolverTests {
    static let windows: [(kernel: Int, stride: Int, dilation: Int)] = [
        (1, 1, 1), (2, 1, 1), (3, 1, 1), (4, 1, 1), (3, 2, 1), (4, 2, 1), (5, 2, 1), (7, 2, 1),
        (3, 3, 1), (2, 4, 1), (3, 1, 2), (3, 2, 3), (5, 3, 2),
    ]

    @Test("padding for a wanted output: every total in the range works, the neighbours do not")
    func paddingForOutputSweep() throws {
        for w in Self.windows {
            for input in 1...24 {
                for output in 1...((input + 12) / w.stride + 1) {
                    let works = (0...60).filter {
                        OutputSize.convolution(input: input, kernel: w.kernel, stride: w.stride, padLow: $0 / 2,
                                               padHigh: $0 - $0 / 2, dilation: w.dilation) == output
                    }
                    guard let first = works.first, let last = works.last else {
                        #expect(throws: ConvKitError.self) {
                            try OutputSize.padding(forOutput: output, input: input, kernel: w.kernel, stride: w.stride, dilation: w.dilation)
                        }
                        continue
                    }
                    let solution = try OutputSize.padding(forOutput: output, input: input, kernel: w.kernel, stride: w.stride,
                                                          dilation: w.dilation)
                    #expect(solution.totals == first...last, "I=\(input) O=\(output) \(w)")
                    #expect(solution.low + solution.high == first)
                    let symmetric = works.first { $0 % 2 == 0 }.map { $0 / 2 }
                    #expect(solution.symmetric == symmetric)
                }
            }
        }
    }

    @Test("padding examples: 'same' for k3/k5/k7, the E016 dilation trap, even kernels need asymmetry")
    func paddingExamples() throws {
        #expect(try OutputSize.padding(forOutput: 224, input: 224, kernel: 3, stride: 1).symmetric == 1)
        #expect(try OutputSize.padding(forOutput: 224, input: 224, kernel: 7, stride: 1).symmetric == 3)
        #expect(try OutputSize.padding(forOutput: 224, input: 224, kernel: 3, stride: 1, dilation: 2).symmetric == 2)
        // Seed E019: 32 → 16 at k3 s2 needs p=1 (p=0 gives 15).
        let half = try OutputSize.padding(forOutput: 16, input: 32, kernel: 3, stride: 2)
        #expect(half.symmetric == 1 && half.totals == 1...2)
        // Even kernel at stride 1: only the odd total 3 works: asymmetric (1, 2), as PyTorch's 'same'.
        let even = try OutputSize.padding(forOutput: 10, input: 10, kernel: 4, stride: 1)
        #expect(even.symmetric == nil && even.low == 1 && even.high == 2)
        #expect(even.description == "padding (low, high) = (1, 2)")
        // No padding can shrink the output below the unpadded size.
        #expect(throws: ConvKitError.self) { try OutputSize.padding(forOutput: 10, input: 32, kernel: 3, stride: 1) }
        #expect(throws: ConvKitError.self) { try OutputSize.padding(forOutput: 0, input: 32, kernel: 3, stride: 1) }
    }

    @Test("every input size that maps to an output size (convolution and floor pooling)")
    func inputSizesSweep() {
        for w in Self.windows {
            for (low, high) in [(0, 0), (1, 1), (0, 1), (2, 1)] {
                for output in 1...12 {
                    let inputs = (1...80).filter {
                        $0 + low + high >= OutputSize.effectiveKernel(w.kernel, dilation: w.dilation)
                            && OutputSize.convolution(input: $0, kernel: w.kernel, stride: w.stride, padLow: low, padHigh: high,
                                                      dilation: w.dilation) == output
                    }
                    let got = OutputSize.inputSizes(forOutput: output, kernel: w.kernel, stride: w.stride, padLow: low, padHigh: high,
                                                    dilation: w.dilation)
                    #expect(got.map { Array($0) } ?? [] == inputs, "O=\(output) \(w) pad (\(low), \(high))")
                }
            }
        }
        // Stride 2 maps two input sizes to each output: 223 and 224 both give 112 at k7 s2 p3.
        #expect(OutputSize.inputSizes(forOutput: 112, kernel: 7, stride: 2, padLow: 3, padHigh: 3) == 223...224)
        // Padding alone larger than the output: no input works.
        #expect(OutputSize.inputSizes(forOutput: 1, kernel: 1, stride: 1, padLow: 3, padHigh: 3) == nil)
    }

    @Test("every input size that ceil-mode pooling maps to an output size")
    func inputSizesCeilSweep() {
        for (k, s, p) in [(2, 2, 0), (3, 2, 1), (2, 3, 1), (3, 3, 0), (3, 1, 1), (5, 4, 2)] {
            for output in 1...10 {
                // (PyTorch accepts a ceil-mode window hanging over the edge: max_pool1d of 1 element with k=2 gives 1.)
                let inputs = (1...60).filter {
                    OutputSize.pooling(input: $0, kernel: k, stride: s, padLow: p, padHigh: p, dilation: 1, ceilMode: true) == output
                }
                let got = OutputSize.inputSizes(forPoolingOutput: output, kernel: k, stride: s, padLow: p, padHigh: p, ceilMode: true)
                #expect(got.map { Array($0) } ?? [] == inputs, "O=\(output) k=\(k) s=\(s) p=\(p)")
                let floor = OutputSize.inputSizes(forPoolingOutput: output, kernel: k, stride: s, padLow: p, padHigh: p, ceilMode: false)
                #expect(floor == OutputSize.inputSizes(forOutput: output, kernel: k, stride: s, padLow: p, padHigh: p))
            }
        }
        // The seeds' 5×5 map: ceil-mode k2 s2 gives 3 for inputs 5 and 6.
        #expect(OutputSize.inputSizes(forPoolingOutput: 3, kernel: 2, stride: 2, ceilMode: true) == 5...6)
    }

    @Test("dropped rows: the input positions after the last window (brute force)")
    func droppedSweep() {
        for w in Self.windows {
            for (low, high) in [(0, 0), (1, 1), (0, 2), (3, 0)] {
                for input in 1...40 {
                    let span = OutputSize.effectiveKernel(w.kernel, dilation: w.dilation)
                    guard input + low + high >= span else {
                        #expect(OutputSize.droppedInput(input: input, kernel: w.kernel, stride: w.stride, padLow: low, padHigh: high,
                                                        dilation: w.dilation) == 0)
                        continue
                    }
                    let output = OutputSize.convolution(input: input, kernel: w.kernel, stride: w.stride, padLow: low, padHigh: high,
                                                        dilation: w.dilation)
                    let lastRead = (output - 1) * w.stride - low + span - 1  // last position of the last window
                    let expected = max(0, input - 1 - lastRead)
                    #expect(OutputSize.droppedInput(input: input, kernel: w.kernel, stride: w.stride, padLow: low, padHigh: high,
                                                    dilation: w.dilation) == expected, "I=\(input) \(w) pad (\(low), \(high))")
                }
            }
        }
    }

    @Test("seed E019: 32 at k3 s2 p0 drops one row (15×15); p=1 drops none (16×16)")
    func seedOffByOne() {
        #expect(OutputSize.droppedInput(input: 32, kernel: 3, stride: 2) == 1)
        #expect(OutputSize.droppedInput(input: 32, kernel: 3, stride: 2, padLow: 1, padHigh: 1) == 0)
        // Seed E024: 32 at k7 s2 → 13, dropping one row.
        #expect(OutputSize.droppedInput(input: 32, kernel: 7, stride: 2) == 1)
        // The ResNet stem (224, k7 s2 p3) drops only a padding column.
        #expect(OutputSize.droppedInput(input: 224, kernel: 7, stride: 2, padLow: 3, padHigh: 3) == 0)
    }

    @Test("output_padding for a wanted transposed-convolution size (brute force)")
    func outputPaddingSweep() throws {
        for (k, s, p, d) in [(3, 2, 1, 1), (4, 2, 1, 1), (3, 3, 0, 1), (3, 1, 1, 2), (5, 2, 2, 1), (2, 2, 0, 1)] {
            for input in 1...16 {
                for output in 1...60 {
                    let works = (0..<max(s, d)).filter {
                        OutputSize.transposedConvolution(input: input, kernel: k, stride: s, padLow: p, padHigh: p, dilation: d,
                                                         outputPadding: $0) == output
                    }
                    if let op = works.first {
                        #expect(try OutputSize.outputPadding(forOutput: output, input: input, kernel: k, stride: s, padLow: p,
                                                             padHigh: p, dilation: d) == op)
                    } else {
                        #expect(throws: ConvKitError.self) {
                            try OutputSize.outputPadding(forOutput: output, input: input, kernel: k, stride: s, padLow: p, padHigh: p,
                                                         dilation: d)
                        }
                    }
                }
            }
        }
        // Undo a stride-2 convolution: 16 → 32 needs output_padding 1, 16 → 31 needs 0.
        #expect(try OutputSize.outputPadding(forOutput: 32, input: 16, kernel: 3, stride: 2, padLow: 1, padHigh: 1) == 1)
        #expect(try OutputSize.outputPadding(forOutput: 31, input: 16, kernel: 3, stride: 2, padLow: 1, padHigh: 1) == 0)
        do {
            _ = try OutputSize.outputPadding(forOutput: 40, input: 16, kernel: 3, stride: 2, padLow: 1, padHigh: 1)
            Issue.record("40 is out of reach")
        } catch let error as ConvKitError {
            #expect(error.description.contains("reaches only 31…32"))
            #expect(error.description.contains("remove 8 from the total padding"))
        }
    }
}
