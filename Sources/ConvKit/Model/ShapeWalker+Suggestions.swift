/// Suggested fixes for branches whose outputs cannot be added or concatenated: the padding
/// (from ``OutputSize/padding(forOutput:input:kernel:stride:dilation:)``) that restores the
/// intended size, verified by re-running the branch, or a projection shortcut.
enum Suggestions {
    static func residualMismatch(body: [LayerSpec], shortcut: [LayerSpec], input: Flow, bodyShape: [Int], shortcutShape: [Int],
                                 context: ShapeWalker.Context) -> String {
        var message = "the body gives \(bodyShape) but the shortcut\(shortcut.isEmpty ? " (identity)" : "") gives \(shortcutShape); they must be equal to be added"
        if let fix = paddingFix(in: body, descriptionPath: "\(context.descriptionPath).body", input: input, wanted: shortcutShape) {
            return message + "; " + fix
        }
        if !shortcut.isEmpty,
           let fix = paddingFix(in: shortcut, descriptionPath: "\(context.descriptionPath).shortcut", input: input, wanted: bodyShape) {
            return message + "; " + fix
        }
        if shortcut.isEmpty, let projection = projection(from: input.shape, to: bodyShape) {
            message += "; give the block a projection shortcut, e.g. \"shortcut\": \(projection)"
        }
        return message
    }

