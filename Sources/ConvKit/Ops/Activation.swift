import Foundation

/// Element-wise activation functions, with PyTorch's definitions and defaults.
public enum Activation: Equatable, Sendable {
    case relu
    /// `min(max(x, 0), 6)`.
    case relu6
    /// `x` if `x ≥ 0`, else `slope·x` (PyTorch default slope 0.01).
    case leakyReLU(slope: Float)
    /// The exact GELU, `x·Φ(x)` (PyTorch's default `approximate='none'`).
    case gelu
    case sigmoid
    case tanh
    /// `x·σ(x)`.
    case silu
    /// `x·relu6(x + 3)/6`.
    case hardswish
    case identity

    /// `f(x)` for every element.
    public func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> {
        Tensor(uncheckedShape: x.shape, scalars: x.scalars.map(value))
    }

    /// `∂L/∂x = ∂L/∂y · f′(x)`.
    public func backward(gradOutput: Tensor<Float>, input: Tensor<Float>) throws -> Tensor<Float> {
        try checkShape(gradOutput, input.shape, op: "activation", argument: "grad_output")
        return Tensor(uncheckedShape: input.shape, scalars: zip(gradOutput.scalars, input.scalars).map { $0 * derivative($1) })
    }

    func value(_ x: Float) -> Float {
        switch self {
        case .relu: return x > 0 ? x : 0
        case .relu6: return min(max(x, 0), 6)
        case let .leakyReLU(slope): return x >= 0 ? x : slope * x
        case .gelu: return 0.5 * x * (1 + erff(x / 2.0.squareRoot().float))
        case .sigmoid: return 1 / (1 + expf(-x))
        case .tanh: return tanhf(x)
        case .silu: return x / (1 + expf(-x))
        case .hardswish: return x * min(max(x + 3, 0), 6) / 6
        case .identity: return x
        }
    }

    func derivative(_ x: Float) -> Float {
        switch self {
        case .relu: return x > 0 ? 1 : 0
        case .relu6: return x > 0 && x < 6 ? 1 : 0
        case let .leakyReLU(slope): return x > 0 ? 1 : slope
        case .gelu:
            let cdf = 0.5 * (1 + erff(x / 2.0.squareRoot().float))
            let pdf = expf(-0.5 * x * x) / (2 * Float.pi).squareRoot()
            return cdf + x * pdf
        case .sigmoid:
            let s = 1 / (1 + expf(-x))
            return s * (1 - s)
        case .tanh:
            let t = tanhf(x)
            return 1 - t * t
        case .silu:
            let s = 1 / (1 + expf(-x))
            return s * (1 + x * (1 - s))
        case .hardswish:
            return x < -3 ? 0 : (x > 3 ? 1 : (2 * x + 3) / 6)
        case .identity: return 1
        }
    }
}

private extension Double {
    var float: Float { Float(self) }
}
