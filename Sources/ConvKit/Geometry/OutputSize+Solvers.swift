/// The padding choices that give a wanted output size, found by ``OutputSize/padding(forOutput:input:kernel:stride:dilation:)``.
///
/// With total padding `T = P_low + P_high`, a convolution gives `O = ⌊(I + T − d·(k − 1) − 1) / s⌋ + 1`,
/// so every `T` with `(O − 1)·s ≤ I + T − d·(k − 1) − 1 ≤ (O − 1)·s + s − 1` gives `O`: a range of
/// `s` consecutive totals (clipped at 0).
public struct PaddingSolution: Equatable, Sendable, CustomStringConvertible {
    /// Every total padding `P_low + P_high ≥ 0` that gives the wanted output size.
    public let totals: ClosedRange<Int>
    /// The smallest PyTorch integer `padding` `p` (the same on both sides) that gives the wanted
    /// size, i.e. the smallest `p` with `2p` in ``totals``; `nil` when only an odd total works
    /// (stride 1 with an even effective kernel), which needs asymmetric padding.
    public let symmetric: Int?
    /// The smallest total, split as `'same'` does: `⌊T / 2⌋` before.
    public let low: Int
    /// The smallest total, split as `'same'` does: `T − ⌊T / 2⌋` after.
    public let high: Int

    /// A short rendering for messages.
    public var description: String {
        if let symmetric { return "padding=\(symmetric)" }
        return "padding (low, high) = (\(low), \(high))"
    }
}

extension OutputSize {
    /// The padding that makes a convolution (or floor-mode pooling) give `output`.
    ///
    /// Every total `T = P_low + P_high` in `[(O − 1)·s + d·(k − 1) + 1 − I, (O − 1)·s + d·(k − 1) + 1 − I + s − 1]`,
    /// clipped at 0, gives `O = ⌊(I + T − d·(k − 1) − 1) / s⌋ + 1`.
    ///
    /// - Parameters:
    ///   - output: the wanted output size `O` (≥ 1).
    ///   - input: the input size `I` (≥ 1).
    ///   - kernel: `k`; `stride`: `s`; `dilation`: `d` (all ≥ 1).
    /// - Throws: ``ConvKitError/invalidArgument(op:message:)`` when no non-negative padding gives
    ///   `output` (the unpadded output is already larger), or an argument is out of range.
    public static func padding(forOutput output: Int, input: Int, kernel: Int, stride: Int, dilation: Int = 1) throws -> PaddingSolution {
        try requirePositive(["output": output, "input": input, "kernel_size": kernel, "stride": stride, "dilation": dilation],
                            op: "padding solver")
        let least = (output - 1) * stride + effectiveKernel(kernel, dilation: dilation) - input
        let most = least + stride - 1
        guard most >= 0 else {
            let unpadded = convolution(input: input, kernel: kernel, stride: stride, padLow: 0, padHigh: 0, dilation: dilation)
            throw ConvKitError.invalidArgument(
                op: "padding solver",
                "no padding gives output \(output): input \(input) with kernel_size \(kernel), stride \(stride), dilation \(dilation) already gives \(unpadded) without padding; use a larger stride or kernel, or crop the input to \(input + most + 1 - stride)…\(input + most)")
        }
        let totals = max(least, 0)...most
        let firstEven = totals.lowerBound % 2 == 0 ? totals.lowerBound : totals.lowerBound + 1
        let symmetric = firstEven <= totals.upperBound ? firstEven / 2 : nil
        let total = totals.lowerBound
        return PaddingSolution(totals: totals, symmetric: symmetric, low: total / 2, high: total - total / 2)
    }

    /// Every input size that a convolution (or floor-mode pooling) maps to `output`:
    /// `I ∈ [(O − 1)·s + d·(k − 1) + 1 − T, (O − 1)·s + d·(k − 1) + 1 − T + s − 1]` with `T = P_low + P_high`,
    /// clipped at `I ≥ 1`. A stride `s` maps `s` consecutive input sizes to each output size.
    ///
    /// - Returns: the sizes, or `nil` when no input size ≥ 1 gives `output` (the padding alone is too large).
    public static func inputSizes(forOutput output: Int, kernel: Int, stride: Int, padLow: Int = 0, padHigh: Int = 0,
                                  dilation: Int = 1) -> ClosedRange<Int>? {
        guard output >= 1, stride >= 1 else { return nil }
        let least = (output - 1) * stride + effectiveKernel(kernel, dilation: dilation) - padLow - padHigh
        let most = least + stride - 1
        guard most >= 1 else { return nil }
        return max(least, 1)...most
    }

