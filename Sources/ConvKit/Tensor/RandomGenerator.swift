/// A small, fast, seedable generator (SplitMix64): the same seed gives the same stream on every
/// machine and for any thread count. ConvKit uses it for initialisation, dropout and shuffling.
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A tensor of values drawn uniformly from `[low, high)`.
    public mutating func uniform(_ shape: [Int], low: Float, high: Float) -> Tensor<Float> {
        Tensor(uncheckedShape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in
            low == high ? low : Float.random(in: low..<high, using: &self)
        })
    }
}
