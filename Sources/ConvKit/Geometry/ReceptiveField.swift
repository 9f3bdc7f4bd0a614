/// Where the units of a layer's output look in the network input, per spatial dimension
/// (Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional Neural Networks",
/// Distill, 2019).
///
/// For each dimension: the size `r`, the effective stride `S = ∏ sₗ` and the effective padding
/// `P = Σ pₗ · ∏ᵢ<ₗ sᵢ` (`pₗ` the low-side padding), so that output unit `i` sees input positions
/// `[−P + i·S, −P + i·S + r − 1]` (negative positions and positions ≥ the input size are padding).
/// Layer `l` with kernel `kₗ` and dilation `dₗ` counts as a kernel of `dₗ·(kₗ − 1) + 1`:
///
///     r_l = r_{l−1} + dₗ·(kₗ − 1) · S_{l−1}
///     P_l = P_{l−1} + pₗ · S_{l−1}
///     S_l = S_{l−1} · sₗ
///
/// starting from the input itself: `r₀ = 1, S₀ = 1, P₀ = 0`. Pooling counts like convolution;
/// element-wise layers (activations, batch norm, dropout) leave the field unchanged.
public struct ReceptiveField: Equatable, Sendable, CustomStringConvertible {
    /// One spatial dimension of a receptive field.
    public struct Dimension: Equatable, Sendable {
        /// `r`: how many consecutive input positions one output unit sees.
        public var size: Int
        /// `S`: how far apart (in input positions) neighbouring output units look.
        public var stride: Int
        /// `P`: output unit 0 starts at input position `−P`.
        public var padding: Int

        /// A field from its parts.
        public init(size: Int, stride: Int, padding: Int) {
            self.size = size
            self.stride = stride
            self.padding = padding
        }

        /// The input itself: `r = 1, S = 1, P = 0`.
        public static let input = Dimension(size: 1, stride: 1, padding: 0)

        /// After a convolution or pooling window: `r + d·(k − 1)·S`, `S·s`, `P + p_low·S`.
        public func appending(kernel: Int, stride: Int, dilation: Int = 1, padLow: Int = 0) -> Dimension {
            Dimension(size: size + (OutputSize.effectiveKernel(kernel, dilation: dilation) - 1) * self.stride,
                      stride: self.stride * stride,
                      padding: padding + padLow * self.stride)
        }

        /// The input positions output unit `index` sees: `[−P + i·S, −P + i·S + r − 1]`.
        public func inputInterval(ofOutput index: Int) -> ClosedRange<Int> {
            let first = -padding + index * stride
            return first...(first + size - 1)
        }

        /// The centre of output unit 0's field: `(r − 1)/2 − P` (a multiple of ½).
        public var centre: Double { Double(size - 1) / 2 - Double(padding) }
    }

    /// One field per spatial dimension.
    public var dimensions: [Dimension]

    /// A field from its parts.
    public init(dimensions: [Dimension]) { self.dimensions = dimensions }

    /// A field from per-dimension sizes, strides and paddings (equal counts).
    public init(size: [Int], stride: [Int], padding: [Int]) throws {
        guard size.count == stride.count, size.count == padding.count else {
            throw ConvKitError.invalidArgument(
                op: "receptive field", "size \(size), stride \(stride) and padding \(padding) must have one value per spatial dimension each")
        }
        dimensions = (0..<size.count).map { Dimension(size: size[$0], stride: stride[$0], padding: padding[$0]) }
    }

    /// The network input with `rank` spatial dimensions: every unit sees itself.
    public static func input(rank: Int) -> ReceptiveField {
        ReceptiveField(dimensions: Array(repeating: .input, count: max(rank, 0)))
    }

