/// A layer or a container of layers, as PyTorch's `nn.Module`: it maps a variable to a
/// variable and owns named parameters, buffers and children, whose dotted names are
/// PyTorch's `state_dict` keys (`0.weight`, `4.body.1.running_mean`).
public protocol Module: AnyObject {
    /// The forward pass.
    func callAsFunction(_ input: Variable) throws -> Variable
    /// This module's own trainable parameters, by name (`weight`, `bias`).
    var parameters: [(name: String, variable: Variable)] { get }
    /// This module's own state that is saved but not trained (`running_mean`, …).
    var buffers: [(name: String, buffer: Buffer)] { get }
    /// Sub-modules, by name.
    var children: [(name: String, module: any Module)] { get }
    /// Training (batch statistics, dropout) or evaluation mode.
    var isTraining: Bool { get set }
}

/// A saved, non-trainable tensor of a module, with the dtype PyTorch stores it as.
public struct Buffer {
    public enum DType: String, Sendable { case float32 = "F32", int64 = "I64" }
    public let variable: Variable
    public let dtype: DType
}

extension Module {
    public var parameters: [(name: String, variable: Variable)] { [] }
    public var buffers: [(name: String, buffer: Buffer)] { [] }
    public var children: [(name: String, module: any Module)] { [] }

    /// Every parameter of this module and its descendants, with dotted names, in PyTorch's order.
    public func namedParameters(prefix: String = "") -> [(name: String, variable: Variable)] {
        parameters.map { (prefix + $0.name, $0.variable) }
            + children.flatMap { $0.module.namedParameters(prefix: prefix + $0.name + ".") }
    }

    /// Every buffer of this module and its descendants, with dotted names.
    public func namedBuffers(prefix: String = "") -> [(name: String, buffer: Buffer)] {
        buffers.map { (prefix + $0.name, $0.buffer) }
            + children.flatMap { $0.module.namedBuffers(prefix: prefix + $0.name + ".") }
    }

    /// All parameters (for an optimiser).
    public var allParameters: [Variable] { namedParameters().map(\.variable) }

    /// Number of trainable scalars.
    public var parameterCount: Int { allParameters.reduce(0) { $0 + $1.value.count } }

    /// Switches this module and its descendants to training (`true`) or evaluation mode.
    public func train(_ training: Bool = true) {
        isTraining = training
        for child in children { child.module.train(training) }
    }

    /// Evaluation mode (running statistics, no dropout).
    public func eval() { train(false) }
}
