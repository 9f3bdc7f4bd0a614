/// `nn.Sequential`: children named `0`, `1`, … applied in order.
public final class Sequential: Module {
    public var isTraining = true
    public let layers: [any Module]
    public init(_ layers: [any Module]) { self.layers = layers }
    public var children: [(name: String, module: any Module)] { layers.enumerated().map { (String($0.offset), $0.element) } }
    public func callAsFunction(_ input: Variable) throws -> Variable {
        try layers.reduce(input) { try $1($0) }
    }
}

/// A residual block: `body(x) + shortcut(x)`, the shortcut being the identity when empty.
/// Children `body` and `shortcut` (state_dict keys `body.1.running_mean`).
public final class Residual: Module {
    public var isTraining = true
    public let body: Sequential
    public let shortcut: Sequential
    public init(body: Sequential, shortcut: Sequential = Sequential([])) {
        self.body = body
        self.shortcut = shortcut
    }
    public var children: [(name: String, module: any Module)] {
        [("body", body)] + (shortcut.layers.isEmpty ? [] : [("shortcut", shortcut)])
    }
    /// Whether a ReLU is applied to the sum in the same pass (set by ``Sequential/foldingBatchNorm()``
    /// when the block is followed by `nn.ReLU`, as in ResNet).
    public var fusesReLU = false

    public func callAsFunction(_ input: Variable) throws -> Variable {
        let sum = try body(input), skip = try shortcut(input)
        return fusesReLU ? try sum.addingWithReLU(skip) : try sum.adding(skip)
    }
}

/// Parallel branches merged by channel concatenation or addition. Children `branches.0`, `branches.1`, ….
public final class Parallel: Module {
    public enum Merge: String, Sendable { case concat, add }
    public var isTraining = true
    public let branches: Sequential
    public let merge: Merge
    public init(branches: [Sequential], merge: Merge) {
        self.branches = Sequential(branches)
        self.merge = merge
    }
    public var children: [(name: String, module: any Module)] { [("branches", branches)] }
    public func callAsFunction(_ input: Variable) throws -> Variable {
        let outputs = try branches.layers.map { try $0(input) }
        switch merge {
        case .concat: return try Variable.concatenated(channels: outputs)
        case .add:
            guard let first = outputs.first else { return input }
            return try outputs.dropFirst().reduce(first) { try $0.adding($1) }
        }
    }
}