    /// The number of spatial dimensions.
    public var rank: Int { dimensions.count }
    /// `r` per dimension.
    public var size: [Int] { dimensions.map(\.size) }
    /// `S` per dimension.
    public var stride: [Int] { dimensions.map(\.stride) }
    /// `P` per dimension.
    public var padding: [Int] { dimensions.map(\.padding) }
    /// `(r − 1)/2 − P` per dimension: the centre of output unit 0's field.
    public var centre: [Double] { dimensions.map(\.centre) }

    /// `r […], S […], P […]`.
    public var description: String { "r \(size), S \(stride), P \(padding)" }

    /// After a convolution or pooling layer (see the recursion above).
    /// - Parameters: one value per spatial dimension each (or one value for all).
    /// - Throws: when a count is neither 1 nor ``rank``.
    public func appending(kernel: [Int], stride: [Int], dilation: [Int] = [1], padLow: [Int] = [0]) throws -> ReceptiveField {
        let op = "receptive field"
        let k = try Dims(kernel).expanded(to: rank, op: op, argument: "kernel_size")
        let s = try Dims(stride).expanded(to: rank, op: op, argument: "stride")
        let d = try Dims(dilation).expanded(to: rank, op: op, argument: "dilation")
        let p = try Dims(padLow).expanded(to: rank, op: op, argument: "padding")
        return ReceptiveField(dimensions: (0..<rank).map {
            dimensions[$0].appending(kernel: k[$0], stride: s[$0], dilation: d[$0], padLow: p[$0])
        })
    }

    /// After adaptive pooling from `inputSize` to `outputSize` (per dimension). PyTorch's window
    /// `o` covers `[⌊o·I/O⌋, ⌈(o + 1)·I/O⌉)`; when every window has the same size `k` and they
    /// start `s` apart, this is pooling with kernel `k` and stride `s` (e.g. 7 → 3: `k = 3, s = 2`;
    /// `I` a multiple of `O`: `k = s = I/O`). Pooling to 1 (global pooling) is `k = s = I`: it
    /// covers the whole input, `r + (I − 1)·S`.
    /// - Returns: `nil` when the windows are irregular in some dimension (e.g. 10 → 4 starts at
    ///   0, 2, 5, 7), which no `(r, S, P)` describes.
    public func appendingAdaptivePool(inputSize: [Int], outputSize: [Int]) -> ReceptiveField? {
        guard inputSize.count == rank, outputSize.count == rank else { return nil }
        var result: [Dimension] = []
        for d in 0..<rank {
            guard let (kernel, stride) = Self.regularAdaptiveWindow(input: inputSize[d], output: outputSize[d]) else { return nil }
            result.append(dimensions[d].appending(kernel: kernel, stride: stride))
        }
        return ReceptiveField(dimensions: result)
    }

    /// `(k, s)` when PyTorch's adaptive windows from `input` to `output` are regular.
    static func regularAdaptiveWindow(input: Int, output: Int) -> (kernel: Int, stride: Int)? {
        guard input > 0, output > 0 else { return nil }
        if output == 1 { return (input, input) }
        let starts = (0..<output).map { ($0 * input) / output }
        let ends = (0..<output).map { (($0 + 1) * input + output - 1) / output }
        let kernel = ends[0] - starts[0], stride = starts[1] - starts[0]
        guard stride > 0, (0..<output).allSatisfy({ starts[$0] == $0 * stride && ends[$0] - starts[$0] == kernel }) else { return nil }
        return (kernel, stride)
    }

    /// After a transposed convolution. With stride 1 it is a convolution whose window for
    /// output `j` starts at input `j + p_low − d·(k − 1)`: `r + d·(k − 1)·S` and
    /// `P + (d·(k − 1) − p_low)·S` (possibly negative).
    /// - Returns: `nil` for stride > 1: the effective stride `S / s` is then fractional.
    public func appendingTransposedConvolution(kernel: [Int], stride: [Int], dilation: [Int], padLow: [Int]) -> ReceptiveField? {
        guard kernel.count == rank, stride.count == rank, dilation.count == rank, padLow.count == rank,
              stride.allSatisfy({ $0 == 1 }) else { return nil }
        return ReceptiveField(dimensions: (0..<rank).map {
            let span = dilation[$0] * (kernel[$0] - 1)
            return dimensions[$0].appending(kernel: kernel[$0], stride: 1, dilation: dilation[$0], padLow: span - padLow[$0])
        })
    }

