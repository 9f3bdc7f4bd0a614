/// A value in a computation graph. Operations on variables record how to push a gradient back
/// to their inputs; ``backward()`` on a scalar result accumulates `∂result/∂v` into the
/// ``grad`` of every leaf `v` that requires a gradient (the parameters).
///
/// Under ``Autograd/withNoGrad(_:)`` nothing is recorded, for evaluation.
public final class Variable: @unchecked Sendable {
    public var value: Tensor<Float>
    /// The accumulated gradient (leaves only); `nil` until a backward pass reaches it.
    public var grad: Tensor<Float>?
    public let requiresGrad: Bool
    let inputs: [Variable]
    let pullback: ((Tensor<Float>) throws -> [Tensor<Float>?])?

    /// A leaf: a parameter (`requiresGrad: true`) or a constant input.
    public init(_ value: Tensor<Float>, requiresGrad: Bool = false) {
        self.value = value
        self.requiresGrad = requiresGrad
        self.inputs = []
        self.pullback = nil
    }

    private init(_ value: Tensor<Float>, inputs: [Variable], pullback: @escaping (Tensor<Float>) throws -> [Tensor<Float>?]) {
        self.value = value
        self.requiresGrad = true
        self.inputs = inputs
        self.pullback = pullback
    }

    public var shape: [Int] { value.shape }

    /// The result of an operation on `inputs`: recorded in the graph when gradients are enabled
    /// and some input needs one. `pullback` maps `∂L/∂result` to `∂L/∂input` for each input
    /// (nil where an input needs none).
    static func result(_ value: Tensor<Float>, of inputs: [Variable],
                       pullback: @escaping (Tensor<Float>) throws -> [Tensor<Float>?]) -> Variable {
        guard Autograd.isEnabled, inputs.contains(where: \.requiresGrad) else { return Variable(value) }
        return Variable(value, inputs: inputs, pullback: pullback)
    }

    /// Back-propagates from this scalar (a one-element tensor): `∂self/∂self = 1`.
    public func backward() throws {
        guard value.count == 1 else {
            throw ConvKitError.invalidShape(op: "backward", "backward() needs a scalar (one element), but the value has shape \(shape)")
        }
        try backward(gradient: Tensor(uncheckedShape: shape, scalars: [1]))
    }

    /// Back-propagates `gradient` (shaped like the value).
    public func backward(gradient: Tensor<Float>) throws {
        try checkShape(gradient, shape, op: "backward", argument: "gradient")
        // Reverse topological order: every node after all nodes that consume it.
        var order: [Variable] = [], visited = Set<ObjectIdentifier>()
        var stack: [(Variable, Bool)] = [(self, false)]
        while let (node, expanded) = stack.popLast() {
            if expanded { order.append(node); continue }
            guard visited.insert(ObjectIdentifier(node)).inserted else { continue }
            stack.append((node, true))
            for input in node.inputs where input.requiresGrad { stack.append((input, false)) }
        }
        var gradients: [ObjectIdentifier: Tensor<Float>] = [ObjectIdentifier(self): gradient]
        for node in order.reversed() {
            guard let g = gradients.removeValue(forKey: ObjectIdentifier(node)) else { continue }
            guard let pullback = node.pullback else {
                node.grad = node.grad.map { $0.adding(g) } ?? g
                continue
            }
            for (input, inputGradient) in zip(node.inputs, try pullback(g)) {
                guard input.requiresGrad, let inputGradient else { continue }
                let key = ObjectIdentifier(input)
                gradients[key] = gradients[key].map { $0.adding(inputGradient) } ?? inputGradient
            }
        }
    }
}

/// Whether operations record the graph for a backward pass.
public enum Autograd {
    @TaskLocal static var enabled = true

    public static var isEnabled: Bool { enabled }

    /// Runs `body` without recording gradients (evaluation, inference).
    public static func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
        try $enabled.withValue(false, operation: body)
    }
}

extension Tensor<Float> {
    /// Element-wise sum with a tensor of the same shape, eight lanes at a time, on the worker pool
    /// in runs of ≥ 16 Ki elements; with `relu`, `max(sum, 0)` in the same pass (NaN stays NaN).
    func adding(_ other: Tensor, relu: Bool = false) -> Tensor {
        let count = count
        let sum = [Float](unsafeUninitializedCapacity: count) { y, initialized in
            withUnsafeBufferPointer { a in
                other.withUnsafeBufferPointer { b in
                    guard let a = a.baseAddress, let b = b.baseAddress, let y = y.baseAddress else { return }
                    // Runs of whole 8-lane blocks; the last run takes the tail.
                    let blocks = count / 8
                    parallelFor(max(blocks, 1), grain: 2048) { range, _ in
                        var i = range.lowerBound * 8
                        let end = range.upperBound == max(blocks, 1) ? count : range.upperBound * 8
                        while i + 8 <= end {
                            let sum = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
                                + UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
                            UnsafeMutableRawPointer(y + i).storeBytes(of: relu ? sum.replacing(with: 0, where: sum .< 0) : sum,
                                                                      as: SIMD8<Float>.self)
                            i += 8
                        }
                        while i < end {
                            let sum = a[i] + b[i]
                            y[i] = relu && sum < 0 ? 0 : sum
                            i += 1
                        }
                    }
                }
            }
            initialized = count
        }
        return Tensor(uncheckedShape: shape, scalars: sum)
    }
}
