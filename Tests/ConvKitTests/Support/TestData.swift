@testable import ConvKit
@testable import ConvKitCLI
import Foundation

extension RandomGenerator {
    /// A tensor of values uniform in [-1, 1).
    mutating func tensor<T: BinaryFloatingPoint>(_ shape: [Int], as _: T.Type = T.self) -> Tensor<T>
    where T.RawSignificand: FixedWidthInteger {
        Tensor(uncheckedShape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in T.random(in: -1..<1, using: &self) })
    }
}

extension RandomGenerator {
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

/// Runs `convkit` in-process with the space-separated `arguments`, each `{name}` replaced by
/// `paths(name)`; returns the exit status and the error lines it printed.
func runConvKit(_ arguments: String, paths: (String) -> URL) -> (Int32, [String]) {
    var errors: [String] = []
    let expanded = arguments.split(separator: " ").map { word -> String in
        word.hasPrefix("{") && word.hasSuffix("}") ? paths(String(word.dropFirst().dropLast())).path : String(word)
    }
    let status = ConvKitCommand.run(arguments: expanded) { errors.append($0) }
    return (status, errors)
}
