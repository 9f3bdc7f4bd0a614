/// A dense, row-major (C-contiguous) n-dimensional array with value semantics.
///
/// Layouts follow PyTorch: a batch of 2-D feature maps is `[N, C, H, W]`, 1-D signals are
/// `[N, C, L]` and volumes `[N, C, D, H, W]`. Storage is a Swift `Array`, so copies are cheap
/// and copy-on-write: a tensor is only duplicated when a shared one is mutated.
///
/// ConvKit computes in `Float` (`Tensor<Float>`); max-pooling indices are `Tensor<Int>`.
/// The reference kernels are generic, so tests also run them in `Double`.
public struct Tensor<Scalar>: @unchecked Sendable {
    /// The size of each dimension, outermost first.
    public private(set) var shape: [Int]
    /// The elements in row-major order; `scalars.count == shape.reduce(1, *)`.
    public private(set) var scalars: [Scalar]

    /// Creates a tensor from a shape and its row-major elements.
    /// - Throws: ``ConvKitError`` if a dimension is negative or the element count does not match.
    public init(shape: [Int], scalars: [Scalar]) throws {
        try Tensor.checkShape(shape, op: "Tensor")
        let count = shape.reduce(1, *)
        guard scalars.count == count else {
            throw ConvKitError.invalidShape(
                op: "Tensor",
                "shape \(shape) holds \(count) elements but \(scalars.count) were given")
        }
        self.shape = shape
        self.scalars = scalars
    }

    /// Creates a tensor whose elements all equal `value`.
    public init(repeating value: Scalar, shape: [Int]) throws {
        try Tensor.checkShape(shape, op: "Tensor")
        self.shape = shape
        self.scalars = Array(repeating: value, count: shape.reduce(1, *))
    }

    /// Internal initialiser for shapes the library has already validated.
    init(uncheckedShape shape: [Int], scalars: [Scalar]) {
        self.shape = shape
        self.scalars = scalars
    }

    /// Number of dimensions.
    public var rank: Int { shape.count }
    /// Total number of elements.
    public var count: Int { scalars.count }

    /// Row-major strides, in elements.
    public var strides: [Int] {
        var strides = Array(repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = running
            running *= shape[axis]
        }
        return strides
    }

    /// The element at a multi-dimensional index (negative indices count from the end, as in PyTorch).
    public subscript(_ index: Int...) -> Scalar {
        get { scalars[flatIndex(index)] }
        set { scalars[flatIndex(index)] = newValue }
    }

    /// The same elements viewed with another shape; one dimension may be `-1` (inferred).
    /// - Throws: ``ConvKitError`` if the sizes are incompatible.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        let known = newShape.filter { $0 != -1 }
        let inferred = newShape.count - known.count
        guard inferred <= 1, known.allSatisfy({ $0 >= 0 }) else {
            throw ConvKitError.invalidShape(
                op: "reshape", "shape \(newShape) may hold non-negative sizes and at most one -1")
        }
        var resolved = newShape
        if inferred == 1 {
            let product = known.reduce(1, *)
            guard product > 0, count % product == 0 else {
                throw ConvKitError.invalidShape(
                    op: "reshape", "shape \(newShape) is invalid for a tensor of \(count) elements")
            }
            resolved[newShape.firstIndex(of: -1)!] = count / product
        }
        guard resolved.reduce(1, *) == count else {
            throw ConvKitError.invalidShape(
                op: "reshape", "shape \(newShape) is invalid for a tensor of shape \(shape) (\(count) elements)")
        }
        return Tensor(uncheckedShape: resolved, scalars: scalars)
    }

    /// Calls `body` with mutable access to the storage, for kernels.
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Scalar>) throws -> R
    ) rethrows -> R {
        try scalars.withUnsafeMutableBufferPointer(body)
    }

    /// Calls `body` with read access to the storage, for kernels.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
        try scalars.withUnsafeBufferPointer(body)
    }

    private func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == rank, "Tensor subscript: \(index.count) indices for a rank-\(rank) tensor")
        var flat = 0
        for (axis, i) in index.enumerated() {
            let resolved = i < 0 ? i + shape[axis] : i
            precondition(resolved >= 0 && resolved < shape[axis], "Tensor subscript: index \(index) out of range for shape \(shape)")
            flat = flat * shape[axis] + resolved
        }
        return flat
    }

    static func checkShape(_ shape: [Int], op: String) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw ConvKitError.invalidShape(op: op, "shape \(shape) has a negative dimension")
        }
    }
}

extension Tensor: Equatable where Scalar: Equatable {}

extension Tensor where Scalar: Numeric {
    /// A tensor of zeros.
    public init(zeros shape: [Int]) throws {
        try self.init(repeating: 0, shape: shape)
    }
}

extension Tensor where Scalar: BinaryFloatingPoint {
    /// Converts every element to another floating-point type.
    public func converted<Other: BinaryFloatingPoint>(to _: Other.Type = Other.self) -> Tensor<Other> {
        Tensor<Other>(uncheckedShape: shape, scalars: scalars.map { Other($0) })
    }

    /// The largest absolute difference to `other`, or `nil` if the shapes differ.
    public func maxAbsDifference(_ other: Tensor) -> Scalar? {
        guard shape == other.shape else { return nil }
        var worst: Scalar = 0
        for (a, b) in zip(scalars, other.scalars) {
            let difference = abs(a - b)
            if difference > worst || difference.isNaN { worst = difference }
        }
        return worst
    }

    /// Whether every element is within `tolerance × max(1e-12, max |other|)` of `other`
    /// (the tolerance relative to the largest reference magnitude), with equal shapes.
    public func isClose(to other: Tensor, relativeTolerance tolerance: Scalar = 2e-4) -> Bool {
        guard let difference = maxAbsDifference(other) else { return false }
        let scale = max(other.scalars.map { abs($0) }.max() ?? 0, 1e-12)
        return difference <= tolerance * scale
    }
}
