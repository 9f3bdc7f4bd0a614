import Foundation

/// An optimiser updates parameters from their accumulated gradients, as PyTorch's `torch.optim`.
public protocol Optimizer: AnyObject {
    /// The learning rate (changed by schedules).
    var learningRate: Float { get set }
    /// Applies one update to every parameter that has a gradient.
    func step()
    /// Clears every parameter's gradient.
    func zeroGrad()
}

/// Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay:
/// `g ← ∇ + λ·p`; `b ← μ·b + g` (from the second step; `b = g` first); `p ← p − lr·(g + μ·b if
/// Nesterov else b)`.
public final class SGD: Optimizer {
    public var learningRate: Float
    public let momentum: Float, weightDecay: Float, nesterov: Bool
    let parameters: [Variable]
    private var buffers: [Tensor<Float>?]

    public init(parameters: [Variable], learningRate: Float, momentum: Float = 0, weightDecay: Float = 0, nesterov: Bool = false) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        buffers = Array(repeating: nil, count: parameters.count)
    }

    public func step() {
        for (k, p) in parameters.enumerated() {
            guard let grad = p.grad else { continue }
            var g = grad.scalars
            if weightDecay != 0 { for i in g.indices { g[i] += weightDecay * p.value.scalars[i] } }
            if momentum != 0 {
                var b = buffers[k]?.scalars ?? g
                if buffers[k] != nil { for i in b.indices { b[i] = momentum * b[i] + g[i] } }
                buffers[k] = Tensor(uncheckedShape: p.shape, scalars: b)
                if nesterov { for i in g.indices { g[i] += momentum * b[i] } } else { g = b }
            }
            let lr = learningRate
            p.value = Tensor(uncheckedShape: p.shape, scalars: zip(p.value.scalars, g).map { $0 - lr * $1 })
        }
    }

    public func zeroGrad() { for p in parameters { p.grad = nil } }
}

/// Adam (and AdamW with `decoupledWeightDecay`), with bias correction:
/// `m ← β₁m + (1 − β₁)g`, `v ← β₂v + (1 − β₂)g²`, `p ← p − lr·m̂ / (√v̂ + ε)`. Adam adds `λ·p` to
/// the gradient; AdamW multiplies `p` by `1 − lr·λ` first.
public final class Adam: Optimizer {
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float, decoupledWeightDecay: Bool
    let parameters: [Variable]
    private var moments: [(m: [Float], v: [Float])?]
    private var steps = 0

    public init(parameters: [Variable], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0, decoupledWeightDecay: Bool = false) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        moments = Array(repeating: nil, count: parameters.count)
    }

    /// AdamW: decoupled weight decay (PyTorch's default λ = 0.01).
    public static func adamW(parameters: [Variable], learningRate: Float = 1e-3, weightDecay: Float = 0.01) -> Adam {
        Adam(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay, decoupledWeightDecay: true)
    }

    public func step() {
        steps += 1
        let correction1 = 1 - pow(beta1, Float(steps)), correction2 = 1 - pow(beta2, Float(steps))
        let stepSize = learningRate / correction1, root2 = correction2.squareRoot()
        for (k, p) in parameters.enumerated() {
            guard let grad = p.grad else { continue }
            var values = p.value.scalars
            var (m, v) = moments[k] ?? ([Float](repeating: 0, count: values.count), [Float](repeating: 0, count: values.count))
            for i in values.indices {
                var g = grad.scalars[i]
                if weightDecay != 0 {
                    if decoupledWeightDecay { values[i] *= 1 - learningRate * weightDecay } else { g += weightDecay * values[i] }
                }
                m[i] = beta1 * m[i] + (1 - beta1) * g
                v[i] = beta2 * v[i] + (1 - beta2) * g * g
                values[i] -= stepSize * m[i] / (v[i].squareRoot() / root2 + epsilon)
            }
            moments[k] = (m, v)
            p.value = Tensor(uncheckedShape: p.shape, scalars: values)
        }
    }

    public func zeroGrad() { for p in parameters { p.grad = nil } }
}

/// Learning-rate schedules (PyTorch's `StepLR` and `CosineAnnealingLR`), as functions of the
/// training progress in epochs; the trainer evaluates them before every step, so a fractional
/// epoch gives cosine annealing per step.
public enum LearningRateSchedule: Sendable, Equatable {
    case constant
    /// `lr = base · γ^⌊epoch / stepSize⌋`.
    case step(stepSize: Int, gamma: Float)
    /// `lr = η_min + (base − η_min)·(1 + cos(π·epoch / T_max)) / 2`.
    case cosine(tMax: Int, etaMin: Float)

    /// The learning rate after `epoch` epochs (0-based, fractional within an epoch).
    public func learningRate(base: Float, epoch: Double) -> Float {
        switch self {
        case .constant: return base
        case let .step(stepSize, gamma): return base * pow(gamma, Float(Int(epoch) / max(stepSize, 1)))
        case let .cosine(tMax, etaMin):
            let progress = min(epoch, Double(tMax)) / Double(max(tMax, 1))
            return etaMin + (base - etaMin) * Float(1 + cos(Double.pi * progress)) / 2
        }
    }
}
