import Foundation

/// The forward and backward passes of the element-wise activations, with PyTorch's definitions.
extension Activation {
    /// `f(x)` for every element.
    public func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> {
        if case .identity = self { return x }
        // One pass from the input into fresh storage (not a copy, then a pass over the copy).
        let output = [Float](unsafeUninitializedCapacity: x.count) { y, initialized in
            x.withUnsafeBufferPointer { x in
                guard let source = x.baseAddress, let destination = y.baseAddress else { return }
                // The piecewise-linear ones eight lanes at a time (the same operations as `value`,
                // so the same results; a NaN stays NaN); the rest element by element.
                switch self {
                case .relu: applyReLU(source, into: destination, count: x.count)
                case .relu6: map8(source, into: destination, count: x.count) { clampLanes($0, 0, 6) }
                case let .leakyReLU(slope):
                    let s = Float(slope)
                    map8(source, into: destination, count: x.count) { $0.replacing(with: s * $0, where: $0 .< 0) }
                case .hardsigmoid: map8(source, into: destination, count: x.count) { clampLanes($0 + 3, 0, 6) / 6 }
                case .hardswish: map8(source, into: destination, count: x.count) { $0 * clampLanes($0 + 3, 0, 6) / 6 }
                default: for i in x.indices { y[i] = value(x[i]) }
                }
            }
            initialized = x.count
        }
        return Tensor(uncheckedShape: x.shape, scalars: output)
    }

    /// `∂L/∂x = ∂L/∂y · f′(x)`.
    public func backward(gradOutput: Tensor<Float>, input: Tensor<Float>) throws -> Tensor<Float> {
        try checkShape(gradOutput, input.shape, op: typeName, argument: "grad_output")
        if case .relu = self { return reluBackward(gradOutput: gradOutput, input: input) }
        var gradInput = gradOutput.scalars
        gradInput.withUnsafeMutableBufferPointer { g in
            input.withUnsafeBufferPointer { x in
                switch self {
                case .identity: break
                default: for i in g.indices { g[i] *= derivative(x[i]) }
                }
            }
        }
        return Tensor(uncheckedShape: input.shape, scalars: gradInput)
    }

    /// ReLU's gradient in one pass into fresh storage, eight lanes at a time: `∂L/∂y` where
    /// `x > 0`, else 0 — PyTorch's `threshold_backward` (`x <= 0 ? 0 : g`, so a NaN input passes
    /// the gradient through).
    private func reluBackward(gradOutput: Tensor<Float>, input: Tensor<Float>) -> Tensor<Float> {
        let count = input.count
        let gradInput = [Float](unsafeUninitializedCapacity: count) { gx, initialized in
            gradOutput.withUnsafeBufferPointer { g in
                input.withUnsafeBufferPointer { x in
                    guard let g = g.baseAddress, let x = x.baseAddress, let gx = gx.baseAddress else { return }
                    var i = 0
                    while i + 8 <= count {
                        let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
                        let d = UnsafeRawPointer(g + i).loadUnaligned(as: SIMD8<Float>.self)
                        UnsafeMutableRawPointer(gx + i).storeBytes(of: d.replacing(with: 0, where: v .<= 0), as: SIMD8<Float>.self)
                        i += 8
                    }
                    while i < count { gx[i] = x[i] <= 0 ? 0 : g[i]; i += 1 }
                }
            }
            initialized = count
        }
        return Tensor(uncheckedShape: input.shape, scalars: gradInput)
    }

    /// `y[i] = body(x[i])` eight lanes at a time, the last `count mod 8` through ``value(_:)``.
    @inline(__always)
    private func map8(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int,
                      _ body: (SIMD8<Float>) -> SIMD8<Float>) {
        var i = 0
        while i + 8 <= count {
            UnsafeMutableRawPointer(y + i).storeBytes(of: body(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)),
                                                      as: SIMD8<Float>.self)
            i += 8
        }
        while i < count { y[i] = value(x[i]); i += 1 }
    }

    private static let sqrt2OverPi = Float((2 / Double.pi).squareRoot())

    func value(_ x: Float) -> Float {
        switch self {
        case .relu: return x > 0 ? x : 0
        case .relu6: return clampScalar(x, 0, 6)
        case let .leakyReLU(slope): return x >= 0 ? x : Float(slope) * x
        case let .elu(alpha): return x > 0 ? x : Float(alpha) * (expf(x) - 1)
        case .gelu(tanh: false): return 0.5 * x * (1 + erff(x / Float(2).squareRoot()))
        case .gelu(tanh: true): return 0.5 * x * (1 + tanhf(Self.sqrt2OverPi * (x + 0.044715 * x * x * x)))
        case .sigmoid: return 1 / (1 + expf(-x))
        case .tanh: return tanhf(x)
        case .silu: return x / (1 + expf(-x))
        case .mish: return x * tanhf(log1pf(expf(x)))
        case .hardswish: return x * min(max(x + 3, 0), 6) / 6
        case .hardsigmoid: return min(max(x + 3, 0), 6) / 6
        case .identity, .softmax, .logSoftmax: return x  // (softmax is not element-wise: see Variable.activated)
        }
    }

    func derivative(_ x: Float) -> Float {
        switch self {
        case .relu: return x > 0 ? 1 : 0
        case .relu6: return x > 0 && x < 6 ? 1 : 0
        case let .leakyReLU(slope): return x > 0 ? 1 : Float(slope)
        case let .elu(alpha): return x > 0 ? 1 : Float(alpha) * expf(x)
        case .gelu(tanh: false):
            return 0.5 * (1 + erff(x / Float(2).squareRoot())) + x * expf(-0.5 * x * x) / (2 * Float.pi).squareRoot()
        case .gelu(tanh: true):
            let inner = Self.sqrt2OverPi * (x + 0.044715 * x * x * x), t = tanhf(inner)
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * Self.sqrt2OverPi * (1 + 3 * 0.044715 * x * x)
        case .sigmoid:
            let s = 1 / (1 + expf(-x))
            return s * (1 - s)
        case .tanh:
            let t = tanhf(x)
            return 1 - t * t
        case .silu:
            let s = 1 / (1 + expf(-x))
            return s * (1 + x * (1 - s))
        case .mish:
            let t = tanhf(log1pf(expf(x))), s = 1 / (1 + expf(-x))
            return t + x * (1 - t * t) * s
        case .hardswish: return x < -3 ? 0 : (x > 3 ? 1 : x / 3 + 0.5)
        case .hardsigmoid: return x > -3 && x < 3 ? 1 / 6 : 0
        case .identity, .softmax, .logSoftmax: return 1
        }
    }
}

