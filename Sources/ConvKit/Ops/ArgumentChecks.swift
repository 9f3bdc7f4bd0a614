/// Argument normalisation shared by every op: batched/unbatched inputs, per-dimension
/// arguments, positivity. Messages follow one pattern: `op: argument (value) must …`.

/// The layout of a `[N, C, spatial…]` or unbatched `[C, spatial…]` input.
struct SpatialInput: Sendable {
    let batch: Int
    let channels: Int
    let spatial: [Int]
    /// Whether the caller passed a batch dimension; outputs keep the same convention.
    let batched: Bool

    /// Accepts rank `spatialRank + 1` (unbatched) or `spatialRank + 2` (batched), as PyTorch.
    init(op: String, argument: String = "input", shape: [Int], spatialRank: Int) throws {
        if shape.count == spatialRank + 2 {
            batched = true
            batch = shape[0]
            channels = shape[1]
            spatial = Array(shape[2...])
        } else if shape.count == spatialRank + 1 {
            batched = false
            batch = 1
            channels = shape[0]
            spatial = Array(shape[1...])
        } else {
            throw ConvKitError.invalidShape(
                op: op, "expected \(argument) of rank \(spatialRank + 1) (unbatched [C, \(spatialNames(spatialRank))]) or \(spatialRank + 2) (batched [N, C, \(spatialNames(spatialRank))]), but got shape \(shape)")
        }
    }

    /// The output shape for `channels` output channels and the given spatial sizes.
    func outputShape(channels: Int, spatial: [Int]) -> [Int] {
        (batched ? [batch, channels] : [channels]) + spatial
    }

    /// Rejects empty channel or spatial dimensions (an empty batch is fine).
    func requireNonEmpty(op: String, argument: String = "input", shape: [Int]) throws {
        guard channels > 0, spatial.allSatisfy({ $0 > 0 }) else {
            throw ConvKitError.invalidShape(
                op: op, "expected \(argument) with non-zero channel and spatial sizes, but got shape \(shape)")
        }
    }
}

func spatialNames(_ rank: Int) -> String {
    ["L", "H, W", "D, H, W"][max(0, min(rank, 3) - 1)]
}

/// Expands a per-dimension argument and checks that every value is ≥ `minimum`.
func checked(_ dims: Dims, _ argument: String, op: String, rank: Int, minimum: Int = 1) throws -> [Int] {
    let values = try dims.expanded(to: rank, op: op, argument: argument)
    guard values.allSatisfy({ $0 >= minimum }) else {
        let rule = minimum == 1 ? "positive" : (minimum == 0 ? "non-negative" : "at least \(minimum)")
        throw ConvKitError.invalidArgument(op: op, "\(argument) must be \(rule), but got \(argument)=\(dims)")
    }
    return values
}

/// Formats spatial sizes as PyTorch does in messages: `(3 x 5)`.
func sizeText(_ sizes: [Int]) -> String {
    "(" + sizes.map(String.init).joined(separator: " x ") + ")"
}

extension Padding {
    /// The `(low, high)` padding per dimension.
    ///
    /// `'same'` uses the TensorFlow/JAX rule (PyTorch's for stride 1), `'causal'` is allowed only
    /// when `allowsCausal`, and negative explicit padding is rejected.
    func resolve(op: String, input: [Int], kernel: [Int], stride: [Int], dilation: [Int],
                 allowsCausal: Bool, allowsNegative: Bool = false) throws -> (low: [Int], high: [Int]) {
        let rank = input.count
        func expand(_ values: [Int], _ name: String) throws -> [Int] {
            let expanded = try Dims(values).expanded(to: rank, op: op, argument: name)
            guard allowsNegative || expanded.allSatisfy({ $0 >= 0 }) else {
                throw ConvKitError.invalidArgument(op: op, "padding must be non-negative, but got padding=\(self)")
            }
            return expanded
        }
        switch self {
        case let .explicit(values):
            let pads = try expand(values, "padding")
            return (pads, pads)
        case let .asymmetric(low, high):
            return (try expand(low, "padding (low side)"), try expand(high, "padding (high side)"))
        case .valid:
            let zeros = Array(repeating: 0, count: rank)
            return (zeros, zeros)
        case .same:
            let pads = (0..<rank).map {
                OutputSize.samePadding(input: input[$0], kernel: kernel[$0], stride: stride[$0], dilation: dilation[$0])
            }
            return (pads.map(\.low), pads.map(\.high))
        case .full:
            let pads = (0..<rank).map { dilation[$0] * (kernel[$0] - 1) }
            return (pads, pads)
        case .causal:
            guard allowsCausal else {
                throw ConvKitError.invalidArgument(
                    op: op, "padding='causal' is only defined for 1-D convolution (conv1d); use padding=(low, high) per dimension instead")
            }
            return ((0..<rank).map { dilation[$0] * (kernel[$0] - 1) }, Array(repeating: 0, count: rank))
        }
    }

    /// Whether this is a string mode (`'same'`, `'valid'`, `'full'`, `'causal'`).
    var isNamed: Bool {
        switch self {
        case .explicit, .asymmetric: return false
        case .same, .valid, .full, .causal: return true
        }
    }
}
