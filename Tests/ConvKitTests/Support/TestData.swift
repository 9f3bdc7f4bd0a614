@testable import ConvKit

extension RandomGenerator {
    /// A tensor of values uniform in [-1, 1).
    mutating func tensor<T: BinaryFloatingPoint>(_ shape: [Int], as _: T.Type = T.self) -> Tensor<T>
    where T.RawSignificand: FixedWidthInteger {
        Tensor(uncheckedShape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in T.random(in: -1..<1, using: &self) })
    }
}
