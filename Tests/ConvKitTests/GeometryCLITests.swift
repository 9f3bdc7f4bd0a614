import ConvKit
import ConvKitCLI
import Foundation
import Testing

/// `convkit shape` and `convkit summary` through the root command's parser, in-process.
@Suite("Geometry: convkit shape and summary")
struct GeometryCLITests {
    static func render(_ arguments: [String]) throws -> String {
        let command = try ConvKitCommand.parseAsRoot(arguments)
        if let shape = command as? ShapeCommand { return try shape.render() }
        let summary = try #require(command as? SummaryCommand)
        return try summary.render()
    }

    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Examples/models")

    @Test("shape: the seeds' formula with the numbers substituted, step by step (E015: 224, k7, s2, p3 → 112)")
    func shapeSteps() throws {
        let text = try Self.render(["shape", "--input", "224", "--kernel-size", "7", "--stride", "2", "--padding", "3"])
        #expect(text == """
            convolution:
              effective kernel D·(K − 1) + 1 = 1·(7 − 1) + 1 = 7
              O = ⌊(I + 2P − D·(K − 1) − 1) / S⌋ + 1
                = ⌊(224 + 2·3 − 1·(7 − 1) − 1) / 2⌋ + 1
                = ⌊223 / 2⌋ + 1
                = 111 + 1
                = 112
              ⌊·⌋ discards 223 mod 2 = 1 position after the last window: it is padding
              with this padding, every input size in 223…224 gives 112
            output size: 112
            """)
    }

    @Test("shape: seed E019's off-by-one (32, k3, s2 drops a row; --target 16 asks for padding 1)")
    func shapeTarget() throws {
        let text = try Self.render(["shape", "--input", "32", "--kernel-size", "3", "--stride", "2", "--target", "16"])
        #expect(text.contains("⌊·⌋ discards 29 mod 2 = 1 position after the last window: 1 input row never read"))
        #expect(text.contains("for output 16: padding=1 (total padding P_low + P_high in 1…2)"))
        #expect(text.hasSuffix("output size: 15"))
        // The dilation trap (E016): p=1 with d=2 gives 222, 'same' needs 2.
        let trap = try Self.render(["shape", "--input", "224", "--kernel-size", "3", "--padding", "1", "--dilation", "2", "--target", "224"])
        #expect(trap.contains("= 222") && trap.contains("for output 224: padding=2"))
    }

    @Test("shape: ceil mode drops a last window that starts in the padding (seed F.9: I=5, k2, s3, p1 → 2)")
    func shapeCeil() throws {
        let text = try Self.render(["shape", "--input", "5", "--kernel-size", "2", "--stride", "3", "--padding", "1", "--ceil-mode"])
        #expect(text.contains("O = ⌈(I + 2P − D·(K − 1) − 1) / S⌉ + 1"))
        #expect(text.contains("the last window would start at (O − 1)·S = 6 ≥ I + P_low = 6, inside the padding: PyTorch drops it, O = 2"))
        #expect(text.hasSuffix("output size: 2"))
        // E090: the 5×5 map, 2×2 pooling: 2 floor, 3 ceil; --pool defaults the stride to the kernel.
        #expect(try Self.render(["shape", "--input", "5,5", "--kernel-size", "2", "--pool"]).hasSuffix("output size: 2 × 2"))
        #expect(try Self.render(["shape", "--input", "5,5", "--kernel-size", "2", "--ceil-mode"]).hasSuffix("output size: 3 × 3"))
    }

    @Test("shape: transposed convolution and the output_padding for a target")
    func shapeTransposed() throws {
        let text = try Self.render(["shape", "--input", "16", "--kernel-size", "3", "--stride", "2", "--padding", "1", "--transposed",
                                    "--output-padding", "1", "--target", "31"])
        #expect(text.contains("O = (I − 1)·S − 2P + D·(K − 1) + output_padding + 1"))
        #expect(text.contains("= (16 − 1)·2 − 2·1 + 1·(3 − 1) + 1 + 1"))
        #expect(text.contains("for output 31: output_padding=0"))
        #expect(text.hasSuffix("output size: 32"))
    }

    @Test("shape: named padding is resolved first ('same' at stride 2 by TensorFlow's rule, causal, full)")
    func shapeNamedPadding() throws {
        let same = try Self.render(["shape", "--input", "224", "--kernel-size", "7", "--stride", "2", "--padding", "same"])
        #expect(same.contains("padding 'same' (TensorFlow rule for stride 2): ⌈I / S⌉ = ⌈224 / 2⌉ = 112 outputs need total max((112 − 1)·2 + 7 − 224, 0) = 5: P_low = ⌊5/2⌋ = 2, P_high = 3"))
        #expect(same.contains("O = ⌊(I + P_low + P_high − D·(K − 1) − 1) / S⌋ + 1"))
        #expect(same.hasSuffix("output size: 112"))
        let causal = try Self.render(["shape", "--input", "100", "--kernel-size", "2", "--dilation", "8", "--padding", "causal"])
        #expect(causal.contains("padding 'causal': P_low = D·(K − 1) = 8, P_high = 0") && causal.hasSuffix("output size: 100"))
        let full = try Self.render(["shape", "--input", "10", "--kernel-size", "3", "--padding", "full"])
        #expect(full.hasSuffix("output size: 12"))
    }

    struct ShapeJSON: Decodable {
        struct Dimension: Decodable {
            let output: Int
            let steps: [String]
            let padding: [Int]
            let inputs_for_output: [Int]?
        }
        let output_size: [Int]
        let dimensions: [Dimension]
    }

    @Test("shape --json: the last step is the library's result, across a sweep")
    func shapeSweep() throws {
        for input in [1, 2, 5, 8, 13, 32] {
            for (k, s, p, d) in [(1, 1, 0, 1), (3, 1, 1, 1), (3, 2, 1, 1), (4, 2, 1, 1), (5, 3, 2, 2), (2, 2, 0, 1)] {
                let arguments = ["shape", "--input", "\(input)", "--kernel-size", "\(k)", "--stride", "\(s)", "--padding", "\(p)",
                                 "--dilation", "\(d)", "--json"]
                let conv = OutputSize.convolution(input: input, kernel: k, stride: s, padLow: p, padHigh: p, dilation: d)
                if conv >= 1 {
                    let result = try JSONDecoder().decode(ShapeJSON.self, from: Data(try Self.render(arguments).utf8))
                    #expect(result.output_size == [conv])
                    #expect(result.dimensions[0].steps.contains("  = \(conv)"))
                } else {
                    #expect(throws: ConvKitError.self) { try Self.render(arguments) }
                }
                let transposed = try JSONDecoder().decode(ShapeJSON.self, from: Data(try Self.render(arguments + ["--transposed"]).utf8))
                let expected = OutputSize.transposedConvolution(input: input, kernel: k, stride: s, padLow: p, padHigh: p, dilation: d,
                                                                outputPadding: 0)
                if expected >= 1 { #expect(transposed.output_size == [expected] && transposed.dimensions[0].steps.last == "  = \(expected)") }
                if p <= k / 2 {
                    for ceil in [false, true] {
                        let pool = OutputSize.pooling(input: input, kernel: k, stride: s, padLow: p, padHigh: p, dilation: d, ceilMode: ceil)
                        guard pool >= 1 else { continue }
                        let text = try Self.render(arguments + [ceil ? "--ceil-mode" : "--pool"])
                        let result = try JSONDecoder().decode(ShapeJSON.self, from: Data(text.utf8))
                        #expect(result.output_size == [pool], "pool I=\(input) k=\(k) s=\(s) p=\(p) d=\(d) ceil=\(ceil)")
                    }
                }
            }
        }
    }

    @Test("shape: PyTorch's rejections are rejected, with the op's message")
    func shapeErrors() {
        #expect(throws: ConvKitError.self) { try Self.render(["shape", "--input", "8", "--kernel-size", "2", "--padding", "2", "--pool"]) }
        #expect(throws: ConvKitError.self) {
            try Self.render(["shape", "--input", "8", "--kernel-size", "3", "--stride", "2", "--transposed", "--output-padding", "2"])
        }
        #expect(throws: (any Error).self) { try Self.render(["shape", "--input", "8", "--kernel-size", "3", "--output-padding", "1"]) }
        #expect(throws: (any Error).self) { try Self.render(["shape", "--input", "8,8,8,8", "--kernel-size", "3"]) }
        #expect(throws: (any Error).self) { try Self.render(["shape", "--kernel-size", "3"]) }
        #expect(ConvKitCommand.run(arguments: ["shape", "--input", "2", "--kernel-size", "5"]) == 1)
        #expect(ConvKitCommand.run(arguments: ["summary", "/nonexistent.json"]) == 1)
    }

    @Test("summary: a torchinfo-like table with receptive-field columns, totals and notes")
    func summaryTable() throws {
        let lenet = try Self.render(["summary", Self.examples.appendingPathComponent("lenet.json").path])
        let lines = lenet.split(separator: "\n").map(String.init)
        #expect(lines.contains("Layer (path)  Type       Output shape     Params       MACs     RF  Stride  Padding"))
        #expect(lines.contains("0             Conv2d     [1, 32, 26, 26]     320    194,688    3×3     1×1      0×0"))
        #expect(lines.contains("5             MaxPool2d  [1, 64, 5, 5]         0          0  10×10     4×4      0×0"))
        #expect(lines.contains("6             Flatten    [1, 1600]             0          0      —       —        —"))
        #expect(lines.contains("Total params: 34,826 (0.14 MB as float32)"))
        #expect(lines.contains("Total MACs: 2,440,960 (2.44 M)"))
        #expect(lines.contains("  5 (MaxPool2d): floor rounding leaves the last 1×1 input positions of the 11×11 input unread"))
        let wavenet = try Self.render(["summary", Self.examples.appendingPathComponent("wavenet.json").path])
        #expect(wavenet.contains("Output receptive field: r 1024, S 1, P 1023 (unit i sees input −P + i·S … −P + i·S + r − 1)"))
        #expect(wavenet.contains("  1 (Residual): branches misaligned in dimension 0: centres (r − 1)/2 − P are branch 0: [-1.5]; branch 1: [-0.5]"))
        let resnet = try Self.render(["summary", Self.examples.appendingPathComponent("resnet18.json").path])
        #expect(resnet.contains("  4.body.0       Conv2d             [1, 64, 56, 56]       36,864  115,605,504    19×19      4×4      9×9"))
        let top = try Self.render(["summary", Self.examples.appendingPathComponent("resnet18.json").path, "--depth", "0"])
        #expect(!top.contains("4.body.0") && top.contains("Total params: 11,689,512"))
        #expect(top.split(separator: "\n").filter { $0.first?.isNumber == true }.count == 23)
    }
}
