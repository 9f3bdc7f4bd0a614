/// Every layer of a ``ModelDescription`` for one input shape: output shape (by the op plans'
/// own rules, so exactly what ConvKit and PyTorch compute), trainable parameters, MACs of the
/// forward and backward passes, and the receptive field of its output units in the network input.
///
/// Layers are listed depth-first with each container before its children (as torchinfo does);
/// top-level layers have ``Layer/depth`` 0 and paths `"0"`, `"1"`, …; nested layers have
/// dotted paths such as `"4.body.0"` or `"6.branches.1.0"` — PyTorch `state_dict` prefixes.
public struct ModelAnalysis: Sendable {
    /// One layer's figures.
    public struct Layer: Equatable, Sendable {
        /// The module path (`"4.body.0"`), the prefix of the layer's `state_dict` keys.
        public let path: String
        /// The layer's place in the JSON description (`"layers.4.body.0"`).
        public let descriptionPath: String
        /// 0 for top-level layers, 1 inside one container, …
        public let depth: Int
        /// The PyTorch class name.
        public let type: String
        /// The input shape `[N, C, spatial…]`.
        public let inputShape: [Int]
        /// The output shape.
        public let outputShape: [Int]
        /// Trainable parameters (for a container: of everything inside it).
        public let parameters: Int
        /// Forward multiply–accumulates (see ``Cost``).
        public let macs: Int
        /// Backward multiply–accumulates: weight gradients, and input gradients where an
        /// earlier layer has parameters (see ``Cost/backwardMACs(forward:needsInputGradient:)``).
        public let backwardMACs: Int
        /// The receptive field of the output units in the network input; `nil` once no
        /// `(r, S, P)` describes it (after `Flatten`, `Linear`, a strided transposed
        /// convolution, irregular adaptive pooling, or branches with different strides).
        public let receptiveField: ReceptiveField?
        /// Remarks: misaligned branches, TensorFlow-style `'same'`, input rows dropped by floor
        /// rounding, why the receptive field ends.
        public let notes: [String]

        /// Whether the layer is in the description's top-level `layers`.
        public var isTopLevel: Bool { depth == 0 }
    }

    /// The input shape `[N, C, spatial…]`.
    public let inputShape: [Int]
    /// The output shape.
    public let outputShape: [Int]
    /// Every layer, containers before their children.
    public let layers: [Layer]

    /// The top-level layers (what `nn.Sequential` would list).
    public var topLevelLayers: [Layer] { layers.filter(\.isTopLevel) }
    /// Trainable parameters of the whole model.
    public var totalParameters: Int { topLevelLayers.reduce(0) { $0 + $1.parameters } }
    /// Forward MACs of the whole model.
    public var totalMACs: Int { topLevelLayers.reduce(0) { $0 + $1.macs } }
    /// Backward MACs of the whole model (one training step costs `totalMACs + totalBackwardMACs`).
    public var totalBackwardMACs: Int { topLevelLayers.reduce(0) { $0 + $1.backwardMACs } }
    /// Elements of every layer output (containers not counted twice): what a training step
    /// keeps for the backward pass, at most.
    public let activationElements: Int
    /// The receptive field of the model's output units (`nil` as for ``Layer/receptiveField``).
    public var receptiveField: ReceptiveField? {
        guard let last = topLevelLayers.last else { return inputShape.count >= 3 ? .input(rank: inputShape.count - 2) : nil }
        return last.receptiveField
    }

    /// Runs `model` on `inputShape` (default: the description's `input_shape`).
    /// - Throws: ``ConvKitError/invalidModel(path:message:)`` naming the first layer that does
    ///   not fit its input, what it expected and what it got, with a suggested fix.
    public init(_ model: ModelDescription, inputShape: [Int]? = nil) throws {
        guard let shape = inputShape ?? model.inputShape else {
            throw ConvKitError.invalidModel(
                path: "input_shape", message: "no input shape: add \"input_shape\": [N, C, …] to the description, or pass one (--input-shape 1,3,224,224)")
        }
        let elements = shape.reduce((1, false)) { state, size in
            let (product, overflow) = state.0.multipliedReportingOverflow(by: max(size, 0))
            return (product, state.1 || overflow)
        }
        guard !shape.isEmpty, shape.count <= 6, shape.allSatisfy({ $0 > 0 && $0 <= ShapeWalker.largestSize }),
              !elements.1, elements.0 <= ShapeWalker.largestElements else {
            throw ConvKitError.invalidModel(
                path: "input_shape", message: "must be 1 to 6 positive integers [N, C, spatial…] of at most 2^48 elements, but got \(shape)")
        }
        var walker = ShapeWalker()
        let start = Flow(shape: shape, field: shape.count >= 3 ? .input(rank: shape.count - 2) : nil, requiresGradient: false)
        let end = try walker.run(model.layers, start, path: "", descriptionPath: "layers", depth: 0)
        self.inputShape = shape
        self.outputShape = end.shape
        self.layers = walker.layers
        self.activationElements = walker.activationElements
    }
}

extension ModelDescription {
    /// The analysis of this model for `inputShape` (default: ``inputShape``).
    public func analyze(inputShape: [Int]? = nil) throws -> ModelAnalysis {
        try ModelAnalysis(self, inputShape: inputShape)
    }

    /// The output shape of every top-level layer for `input` (default: ``inputShape``).
    public func shapes(input: [Int]? = nil) throws -> [[Int]] {
        try analyze(inputShape: input).topLevelLayers.map(\.outputShape)
    }
}

/// What flows from one layer to the next.
struct Flow {
    var shape: [Int]
    var field: ReceptiveField?
    /// Whether some earlier layer has trainable parameters (so the input gradient is needed).
    var requiresGradient: Bool
}
