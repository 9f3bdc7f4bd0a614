import ConvKit

/// The output size of one window op in one dimension, with every step of the arithmetic written
/// out as the seed texts do, plus what the solvers say about it.
struct ShapeExplanation {
    enum Operation: String {
        case conv, convTranspose = "conv_transpose", pool
    }

    let operation: Operation
    let ceilMode: Bool
    let input: Int
    let kernel: Int
    let stride: Int
    let dilation: Int
    let padLow: Int
    let padHigh: Int
    let outputPadding: Int
    let output: Int
    /// How the padding was resolved (for named padding), then the formula and its steps.
    let steps: [String]
    /// Input positions floor rounding leaves unread (floor-mode conv and pooling).
    let dropped: Int
    /// Every input size giving the same output (conv and pooling).
    let inputsForOutput: ClosedRange<Int>?
    /// For `--target`: the padding (conv, pooling) or output_padding (transposed) that gives it.
    let targetPadding: PaddingSolution?
    let targetOutputPadding: Int?
    let targetProblem: String?

    var effectiveKernel: Int { OutputSize.effectiveKernel(kernel, dilation: dilation) }

    init(operation: Operation, ceilMode: Bool, input: Int, kernel: Int, stride: Int, dilation: Int, padding: Padding,
         resolved: (low: Int, high: Int), outputPadding: Int, target: Int?) {
        self.operation = operation
        self.ceilMode = ceilMode
        self.input = input
        self.kernel = kernel
        self.stride = stride
        self.dilation = dilation
        (padLow, padHigh) = resolved
        self.outputPadding = outputPadding
        let (i, k, s, d, low, high) = (input, kernel, stride, dilation, resolved.low, resolved.high)
        let keff = OutputSize.effectiveKernel(k, dilation: d)
        var steps = ["effective kernel D·(K − 1) + 1 = \(d)·(\(k) − 1) + 1 = \(keff)"]
        steps += Self.paddingSteps(padding, input: i, kernel: k, stride: s, dilation: d, low: low, high: high)
        let symmetric = low == high
        let padTerm = symmetric ? "2P" : "P_low + P_high"
        let padValue = symmetric ? "2·\(low)" : "\(low) + \(high)"
        switch operation {
        case .convTranspose:
            let o = OutputSize.transposedConvolution(input: i, kernel: k, stride: s, padLow: low, padHigh: high, dilation: d,
                                                     outputPadding: outputPadding)
            steps += [
                "O = (I − 1)·S − \(symmetric ? "2P" : "P_low − P_high") + D·(K − 1) + output_padding + 1",
                "  = (\(i) − 1)·\(s) − \(symmetric ? "2·\(low)" : "\(low) − \(high)") + \(d)·(\(k) − 1) + \(outputPadding) + 1",
                "  = \((i - 1) * s) − \(low + high) + \(d * (k - 1)) + \(outputPadding) + 1",
                "  = \(o)",
            ]
            output = o
            dropped = 0
            inputsForOutput = nil
        case .conv, .pool:
            let span = i + low + high - keff
            let open = ceilMode ? "⌈" : "⌊", close = ceilMode ? "⌉" : "⌋"
            let quotient = ceilMode ? Self.ceilDivide(span, s) : Self.floorDivide(span, s)
            steps += [
                "O = \(open)(I + \(padTerm) − D·(K − 1) − 1) / S\(close) + 1",
                "  = \(open)(\(i) + \(padValue) − \(d)·(\(k) − 1) − 1) / \(s)\(close) + 1",
                "  = \(open)\(span) / \(s)\(close) + 1",
                "  = \(quotient) + 1",
                "  = \(quotient + 1)",
            ]
            var o = quotient + 1
            if ceilMode {
                let start = (o - 1) * s
                if start >= i + low {
                    steps.append("the last window would start at (O − 1)·S = \(start) ≥ I + P_low = \(i + low), inside the padding: PyTorch drops it, O = \(o - 1)")
                    o -= 1
                } else {
                    steps.append("the last window starts at (O − 1)·S = \(start) < I + P_low = \(i + low): kept")
                }
            }
            output = OutputSize.pooling(input: i, kernel: k, stride: s, padLow: low, padHigh: high, dilation: d, ceilMode: ceilMode)
            dropped = ceilMode ? 0 : OutputSize.droppedInput(input: i, kernel: k, stride: s, padLow: low, padHigh: high, dilation: d)
            inputsForOutput = operation == .pool
                ? OutputSize.inputSizes(forPoolingOutput: output, kernel: k, stride: s, padLow: low, padHigh: high, dilation: d, ceilMode: ceilMode)
                : OutputSize.inputSizes(forOutput: output, kernel: k, stride: s, padLow: low, padHigh: high, dilation: d)
            if span >= 0, !ceilMode, span % s != 0 {
                let unread = span % s
                steps.append("⌊·⌋ discards \(span) mod \(s) = \(unread) position\(unread == 1 ? "" : "s") after the last window: \(dropped == 0 ? "\(unread == 1 ? "it is" : "they are") padding" : "\(dropped) input row\(dropped == 1 ? "" : "s") never read")")
            }
        }
        self.steps = steps
        var targetPadding: PaddingSolution?, targetOutputPadding: Int?, targetProblem: String?
        if let target {
            do {
                if operation == .pool, ceilMode {
                    targetProblem = "--target: the padding solver covers floor rounding; drop --ceil-mode to solve for padding"
                } else if operation == .convTranspose {
                    targetOutputPadding = try OutputSize.outputPadding(forOutput: target, input: i, kernel: k, stride: s, padLow: low,
                                                                       padHigh: high, dilation: d)
                } else {
                    targetPadding = try OutputSize.padding(forOutput: target, input: i, kernel: k, stride: s, dilation: d)
                }
            } catch {
                targetProblem = "\(error)"
            }
        }
        self.targetPadding = targetPadding
        self.targetOutputPadding = targetOutputPadding
        self.targetProblem = targetProblem
    }

