@testable import ConvKit

/// A small deterministic generator (SplitMix64) for test data.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A tensor of values uniform in [-1, 1).
    mutating func tensor<T: BinaryFloatingPoint>(_ shape: [Int], as _: T.Type = T.self) -> Tensor<T>
    where T.RawSignificand: FixedWidthInteger {
        Tensor(uncheckedShape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in T.random(in: -1..<1, using: &self) })
    }
}

extension SeededRandom {
    /// A fresh generator's tensor (for one-off values in expressions).
    func tensorLike(_ shape: [Int]) -> Tensor<Float> {
        var copy = self
        return copy.tensor(shape)
    }
}

/// Builds a `Tensor<Float>` from nested literal rows (for the seed examples).
func tensor(_ shape: [Int], _ values: [Float]) -> Tensor<Float> {
    try! Tensor(shape: shape, scalars: values)
}
