import ConvKit
import Foundation
import Testing

@Suite("Element-wise activations")
struct ActivationTests {
    /// Breakpoints, both sides of them, ±0, ±∞ and NaN; 21 values, so both the eight-lane body and
    /// the element-by-element tail run.
    static let inputs: [Float] = [-.infinity, -7, -3.5, -3, -2.5, -1, -0.0, 0, 0.25, 1, 2.9, 3, 3.1, 5.99, 6, 6.01,
                                  100, .infinity, .nan, -0.01, 42]

    /// PyTorch's definitions (ATen: `relu6` is `clamp(x, 0, 6)`, which keeps NaN and −0 — checked:
    /// `torch.nn.functional.relu6(torch.tensor(-0.0))` is `-0.`; hardswish `x · relu6(x + 3) / 6`,
    /// hardsigmoid `relu6(x + 3) / 6`, leaky ReLU `x ≥ 0 ? x : slope · x`), in Float.
    static func expected(_ activation: Activation, _ x: Float) -> Float {
        func relu6(_ v: Float) -> Float { v.isNaN ? v : (v < 0 ? 0 : (v > 6 ? 6 : v)) }
        switch activation {
        case .relu6: return relu6(x)
        case .hardsigmoid: return relu6(x + 3) / 6
        case .hardswish: return x * relu6(x + 3) / 6
        case let .leakyReLU(slope): return x.isNaN ? x : (x >= 0 ? x : Float(slope) * x)
        default: return .nan
        }
    }

    @Test("residual sums (with and without the fused ReLU) are element-wise over several parallel runs and a tail")
    func residualSums() throws {
        // 5 · 16 389 elements: five runs of 16 Ki on the worker pool plus a ragged tail.
        let count = 5 * 16389
        let a = try Tensor(shape: [1, 5, 16389], scalars: (0..<count).map { Float(($0 * 7919) % 2001) / 100 - 10 })
        let b = try Tensor(shape: [1, 5, 16389], scalars: (0..<count).map { Float(($0 * 104729) % 1999) / 100 - 10 })
        let sum = try Variable(a).adding(Variable(b)).value
        let fused = try Autograd.withNoGrad { try Variable(a).addingWithReLU(Variable(b)).value }
        for i in 0..<count {
            let expected = a.scalars[i] + b.scalars[i]
            #expect(sum.scalars[i] == expected, "sum at \(i)")
            #expect(fused.scalars[i] == max(expected, 0), "relu(sum) at \(i)")
        }
    }

    @Test("piecewise-linear activations match PyTorch's definitions at every breakpoint, NaN included",
          arguments: [Activation.relu6, .hardsigmoid, .hardswish, .leakyReLU(negativeSlope: 0.01), .leakyReLU(negativeSlope: 0.2)])
    func piecewiseLinear(_ activation: Activation) throws {
        let x = try Tensor(shape: [3, 7], scalars: Self.inputs)
        let y = activation(x)
        #expect(y.shape == x.shape)
        for (input, output) in zip(Self.inputs, y.scalars) {
            let want = Self.expected(activation, input)
            // Bit for bit (the sign of zero too), NaN for NaN.
            #expect(want.isNaN ? output.isNaN : output.bitPattern == want.bitPattern,
                    "\(activation.typeName)(\(input)) = \(output), want \(want)")
        }
    }
}