    private static func paddingSteps(_ padding: Padding, input: Int, kernel: Int, stride: Int, dilation: Int, low: Int, high: Int) -> [String] {
        let total = low + high
        switch padding {
        case .same where stride == 1:
            return ["padding 'same': total D·(K − 1) = \(dilation * (kernel - 1)), P_low = ⌊\(total)/2⌋ = \(low), P_high = \(high)"]
        case .same:
            let output = (input + stride - 1) / stride
            return ["padding 'same' (TensorFlow rule for stride \(stride)): ⌈I / S⌉ = ⌈\(input) / \(stride)⌉ = \(output) outputs need total max((\(output) − 1)·\(stride) + \(OutputSize.effectiveKernel(kernel, dilation: dilation)) − \(input), 0) = \(total): P_low = ⌊\(total)/2⌋ = \(low), P_high = \(high)"]
        case .valid:
            return ["padding 'valid': P = 0"]
        case .full:
            return ["padding 'full': P = D·(K − 1) = \(low) on both sides"]
        case .causal:
            return ["padding 'causal': P_low = D·(K − 1) = \(low), P_high = 0"]
        case .explicit, .asymmetric:
            return []
        }
    }

    static func floorDivide(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }
    static func ceilDivide(_ a: Int, _ b: Int) -> Int { -floorDivide(-a, b) }

    /// The remarks after the steps: dropped rows, the inputs sharing this output, the target.
    var remarks: [String] {
        var lines: [String] = []
        if let inputs = inputsForOutput, inputs.count > 1 {
            lines.append("with this padding, every input size in \(inputs.lowerBound)…\(inputs.upperBound) gives \(output)")
        }
        if let solution = targetPadding {
            let totals = solution.totals.count == 1 ? "\(solution.totals.lowerBound)" : "\(solution.totals.lowerBound)…\(solution.totals.upperBound)"
            let choice = solution.symmetric.map { "padding=\($0)" } ?? "asymmetric padding (low \(solution.low), high \(solution.high))"
            lines.append("for output \(targetText): \(choice) (total padding P_low + P_high in \(totals))")
        }
        if let outputPadding = targetOutputPadding {
            lines.append("for output \(targetText): output_padding=\(outputPadding)")
        }
        if let problem = targetProblem { lines.append(problem) }
        return lines
    }

    private var targetText: String {
        if let solution = targetPadding {
            return "\(OutputSize.convolution(input: input, kernel: kernel, stride: stride, padLow: solution.low, padHigh: solution.high, dilation: dilation))"
        }
        if let outputPadding = targetOutputPadding {
            return "\(OutputSize.transposedConvolution(input: input, kernel: kernel, stride: stride, padLow: padLow, padHigh: padHigh, dilation: dilation, outputPadding: outputPadding))"
        }
        return "?"
    }
}
