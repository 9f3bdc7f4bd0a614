import ConvKit

/// The worked examples of the teaching texts (`shared/seeds/`), computed by the library.
/// `convkit demo` prints them; the tests check them against the texts (and PyTorch where a
/// text is wrong).
public enum SeedExamples {
    /// The 5×5 grid 1…25.
    public static let grid25 = matrix(5, 5, (1...25).map(Float.init))
    /// The "corner-plus-centre" kernel.
    public static let cornerKernel = matrix(3, 3, [1, 0, 1, 0, 1, 0, 1, 0, 1])
    /// The gradient image, value 10·(r+1)·(c+1).
    public static let gradientImage = matrix(5, 5, (0..<25).map { (i: Int) -> Float in
        let row = i / 5 + 1, column = i % 5 + 1
        return Float(10 * row * column)
    })
    /// Sobel-X.
    public static let sobelX = matrix(3, 3, [-1, 0, 1, -2, 0, 2, -1, 0, 1])
    /// The 3×3 grid 1…9 used for F.pad.
    public static let grid9 = matrix(3, 3, (1...9).map(Float.init))
    /// The 4×4 pooling map.
    public static let poolingMap = matrix(4, 4, [1, 3, 2, 4, 5, 6, 1, 2, 7, 2, 3, 1, 4, 8, 5, 6])
    /// The 7×7 input and 3×3 kernel of the convolution widget.
    public static let widgetInput = matrix(7, 7, [3, 3, 2, 1, 0, 2, 1, 0, 0, 1, 3, 1, 0, 2, 3, 1, 2, 2, 3, 1, 0, 2, 0, 0, 2, 2, 3, 1,
                                                  2, 0, 0, 0, 1, 2, 2, 1, 3, 2, 1, 0, 1, 3, 0, 2, 1, 3, 2, 0, 1])
    public static let widgetKernel = matrix(3, 3, [0, 1, 2, 2, 2, 0, 0, 1, 2])
    /// The 4×4 hand-convolution lab and its 2×2 kernel.
    public static let labImage = matrix(4, 4, [1, 2, 0, 0, 5, 3, 0, 4, 2, 1, 3, 1, 0, 2, 1, 2])
    public static let labKernel = matrix(2, 2, [1, 0, 0, -1])
    /// The step image and the 1×2 edge detector.
    public static let stepImage = matrix(5, 5, [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0])
    public static let edgeKernel = matrix(1, 2, [-1, 1])

    /// A `[1, 1, rows, columns]` tensor.
    public static func matrix(_ rows: Int, _ columns: Int, _ values: [Float]) -> Tensor<Float> {
        (try? Tensor(shape: [1, 1, rows, columns], scalars: values)) ?? (try! Tensor(zeros: [0]))
    }

    /// Single-channel convolution of `image` with `kernel` (no bias).
    public static func convolve(_ image: Tensor<Float>, _ kernel: Tensor<Float>, stride: Dims = 1, padding: Padding = 0,
                                dilation: Dims = 1, mode: PaddingMode = .zeros) throws -> Tensor<Float> {
        try conv2d(image, weight: kernel, stride: stride, padding: padding, dilation: dilation, paddingMode: mode)
    }

    /// Trainable parameters of a convolution: `C_out·(C_in/groups)·∏k + C_out` (with bias).
    public static func convParameters(inChannels: Int, outChannels: Int, kernel: [Int], groups: Int = 1, bias: Bool = true) -> Int {
        outChannels * (inChannels / groups) * kernel.reduce(1, *) + (bias ? outChannels : 0)
    }

    /// The output shapes of a stack of layers applied to `input`, computed by running the ops on zeros.
    public static func shapes(input: [Int], _ layers: [(String, (Tensor<Float>) throws -> Tensor<Float>)]) throws -> [(String, [Int])] {
        var x = try Tensor<Float>(zeros: input)
        var trace: [(String, [Int])] = [("input", input)]
        for (name, layer) in layers {
            x = try layer(x)
            trace.append((name, x.shape))
        }
        return trace
    }

    /// The seeds' MNIST pipeline: Conv 1→32 3×3, ReLU, MaxPool 2, Conv 32→64 3×3, ReLU, MaxPool 2, Flatten, Linear 1600→10.
    public static func mnistPipelineShapes() throws -> [(String, [Int])] {
        let w1 = try Tensor<Float>(zeros: [32, 1, 3, 3]), w2 = try Tensor<Float>(zeros: [64, 32, 3, 3])
        return try shapes(input: [1, 1, 28, 28], [
            ("Conv2d(1, 32, 3)", { try conv2d($0, weight: w1) }),
            ("MaxPool2d(2)", { try maxPool2d($0, kernelSize: 2).output }),
            ("Conv2d(32, 64, 3)", { try conv2d($0, weight: w2) }),
            ("MaxPool2d(2)", { try maxPool2d($0, kernelSize: 2).output }),
            ("Flatten", { try $0.reshaped([$0.shape[0], -1]) }),
        ])
    }
}