    /// After broadcasting a map of size 1 (upsampling a globally pooled map back to a grid):
    /// every output unit sees what the single input unit saw, so `S = 0`.
    public func appendingBroadcast() -> ReceptiveField {
        ReceptiveField(dimensions: dimensions.map { Dimension(size: $0.size, stride: 0, padding: $0.padding) })
    }

    /// The input positions output unit `index` sees, per dimension: `[−P + i·S, −P + i·S + r − 1]`.
    public func inputInterval(ofOutput index: [Int]) -> [ClosedRange<Int>] {
        zip(dimensions, index).map { $0.inputInterval(ofOutput: $1) }
    }

    /// Merges parallel branches (a residual block's body and shortcut, or `Parallel` branches)
    /// that read the same input and are added or concatenated: `r` and `P` are the maxima
    /// over the branches, `S` must agree, and branches whose centres `(r − 1)/2 − P` differ are
    /// misaligned (their units are not centred on the same input position).
    public static func merging(_ branches: [ReceptiveField]) -> BranchMerge {
        BranchMerge(branches: branches)
    }
}

/// The receptive field where parallel branches meet, and whether they are aligned
/// (see ``ReceptiveField/merging(_:)``).
public struct BranchMerge: Equatable, Sendable, CustomStringConvertible {
    /// The branches' fields, in order.
    public let branches: [ReceptiveField]
    /// The merged field: per dimension `max r`, the common `S`, `max P`. `nil` when the branches
    /// disagree on the effective stride or rank (or there are none).
    public let field: ReceptiveField?
    /// The dimensions in which the branches' centres `(r − 1)/2 − P` differ.
    public let misalignedDimensions: [Int]

    init(branches: [ReceptiveField]) {
        self.branches = branches
        let rank = branches.first?.rank ?? 0
        guard let first = branches.first, branches.allSatisfy({ $0.rank == rank && $0.stride == first.stride }) else {
            field = nil
            misalignedDimensions = []
            return
        }
        field = ReceptiveField(dimensions: (0..<rank).map { d in
            ReceptiveField.Dimension(size: branches.map { $0.dimensions[d].size }.max() ?? 1,
                                     stride: first.dimensions[d].stride,
                                     padding: branches.map { $0.dimensions[d].padding }.max() ?? 0)
        })
        misalignedDimensions = (0..<rank).filter { d in Set(branches.map { $0.dimensions[d].centre }).count > 1 }
    }

    /// Whether every branch has the same effective stride (so that ``field`` exists).
    public var stridesAgree: Bool { field != nil || branches.isEmpty }
    /// Whether the branches' centres coincide in every dimension.
    public var isAligned: Bool { misalignedDimensions.isEmpty }

    /// A one-line report: the branches' strides when they disagree, their centres when misaligned.
    public var description: String {
        if !stridesAgree {
            let broadcast = branches.contains { $0.stride.contains(0) }
                ? " (S = 0: a branch pooled to one unit and broadcast back, whose every unit sees the same region)" : ""
            return "branches have different effective strides \(branches.map(\.stride).map { "\($0)" }.joined(separator: " vs "))\(broadcast); no single receptive field describes their merge"
        }
        if isAligned { return "branches aligned: \(field.map { "\($0)" } ?? "no branches")" }
        let centres = branches.enumerated().map { "branch \($0.offset): [\($0.element.centre.map(Self.format).joined(separator: ", "))]" }
        return "branches misaligned in dimension\(misalignedDimensions.count == 1 ? "" : "s") \(misalignedDimensions.map(String.init).joined(separator: ", ")): centres (r − 1)/2 − P are \(centres.joined(separator: "; "))"
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