/// `v < low ? low : v`, then `> high ? high : ·` per lane: PyTorch's clamp (a NaN stays NaN, −0 stays −0).
@inline(__always)
func clampLanes(_ v: SIMD8<Float>, _ low: Float, _ high: Float) -> SIMD8<Float> {
    let raised = v.replacing(with: low, where: v .< low)
    return raised.replacing(with: high, where: raised .> high)
}

/// ``clampLanes(_:_:_:)`` of one value.
@inline(__always)
func clampScalar(_ v: Float, _ low: Float, _ high: Float) -> Float {
    let raised = v < low ? low : v
    return raised > high ? high : raised
}

/// An activation that a convolution applies to its output in the same pass, while each block of
/// it is in cache (an inference fusion: ``ConvolutionPlan/forward(_:weight:bias:fusing:)``,
/// ``ConvolutionLayer/fusedActivation``). Both are clamps, with PyTorch's rules: a NaN stays NaN
/// and −0 stays −0.
public enum FusedActivation: Sendable, Equatable {
    /// `max(y, 0)`, as `torch.relu`.
    case relu
    /// `min(max(y, 0), 6)`, as `torch.nn.functional.relu6`.
    case relu6

    /// The element-wise activation computed.
    public var activation: Activation {
        switch self {
        case .relu: return .relu
        case .relu6: return .relu6
        }
    }

    /// The fusion computing `activation`, if there is one.
    public init?(_ activation: Activation) {
        switch activation {
        case .relu: self = .relu
        case .relu6: self = .relu6
        default: return nil
        }
    }

    /// `[lower, upper]` of the clamp, as the C kernels' epilogues take it.
    var bounds: [Float] {
        switch self {
        case .relu: return [0, .infinity]
        case .relu6: return [0, 6]
        }
    }

    /// Calls `body` with `[lower, upper]` of `activation` as the C kernels' epilogues take it (nil
    /// without one).
    static func withBounds<R>(_ activation: FusedActivation?, _ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let activation else { return body(nil) }
        return activation.bounds.withUnsafeBufferPointer { body($0.baseAddress) }
    }

    /// Applies the activation in place to `count` floats, eight lanes at a time.
    func apply(_ values: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .relu: applyReLU(values, count: count)
        case .relu6:
            var i = 0
            while i + 8 <= count {
                let v = UnsafeRawPointer(values + i).loadUnaligned(as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(values + i).storeBytes(of: clampLanes(v, 0, 6), as: SIMD8<Float>.self)
                i += 8
            }
            while i < count { values[i] = clampScalar(values[i], 0, 6); i += 1 }
        }
    }
}

/// `y = max(x, 0)` over `count` floats (NaN stays NaN, as in PyTorch), eight lanes at a time;
/// `source` may be `destination` (in place). Also the epilogue of convolutions that fuse a ReLU.
@inline(__always)
func applyReLU(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>, count: Int) {
    var i = 0
    while i + 8 <= count {
        let v = UnsafeRawPointer(source + i).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(destination + i).storeBytes(of: v.replacing(with: 0, where: v .< 0), as: SIMD8<Float>.self)
        i += 8
    }
    while i < count { destination[i] = source[i] < 0 ? 0 : source[i]; i += 1 }
}

/// ``applyReLU(_:into:count:)`` in place.
@inline(__always)
func applyReLU(_ values: UnsafeMutablePointer<Float>, count: Int) {
    applyReLU(UnsafePointer(values), into: values, count: count)
}
