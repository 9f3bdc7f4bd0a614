/// Per-dimension integer arguments (kernel size, stride, dilation, output padding): one value
/// for every spatial dimension, or one value per dimension, as PyTorch's `int | tuple`.
///
/// Literals work: `stride: 2` or `stride: [2, 1]`.
public struct Dims: Equatable, Sendable, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral, CustomStringConvertible {
    public var values: [Int]

    public init(_ values: [Int]) { self.values = values }
    public init(integerLiteral value: Int) { values = [value] }
    public init(arrayLiteral elements: Int...) { values = elements }

    public var description: String { values.count == 1 ? "\(values[0])" : "\(values)" }

    /// The values for `rank` spatial dimensions: a single value is repeated.
    /// - Throws: if the count is neither 1 nor `rank`.
    func expanded(to rank: Int, op: String, argument: String) throws -> [Int] {
        if values.count == rank { return values }
        if values.count == 1 { return Array(repeating: values[0], count: rank) }
        throw ConvKitError.invalidArgument(
            op: op, "\(argument) must be a single integer or a list of \(rank) values, but got \(argument)=\(description)")
    }
}

/// The padding of a convolution or pooling window.
///
/// Literals work: `padding: 1`, `padding: [1, 2]`. Beyond PyTorch, ConvKit accepts `.same` with
/// any stride (TensorFlow/JAX rule), asymmetric `(low, high)` padding and causal 1-D padding.
public enum Padding: Equatable, Sendable, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral, CustomStringConvertible {
    /// The same amount on both sides of each dimension (one value for all dimensions, or one each).
    case explicit([Int])
    /// `low[i]` before and `high[i]` after dimension `i` (one value for all dimensions, or one each).
    case asymmetric(low: [Int], high: [Int])
    /// Output size `⌈in / stride⌉`; total padding `max((out − 1)·s + d·(k − 1) + 1 − in, 0)`,
    /// `⌊total / 2⌋` before and the rest after. With stride 1 this is PyTorch's `'same'`.
    case same
    /// No padding.
    case valid
    /// `d·(k − 1)` on both sides: every position where the kernel overlaps the input.
    case full
    /// `d·(k − 1)` before and none after (1-D convolution): output `t` sees inputs up to `t` only.
    case causal

    public init(integerLiteral value: Int) { self = .explicit([value]) }
    public init(arrayLiteral elements: Int...) { self = .explicit(elements) }

    public var description: String {
        switch self {
        case let .explicit(values): return values.count == 1 ? "\(values[0])" : "\(values)"
        case let .asymmetric(low, high): return "(low: \(low), high: \(high))"
        case .same: return "'same'"
        case .valid: return "'valid'"
        case .full: return "'full'"
        case .causal: return "'causal'"
        }
    }
}

/// How a convolution pads its input (`padding_mode` of PyTorch's `nn.ConvNd`).
public enum PaddingMode: String, Sendable, CaseIterable {
    case zeros, reflect, replicate, circular
}

/// How ``pad(_:_:mode:value:)`` fills the border (`mode` of `torch.nn.functional.pad`).
public enum PadMode: String, Sendable, CaseIterable {
    case constant, reflect, replicate, circular
}