    static func parallelMismatch(branches: [[LayerSpec]], shapes: [[Int]], merge: MergeMode, input: Flow,
                                 context: ShapeWalker.Context) -> String {
        let list = shapes.enumerated().map { "branch \($0.offset) gives \($0.element)" }.joined(separator: ", ")
        let rule = merge == .add ? "to be added, every branch must give the same shape"
            : "to be concatenated along dimension 1 (channels), every other dimension must agree"
        var message = "\(list); \(rule)"
        // The shape most branches agree on (channels aside when concatenating) is the intended one.
        func key(_ shape: [Int]) -> [Int] {
            merge == .concat && shape.count >= 2 ? shape.enumerated().map { $0.offset == 1 ? 0 : $0.element } : shape
        }
        let counts = Dictionary(grouping: shapes.map(key), by: { $0 }).mapValues(\.count)
        guard let reference = counts.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key.lexicographicallyPrecedes($1.key)) })?.key
        else { return message }
        for (index, shape) in shapes.enumerated() where key(shape) != reference {
            var wanted = reference
            if merge == .concat, wanted.count >= 2, shape.count >= 2 { wanted[1] = shape[1] }
            if let fix = paddingFix(in: branches[index], descriptionPath: "\(context.descriptionPath).branches.\(index)", input: input,
                                    wanted: wanted) {
                message += "; " + fix
            }
        }
        return message
    }

    /// The first convolution or pooling layer of `layers` (direct children) whose padding, set
    /// to keep `⌈I / s⌉`, makes the whole branch give `wanted`.
    static func paddingFix(in layers: [LayerSpec], descriptionPath: String, input: Flow, wanted: [Int]) -> String? {
        for (index, spec) in layers.enumerated() {
            var scratch = ShapeWalker()
            guard let before = try? scratch.run(Array(layers[..<index]), input, path: "", descriptionPath: descriptionPath, depth: 0),
                  before.shape.count >= 3 else { continue }
            let spatial = Array(before.shape[2...])
            guard let (kernel, stride, dilation, current) = window(of: spec, rank: spatial.count),
                  let currentPad = try? current.resolved(input: spatial, kernelSize: Dims(kernel), stride: Dims(stride), dilation: Dims(dilation)),
                  let padding = keepingPadding(spatial, kernel: kernel, stride: stride, dilation: dilation),
                  let resolved = try? padding.resolved(input: spatial, kernelSize: Dims(kernel), stride: Dims(stride), dilation: Dims(dilation)),
                  resolved != currentPad,
                  let fixed = withPadding(spec, padding) else { continue }
            var changed = layers
            changed[index] = fixed
            var check = ShapeWalker()
            guard let after = try? check.run(changed, input, path: "", descriptionPath: descriptionPath, depth: 0),
                  after.shape == wanted,
                  let layerOutput = try? ShapeWalker().runCopy([spec], before) else { continue }
            let target = zip(spatial, stride).map { ($0 + $1 - 1) / $1 }
            return "\(descriptionPath).\(index) (\(spec.typeName)) maps \(sizes(spatial)) to \(sizes(Array(layerOutput.shape[2...]))) with padding \(current); \"padding\": \(json(padding)) gives \(sizes(target))"
        }
        return nil
    }

    /// Kernel, stride, dilation and padding of a convolution or pooling layer.
    private static func window(of spec: LayerSpec, rank: Int) -> ([Int], [Int], [Int], Padding)? {
        switch spec {
        case let .conv(conv) where conv.spatialRank == rank:
            return (conv.kernelSize.repeated(to: rank), conv.stride.repeated(to: rank), conv.dilation.repeated(to: rank), conv.padding)
        case let .maxPool(pool) where pool.spatialRank == rank:
            return (pool.kernelSize.repeated(to: rank), pool.stride.repeated(to: rank), pool.dilation.repeated(to: rank), pool.padding)
        case let .avgPool(pool) where pool.spatialRank == rank:
            return (pool.kernelSize.repeated(to: rank), pool.stride.repeated(to: rank), Array(repeating: 1, count: rank), pool.padding)
        default:
            return nil
        }
    }

    /// The padding giving `⌈I / s⌉` in every dimension: symmetric integers where possible.
    private static func keepingPadding(_ spatial: [Int], kernel: [Int], stride: [Int], dilation: [Int]) -> Padding? {
        var solutions: [PaddingSolution] = []
        for i in spatial.indices {
            let target = (spatial[i] + stride[i] - 1) / stride[i]
            guard let solution = try? OutputSize.padding(forOutput: target, input: spatial[i], kernel: kernel[i], stride: stride[i],
                                                         dilation: dilation[i]) else { return nil }
            solutions.append(solution)
        }
        let symmetric = solutions.compactMap(\.symmetric)
        if symmetric.count == solutions.count { return .explicit(symmetric) }
        return .asymmetric(low: solutions.map(\.low), high: solutions.map(\.high))
    }

    private static func withPadding(_ spec: LayerSpec, _ padding: Padding) -> LayerSpec? {
        switch spec {
        case var .conv(conv): conv.padding = padding; return .conv(conv)
        case var .maxPool(pool): pool.padding = padding; return .maxPool(pool)
        case var .avgPool(pool): pool.padding = padding; return .avgPool(pool)
        default: return nil
        }
    }

    /// A 1×1 convolution + batch norm from `input` to `output`, as JSON, when the spatial sizes
    /// shrink by an integer stride.
    private static func projection(from input: [Int], to output: [Int]) -> String? {
        guard input.count == output.count, input.count >= 3 else { return nil }
        let rank = input.count - 2
        var strides: [Int] = []
        for i in 2..<input.count {
            guard let stride = (1...max(input[i], 1)).first(where: { (input[i] + $0 - 1) / $0 == output[i] }) else { return nil }
            strides.append(stride)
        }
        let stride = Set(strides).count == 1 ? "\(strides[0])" : "\(strides)"
        return "[{\"type\": \"Conv\(rank)d\", \"in_channels\": \(input[1]), \"out_channels\": \(output[1]), \"kernel_size\": 1, \"stride\": \(stride), \"bias\": false}, {\"type\": \"BatchNorm\(rank)d\", \"num_features\": \(output[1])}]"
    }

    /// Padding as the JSON value to write.
    static func json(_ padding: Padding) -> String {
        switch padding {
        case let .explicit(values): return Set(values).count == 1 ? "\(values[0])" : "\(values)"
        case let .asymmetric(low, high): return "[" + zip(low, high).map { "[\($0), \($1)]" }.joined(separator: ", ") + "]"
        case .same: return "\"same\""
        case .valid: return "\"valid\""
        case .full: return "\"full\""
        case .causal: return "\"causal\""
        }
    }

    private static func sizes(_ values: [Int]) -> String {
        values.map(String.init).joined(separator: "×")
    }
}

extension ShapeWalker {
    /// Runs `specs` on `input` in a scratch walker (for suggestions).
    func runCopy(_ specs: [LayerSpec], _ input: Flow) throws -> Flow {
        var scratch = ShapeWalker()
        return try scratch.run(specs, input, path: "", descriptionPath: "", depth: 0)
    }
}