    /// Every input size that pooling maps to `output`, for either rounding (``pooling(input:kernel:stride:padLow:padHigh:dilation:ceilMode:)``).
    ///
    /// With `ceilMode == false` this is ``inputSizes(forOutput:kernel:stride:padLow:padHigh:dilation:)``.
    /// With `ceilMode`, `O = ⌈(I + T − d·(k − 1) − 1) / s⌉ + 1`, minus one when the last window would
    /// start at or after `I + P_low`; the sizes are found among the `3s` candidates around the
    /// floor-mode answer (the output grows monotonically with the input).
    public static func inputSizes(forPoolingOutput output: Int, kernel: Int, stride: Int, padLow: Int = 0, padHigh: Int = 0,
                                  dilation: Int = 1, ceilMode: Bool) -> ClosedRange<Int>? {
        guard ceilMode else {
            return inputSizes(forOutput: output, kernel: kernel, stride: stride, padLow: padLow, padHigh: padHigh, dilation: dilation)
        }
        guard output >= 1, stride >= 1 else { return nil }
        let floorLeast = (output - 1) * stride + effectiveKernel(kernel, dilation: dilation) - padLow - padHigh
        let candidates = max(floorLeast - 2 * stride, 1)...max(floorLeast + 2 * stride, 1)
        let hits = candidates.filter {
            pooling(input: $0, kernel: kernel, stride: stride, padLow: padLow, padHigh: padHigh, dilation: dilation, ceilMode: true) == output
        }
        guard let first = hits.first, let last = hits.last else { return nil }
        return first...last
    }

    /// How many trailing input rows (or columns) a convolution or floor-mode pooling silently
    /// drops: no window reaches them because `⌊·⌋` discards the remainder.
    ///
    /// The windows cover the padded input up to `(O − 1)·s + d·(k − 1)`; the remaining
    /// `(I + T − d·(k − 1) − 1) mod s` padded positions go unread, of which the last `P_high` are
    /// padding: `dropped = max(0, (I + T − d·(k − 1) − 1) mod s − P_high)`.
    /// For example `I = 32, k = 3, s = 2, p = 0` drops one row (output 15); `p = 1` drops none (output 16).
    ///
    /// - Returns: 0 when the padded input is shorter than the dilated kernel (there is no output).
    public static func droppedInput(input: Int, kernel: Int, stride: Int, padLow: Int = 0, padHigh: Int = 0, dilation: Int = 1) -> Int {
        let span = input + padLow + padHigh - effectiveKernel(kernel, dilation: dilation)
        guard span >= 0, stride >= 1 else { return 0 }
        return max(0, span % stride - padHigh)
    }

    /// The `output_padding` a transposed convolution needs to give `output`:
    /// `output_padding = O − ((I − 1)·s − P_low − P_high + d·(k − 1) + 1)`, which PyTorch accepts
    /// when `0 ≤ output_padding < max(s, d)`.
    ///
    /// This is how a decoder undoes a strided convolution: a stride-`s` convolution maps `s`
    /// input sizes to one output size, and `output_padding` picks which one to restore.
    /// - Throws: ``ConvKitError/invalidArgument(op:message:)`` naming the sizes the transposed
    ///   convolution can reach when `output` is not among them.
    public static func outputPadding(forOutput output: Int, input: Int, kernel: Int, stride: Int, padLow: Int = 0,
                                     padHigh: Int = 0, dilation: Int = 1) throws -> Int {
        try requirePositive(["output": output, "input": input, "kernel_size": kernel, "stride": stride, "dilation": dilation],
                            op: "output_padding solver")
        let base = transposedConvolution(input: input, kernel: kernel, stride: stride, padLow: padLow, padHigh: padHigh,
                                         dilation: dilation, outputPadding: 0)
        let limit = max(stride, dilation)
        let needed = output - base
        guard needed >= 0, needed < limit else {
            let fix = needed < 0
                ? "add \(base - output) to the total padding P_low + P_high"
                : "remove \(needed - limit + 1) from the total padding P_low + P_high"
            throw ConvKitError.invalidArgument(
                op: "output_padding solver",
                "no output_padding gives output \(output): input \(input) with kernel_size \(kernel), stride \(stride), padding (\(padLow), \(padHigh)), dilation \(dilation) reaches only \(base)…\(base + limit - 1) (output_padding 0…\(limit - 1)); \(fix)")
        }
        return needed
    }

    static func requirePositive(_ values: KeyValuePairs<String, Int>, op: String) throws {
        for (name, value) in values where value < 1 {
            throw ConvKitError.invalidArgument(op: op, "\(name) must be positive, but got \(name)=\(value)")
        }
    }
}
