import Foundation

/// The generator layers draw their initial weights from (and dropout its masks from) unless
/// given one: PyTorch's global generator, seeded with ``manualSeed(_:)``.
public enum GlobalRandom {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var generator = RandomGenerator(seed: 0)

    /// Reseeds the global generator (as `torch.manual_seed`).
    public static func manualSeed(_ seed: UInt64) {
        lock.withLock { generator = RandomGenerator(seed: seed) }
    }

    /// Runs `body` with exclusive access to the global generator.
    public static func withGenerator<R>(_ body: (inout RandomGenerator) throws -> R) rethrows -> R {
        try lock.withLock { try body(&generator) }
    }
}

/// PyTorch's default initialisation of conv and linear layers: `kaiming_uniform_(w, a=√5)`,
/// which is uniform in `±1/√fan_in`, and the bias uniform in the same bound.
enum DefaultInitialization {
    /// `fan_in = weight.shape[1] · ∏ kernel`.
    static func parameters(weightShape: [Int], bias: Bool) -> (weight: Variable, bias: Variable?) {
        let fanIn = weightShape.dropFirst().reduce(1, *)
        let bound: Float = fanIn > 0 ? 1 / Float(fanIn).squareRoot() : 0
        return GlobalRandom.withGenerator { generator in
            let weight = Variable(generator.uniform(weightShape, low: -bound, high: bound), requiresGrad: true)
            let biasVariable = bias ? Variable(generator.uniform([weightShape[0]], low: -bound, high: bound), requiresGrad: true) : nil
            return (weight, biasVariable)
        }
    }
}
