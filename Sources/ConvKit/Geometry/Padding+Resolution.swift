/// Padding resolved to numbers: `low[i]` before and `high[i]` after spatial dimension `i`.
public struct ResolvedPadding: Equatable, Sendable, CustomStringConvertible {
    /// Padding before each spatial dimension.
    public var low: [Int]
    /// Padding after each spatial dimension.
    public var high: [Int]

    /// Padding from its `low` and `high` sides.
    public init(low: [Int], high: [Int]) {
        self.low = low
        self.high = high
    }

    /// Whether every dimension has the same padding on both sides (PyTorch's integer `padding`).
    public var isSymmetric: Bool { low == high }

    /// A short rendering for messages.
    public var description: String {
        isSymmetric ? (low.count == 1 ? "\(low[0])" : "\(low)") : "(low: \(low), high: \(high))"
    }
}

extension Padding {
    /// The `(low, high)` padding per spatial dimension for an input of size `input`:
    /// - explicit `p`: `(p, p)`; asymmetric: as given;
    /// - `'valid'`: `(0, 0)`;
    /// - `'same'`: output `⌈I / s⌉`, total `T = max((⌈I / s⌉ − 1)·s + d·(k − 1) + 1 − I, 0)`,
    ///   `(⌊T / 2⌋, T − ⌊T / 2⌋)`. With stride 1, `T = d·(k − 1)`, exactly PyTorch's `'same'`
    ///   (the odd pixel of an even kernel goes after); with stride > 1 it is the TensorFlow/JAX rule;
    /// - `'full'`: `(d·(k − 1), d·(k − 1))`, output `I + d·(k − 1)` at stride 1;
    /// - `'causal'` (one spatial dimension only): `(d·(k − 1), 0)`, so output `t` sees inputs `≤ t`.
    ///
    /// - Parameters:
    ///   - input: the spatial input sizes (one per dimension); only `'same'` depends on them.
    ///   - kernelSize, stride, dilation: one value for every dimension, or one each.
    /// - Throws: ``ConvKitError/invalidArgument(op:message:)`` for a wrong number of values,
    ///   negative padding, or `'causal'` with more than one spatial dimension.
    public func resolved(input: [Int], kernelSize: Dims, stride: Dims = 1, dilation: Dims = 1) throws -> ResolvedPadding {
        let op = "padding"
        let rank = input.count
        let kernel = try checked(kernelSize, "kernel_size", op: op, rank: rank)
        let strides = try checked(stride, "stride", op: op, rank: rank)
        let dilations = try checked(dilation, "dilation", op: op, rank: rank)
        let (low, high) = try resolve(op: op, input: input, kernel: kernel, stride: strides, dilation: dilations,
                                      allowsCausal: rank == 1)
        return ResolvedPadding(low: low, high: high)
    }
}
