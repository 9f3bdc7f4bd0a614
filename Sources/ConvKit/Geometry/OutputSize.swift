/// The output-size arithmetic of sliding windows, per spatial dimension, exactly as PyTorch
/// computes it. All functions are pure integer arithmetic.
public enum OutputSize {
    /// The span of a dilated kernel: `d·(k − 1) + 1`.
    public static func effectiveKernel(_ kernel: Int, dilation: Int) -> Int {
        dilation * (kernel - 1) + 1
    }

    /// Convolution: `O = ⌊(I + P_low + P_high − d·(k − 1) − 1) / s⌋ + 1`.
    ///
    /// Returns a value ≤ 0 when the padded input is shorter than the dilated kernel.
    public static func convolution(input: Int, kernel: Int, stride: Int, padLow: Int, padHigh: Int, dilation: Int) -> Int {
        floorDivide(input + padLow + padHigh - effectiveKernel(kernel, dilation: dilation), stride) + 1
    }

    /// Transposed convolution: `O = (I − 1)·s − P_low − P_high + d·(k − 1) + output_padding + 1`.
    public static func transposedConvolution(input: Int, kernel: Int, stride: Int, padLow: Int, padHigh: Int,
                                             dilation: Int, outputPadding: Int) -> Int {
        (input - 1) * stride - padLow - padHigh + dilation * (kernel - 1) + outputPadding + 1
    }

    /// Pooling, as PyTorch's `pooling_output_shape`: the convolution formula, rounded up with
    /// `ceilMode`, except that the last window must start inside the input or the low padding.
    public static func pooling(input: Int, kernel: Int, stride: Int, padLow: Int, padHigh: Int, dilation: Int,
                               ceilMode: Bool) -> Int {
        let span = input + padLow + padHigh - effectiveKernel(kernel, dilation: dilation)
        var output = floorDivide(span + (ceilMode ? stride - 1 : 0), stride) + 1
        if ceilMode && (output - 1) * stride >= input + padLow { output -= 1 }
        return output
    }

    /// Total padding of the TensorFlow/JAX `'same'` rule: output `⌈I / s⌉`,
    /// total `max((O − 1)·s + d·(k − 1) + 1 − I, 0)`, low side `⌊total / 2⌋`.
    public static func samePadding(input: Int, kernel: Int, stride: Int, dilation: Int) -> (low: Int, high: Int) {
        let output = (input + stride - 1) / stride
        let total = max((output - 1) * stride + effectiveKernel(kernel, dilation: dilation) - input, 0)
        return (total / 2, total - total / 2)
    }

    /// `⌊a / b⌋` for positive `b` (Swift's `/` rounds toward zero).
    static func floorDivide(_ a: Int, _ b: Int) -> Int {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }
}
