import ArgumentParser
import ConvKit

/// `convkit demo`: the worked examples of the teaching texts, each computed by ConvKit.
public struct DemoCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Walk through the seed texts' worked examples, computed by the library.")

    public init() {}

    public func run() throws {
        for (number, step) in try Self.steps().enumerated() {
            print("\n\(number + 1). \(step.title)")
            for line in step.lines { print("   " + line) }
        }
        print("")
    }

    public struct Step {
        let title: String
        let lines: [String]
    }

    /// Formats a `[1, 1, H, W]` (or any) tensor as rows of its last dimension.
    static func rows(_ t: Tensor<Float>) -> [String] {
        let width = t.shape.last ?? 1
        return stride(from: 0, to: t.count, by: max(width, 1)).map { start in
            "[" + t.scalars[start..<min(start + width, t.count)].map { value in
                value == value.rounded() ? String(Int(value)) : String(value)
            }.joined(separator: ", ") + "]"
        }
    }

    public static func steps() throws -> [Step] {
        typealias S = SeedExamples
        var steps: [Step] = []

        let x = try Tensor<Float>(zeros: [8, 3, 32, 32]), w = try Tensor<Float>(zeros: [16, 3, 3, 3])
        steps.append(Step(title: "Channels: a filter spans the full input depth", lines: [
            "Conv2d(3, 16, kernel_size=3, padding=1) on [8, 3, 32, 32]:",
            "  padding 1, stride 1 → \(try conv2d(x, weight: w, padding: 1).shape)   (same size)",
            "  padding 0           → \(try conv2d(x, weight: w).shape)   (shrinks by k − 1)",
            "  padding 1, stride 2 → \(try conv2d(x, weight: w, stride: 2, padding: 1).shape)   (halves)",
            "  parameters: 16·3·3·3 + 16 = \(S.convParameters(inChannels: 3, outChannels: 16, kernel: [3, 3]))",
        ]))
        steps.append(Step(title: "The core: multiply a patch by the kernel and sum (4×4 lab, kernel [[1, 0], [0, −1]])",
                          lines: rows(try S.convolve(S.labImage, S.labKernel))))
        steps.append(Step(title: "A 1×2 edge detector [−1, 1] on a step image finds the vertical edge",
                          lines: rows(try S.convolve(S.stepImage, S.edgeKernel))))
        steps.append(Step(title: "Stride subsamples: 1…25 ⋆ corner-plus-centre kernel, stride 1 then stride 2",
                          lines: rows(try S.convolve(S.grid25, S.cornerKernel)) + ["stride 2:"]
                            + rows(try S.convolve(S.grid25, S.cornerKernel, stride: 2))))
        var paddingLines: [String] = []
        for mode in PaddingMode.allCases {
            paddingLines.append("padding=1, padding_mode='\(mode.rawValue)':")
            paddingLines += rows(try S.convolve(S.grid25, S.cornerKernel, padding: 1, mode: mode)).map { "  " + $0 }
        }
        steps.append(Step(title: "Padding keeps the size; the mode decides the border (the interior never changes)",
                          lines: paddingLines))
        var padLines: [String] = []
        for mode in PadMode.allCases {
            padLines.append("F.pad([[1…9]], (1, 1, 1, 1), mode='\(mode.rawValue)'):")
            padLines += rows(try pad(S.grid9, [1, 1, 1, 1], mode: mode)).map { "  " + $0 }
        }
        steps.append(Step(title: "F.pad's four modes on a 3×3 grid", lines: padLines))
        steps.append(Step(title: "Dilation 2 spreads 9 weights over a 5×5 footprint (k_eff = d·(k − 1) + 1 = 5)", lines: [
            "no padding → \(rows(try S.convolve(S.grid25, S.cornerKernel, dilation: 2))[0])  (taps 1 + 5 + 13 + 21 + 25)",
            "padding 2 keeps 5×5:",
        ] + rows(try S.convolve(S.grid25, S.cornerKernel, padding: 2, dilation: 2)).map { "  " + $0 }))
        steps.append(Step(title: "Sobel-X on the gradient image at strides 1, 2, 3", lines:
            try [1, 2, 3].flatMap { s in ["stride \(s):"] + rows(try S.convolve(S.gradientImage, S.sobelX, stride: Dims([s]))).map { "  " + $0 } }))
        let floorPool = try maxPool2d(S.poolingMap, kernelSize: 2)
        let featureMap = try S.convolve(S.widgetInput, S.widgetKernel)
        steps.append(Step(title: "Pooling: 2×2 windows, stride defaults to the kernel size", lines: [
            "max: \(rows(floorPool.output).joined(separator: " "))   avg: \(rows(try avgPool2d(S.poolingMap, kernelSize: 2)).joined(separator: " "))",
            "7×7 widget ⋆ kernel → 5×5 feature map:",
        ] + rows(featureMap).map { "  " + $0 } + [
            "max pool 2 (floor): \(rows(try maxPool2d(featureMap, kernelSize: 2).output).joined(separator: " "))",
            "max pool 2, ceil_mode: \(rows(try maxPool2d(featureMap, kernelSize: 2, ceilMode: true).output).joined(separator: " "))",
        ]))
        let fragment = [S.convParameters(inChannels: 3, outChannels: 16, kernel: [3, 3]),
                        S.convParameters(inChannels: 16, outChannels: 32, kernel: [3, 3]),
                        S.convParameters(inChannels: 32, outChannels: 32, kernel: [1, 1])]
        steps.append(Step(title: "Code Fragment 2's parameter count", lines: [
            "Conv2d(3,16,3) + Conv2d(16,32,3,stride 2) + Conv2d(32,32,1) = \(fragment.map(String.init).joined(separator: " + ")) = \(fragment.reduce(0, +))",
            "(the text prints 6432; PyTorch agrees with 6144)",
        ]))
        let trap = try conv2d(try Tensor(zeros: [1, 1, 224, 224]), weight: try Tensor(zeros: [1, 1, 3, 3]), padding: 1, dilation: 2)
        steps.append(Step(title: "Output-size exercises: O = ⌊(I + 2P − D·(K − 1) − 1) / S⌋ + 1", lines: [
            "224, k7, s2, p3 → \(OutputSize.convolution(input: 224, kernel: 7, stride: 2, padLow: 3, padHigh: 3, dilation: 1))",
            "224, k3, p1, d2 → \(trap.shape[3])   (p1 is not 'same' for d2: that needs p2)",
            "224, k5, s2, p0 → \(OutputSize.convolution(input: 224, kernel: 5, stride: 2, padLow: 0, padHigh: 0, dilation: 1))",
            "56, k5, d2, p4 → \(OutputSize.convolution(input: 56, kernel: 5, stride: 1, padLow: 4, padHigh: 4, dilation: 2)) with k_eff = \(OutputSize.effectiveKernel(5, dilation: 2)) (the text's hint says 5)",
            "'same' with stride 2 (TensorFlow rule, beyond PyTorch): 224 → \(try conv2d(try Tensor(zeros: [1, 1, 224, 224]), weight: try Tensor(zeros: [1, 1, 3, 3]), stride: 2, padding: .same).shape[3])",
        ]))
        let up = try convTranspose2d(try Tensor(zeros: [1, 1, 16, 16]), weight: try Tensor(zeros: [1, 1, 3, 3]), stride: 2,
                                     padding: 1, outputPadding: 1)
        steps.append(Step(title: "Transposed convolution upsamples: O = (I − 1)·S − 2P + D·(K − 1) + output_padding + 1", lines: [
            "16, k3, s2, p1, output_padding 1 → \(up.shape[3])",
        ]))
        steps.append(Step(title: "The MNIST pipeline the texts build (shapes computed by running the ops)",
                          lines: try S.mnistPipelineShapes().map { "\($0.0.padding(toLength: 18, withPad: " ", startingAt: 0)) \($0.1)" }
                            + ["Linear(1600, 10)   [1, 10]"]))
        return steps
    }
}
