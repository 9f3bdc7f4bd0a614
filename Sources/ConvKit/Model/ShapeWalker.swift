/// Walks a layer list, layer by layer, with the op plans' own shape rules, and records each
/// layer's figures for ``ModelAnalysis``.
struct ShapeWalker {
    private(set) var layers: [ModelAnalysis.Layer] = []
    private(set) var activationElements = 0

    /// Runs `specs` one after another; `path` is the module-path prefix (`""` at the top),
    /// `descriptionPath` the JSON prefix of the list (`"layers"`, `"layers.4.body"`).
    mutating func run(_ specs: [LayerSpec], _ input: Flow, path: String, descriptionPath: String, depth: Int) throws -> Flow {
        var flow = input
        for (index, spec) in specs.enumerated() {
            let context = Context(path: path.isEmpty ? "\(index)" : "\(path).\(index)", descriptionPath: "\(descriptionPath).\(index)",
                                  depth: depth, type: spec.typeName)
            flow = try layer(spec, flow, context)
        }
        return flow
    }

    /// Where a layer is, for its entry and its errors.
    struct Context {
        let path: String
        let descriptionPath: String
        let depth: Int
        let type: String

        func error(_ message: String) -> ConvKitError {
            .invalidModel(path: descriptionPath, message: "\(type): \(message)")
        }

        /// Runs `body`, re-throwing op errors with this layer's path and type.
        func wrap<T>(_ body: () throws -> T) throws -> T {
            do {
                return try body()
            } catch let ConvKitError.invalidArgument(_, message), let ConvKitError.invalidShape(_, message) {
                throw error(message)
            }
        }
    }

    /// A leaf layer's results.
    private struct Result {
        var shape: [Int]
        var field: ReceptiveField?
        var parameters = 0
        var macs = 0
        var notes: [String] = []
    }

    private mutating func layer(_ spec: LayerSpec, _ input: Flow, _ context: Context) throws -> Flow {
        switch spec {
        case let .residual(body, shortcut):
            return try container(input, context) { walker in
                let bodyFlow = try walker.run(body, input, path: "\(context.path).body", descriptionPath: "\(context.descriptionPath).body",
                                              depth: context.depth + 1)
                let shortcutFlow = try walker.run(shortcut, input, path: "\(context.path).shortcut",
                                                  descriptionPath: "\(context.descriptionPath).shortcut", depth: context.depth + 1)
                guard bodyFlow.shape == shortcutFlow.shape else {
                    throw context.error(Suggestions.residualMismatch(body: body, shortcut: shortcut, input: input,
                                                                     bodyShape: bodyFlow.shape, shortcutShape: shortcutFlow.shape, context: context))
                }
                return try Self.merge([bodyFlow, shortcutFlow], shape: bodyFlow.shape)
            }
        case let .parallel(merge, branches):
            return try container(input, context) { walker in
                let flows = try branches.enumerated().map { index, branch in
                    try walker.run(branch, input, path: "\(context.path).branches.\(index)",
                                   descriptionPath: "\(context.descriptionPath).branches.\(index)", depth: context.depth + 1)
                }
                let shape = try Self.mergedShape(flows.map(\.shape), merge: merge, branches: branches, input: input, context: context)
                return try Self.merge(flows, shape: shape)
            }
        case let .sequential(children):
            return try container(input, context) { walker in
                (try walker.run(children, input, path: context.path, descriptionPath: "\(context.descriptionPath).layers",
                                depth: context.depth + 1), [])
            }
        default:
            let result = try leaf(spec, input, context)
            try Self.requireSize(result.shape, context)
            let backward = result.macs > 0 ? Cost.backwardMACs(forward: result.macs, needsInputGradient: input.requiresGradient) : 0
            layers.append(ModelAnalysis.Layer(
                path: context.path, descriptionPath: context.descriptionPath, depth: context.depth, type: context.type,
                inputShape: input.shape, outputShape: result.shape, parameters: result.parameters, macs: result.macs,
                backwardMACs: backward, receptiveField: result.field, notes: result.notes))
            activationElements += Cost.elements(result.shape)
            return Flow(shape: result.shape, field: result.field, requiresGradient: input.requiresGradient || result.parameters > 0)
        }
    }

    /// Records a container before its children; its figures are the sums of its children's.
    private mutating func container(_ input: Flow, _ context: Context,
                                    _ body: (inout ShapeWalker) throws -> (Flow, [String])) throws -> Flow {
        let slot = layers.count
        let (output, notes) = try body(&self)
        let children = layers[(slot)...].filter { $0.depth == context.depth + 1 }
        layers.insert(ModelAnalysis.Layer(
            path: context.path, descriptionPath: context.descriptionPath, depth: context.depth, type: context.type,
            inputShape: input.shape, outputShape: output.shape,
            parameters: children.reduce(0) { $0 + $1.parameters }, macs: children.reduce(0) { $0 + $1.macs },
            backwardMACs: children.reduce(0) { $0 + $1.backwardMACs }, receptiveField: output.field, notes: notes), at: slot)
        // The sum or concatenation is a new tensor; a Sequential's output is its last child's.
        if context.type != "Sequential" { activationElements += Cost.elements(output.shape) }
        return output
    }

    /// The flow after branches meet: receptive fields merged (and their misalignment noted).
    private static func merge(_ flows: [Flow], shape: [Int]) throws -> (Flow, [String]) {
        let requires = flows.contains(where: \.requiresGradient)
        let fields = flows.compactMap(\.field)
        guard fields.count == flows.count, !fields.isEmpty else {
            return (Flow(shape: shape, field: nil, requiresGradient: requires), [])
        }
        let merged = ReceptiveField.merging(fields)
        let notes = merged.stridesAgree && merged.isAligned ? [] : [merged.description]
        return (Flow(shape: shape, field: merged.field, requiresGradient: requires), notes)
    }

    private static func mergedShape(_ shapes: [[Int]], merge: MergeMode, branches: [[LayerSpec]], input: Flow,
                                    context: Context) throws -> [Int] {
        guard let first = shapes.first else { return input.shape }
        let fits: Bool
        switch merge {
        case .add:
            fits = shapes.allSatisfy { $0 == first }
        case .concat:
            fits = first.count >= 2 && shapes.allSatisfy {
                $0.count == first.count && $0.enumerated().allSatisfy { $0.offset == 1 || $0.element == first[$0.offset] }
            }
        }
        guard fits else {
            throw context.error(Suggestions.parallelMismatch(branches: branches, shapes: shapes, merge: merge, input: input, context: context))
        }
        guard merge == .concat else { return first }
        var shape = first
        shape[1] = shapes.reduce(0) { $0 + $1[1] }
        return shape
    }

    // MARK: Leaf layers

    private func leaf(_ spec: LayerSpec, _ input: Flow, _ context: Context) throws -> Result {
        let shape = input.shape
        switch spec {
        case let .conv(conv):
            try Self.requireRank(conv.spatialRank, shape, context)
            try Self.requireChannels(conv.inChannels, key: "in_channels", shape, context)
            try Self.requirePlannable(shape, kernel: conv.kernelSize, stride: conv.stride, dilation: conv.dilation, padding: conv.padding,
                                      ceilMode: false, context)
            let plan = try context.wrap {
                try ConvolutionPlan(spatialRank: conv.spatialRank, inputShape: shape, weightShape: conv.weightShape, hasBias: conv.bias,
                                    stride: conv.stride, padding: conv.padding, dilation: conv.dilation, groups: conv.groups,
                                    paddingMode: conv.paddingMode)
            }
            let spatial = Array(shape[2...])
            // (The plan accepted the per-dimension values: one for all dimensions, or one each.)
            let kernel = conv.kernelSize.repeated(to: conv.spatialRank)
            let stride = conv.stride.repeated(to: conv.spatialRank), dilation = conv.dilation.repeated(to: conv.spatialRank)
            let pad = try context.wrap {
                try conv.padding.resolved(input: spatial, kernelSize: conv.kernelSize, stride: conv.stride, dilation: conv.dilation)
            }
            var result = Result(shape: plan.outputShape)
            try Self.requireSize(plan.outputShape, context)
            try Self.requireProduct([shape[0], conv.outChannels, conv.inChannels] + plan.outputShape[2...] + kernel, "its MAC count", context)
            result.field = try input.field?.appending(kernel: kernel, stride: stride, dilation: dilation, padLow: pad.low)
            result.parameters = Cost.convolutionParameters(inChannels: conv.inChannels, outChannels: conv.outChannels, kernelSize: kernel,
                                                           groups: conv.groups, bias: conv.bias)
            result.macs = Cost.convolutionMACs(batch: shape[0], inChannels: conv.inChannels, outChannels: conv.outChannels,
                                               outputSize: Array(plan.outputShape[2...]), kernelSize: kernel, groups: conv.groups)
            if conv.padding == .same, stride.contains(where: { $0 > 1 }) {
                result.notes.append("padding='same' with stride \(conv.stride) follows TensorFlow's rule: padding \(pad) (PyTorch rejects strided 'same')")
            }
            result.notes += Self.droppedNotes(spatial, kernel: kernel, stride: stride, dilation: dilation, pad: pad)
            if conv.paddingMode == .circular, (pad.low + pad.high).contains(where: { $0 > 0 }) {
                result.notes.append("padding_mode 'circular': the padding repeats the opposite border, so units near an edge also see input at the far edge")
            }
            return result
        case let .convTranspose(conv):
            try Self.requireRank(conv.spatialRank, shape, context)
            try Self.requireChannels(conv.inChannels, key: "in_channels", shape, context)
            try Self.requireProduct([shape[0], conv.inChannels, conv.outChannels] + shape[2...] + conv.kernelSize.repeated(to: conv.spatialRank),
                                    "its MAC count", context)
            for (i, size) in shape[2...].enumerated() {
                let r = conv.spatialRank
                let out = OutputSize.transposedConvolution(input: size, kernel: conv.kernelSize.repeated(to: r)[i], stride: conv.stride.repeated(to: r)[i],
                                                           padLow: 0, padHigh: 0, dilation: conv.dilation.repeated(to: r)[i],
                                                           outputPadding: conv.outputPadding.repeated(to: r)[i])
                try Self.requireSize([out], context)
                try Self.requireTaps(size, window: conv.kernelSize.repeated(to: r)[i], context)
            }
            let plan = try context.wrap {
                try ConvolutionPlan(transposedSpatialRank: conv.spatialRank, inputShape: shape, weightShape: conv.weightShape,
                                    hasBias: conv.bias, stride: conv.stride, padding: conv.padding, outputPadding: conv.outputPadding,
                                    groups: conv.groups, dilation: conv.dilation)
            }
            let spatial = Array(shape[2...])
            let kernel = conv.kernelSize.repeated(to: conv.spatialRank)
            let pad = try context.wrap { try conv.padding.resolved(input: spatial, kernelSize: conv.kernelSize) }
            var result = Result(shape: plan.outputShape)
            result.field = input.field?.appendingTransposedConvolution(kernel: kernel, stride: conv.stride.repeated(to: conv.spatialRank),
                                                                       dilation: conv.dilation.repeated(to: conv.spatialRank), padLow: pad.low)
            if input.field != nil, result.field == nil {
                result.notes.append("receptive field ends: a transposed convolution with stride \(conv.stride) has a fractional effective stride")
            }
            result.parameters = Cost.transposedConvolutionParameters(inChannels: conv.inChannels, outChannels: conv.outChannels,
                                                                     kernelSize: kernel, groups: conv.groups, bias: conv.bias)
            result.macs = Cost.transposedConvolutionMACs(batch: shape[0], inChannels: conv.inChannels, outChannels: conv.outChannels,
                                                         inputSize: spatial, kernelSize: kernel, groups: conv.groups)
            return result
        case let .maxPool(pool):
            try Self.requireRank(pool.spatialRank, shape, context)
            try Self.requirePlannable(shape, kernel: pool.kernelSize, stride: pool.stride, dilation: pool.dilation, padding: pool.padding,
                                      ceilMode: pool.ceilMode, context)
            let plan = try context.wrap {
                try PoolingPlan(maxPoolSpatialRank: pool.spatialRank, inputShape: shape, kernelSize: pool.kernelSize, stride: pool.stride,
                                padding: pool.padding, dilation: pool.dilation, ceilMode: pool.ceilMode)
            }
            return try Self.window(plan.outputShape, input, kernel: pool.kernelSize, stride: pool.stride, dilation: pool.dilation,
                                   padding: pool.padding, ceilMode: pool.ceilMode, context)
        case let .avgPool(pool):
            try Self.requireRank(pool.spatialRank, shape, context)
            try Self.requirePlannable(shape, kernel: pool.kernelSize, stride: pool.stride, dilation: 1, padding: pool.padding,
                                      ceilMode: pool.ceilMode, context)
            let plan = try context.wrap {
                try PoolingPlan(avgPoolSpatialRank: pool.spatialRank, inputShape: shape, kernelSize: pool.kernelSize, stride: pool.stride,
                                padding: pool.padding, ceilMode: pool.ceilMode, countIncludePad: pool.countIncludePad,
                                divisorOverride: pool.divisorOverride)
            }
            return try Self.window(plan.outputShape, input, kernel: pool.kernelSize, stride: pool.stride, dilation: 1,
                                   padding: pool.padding, ceilMode: pool.ceilMode, context)
        case let .adaptiveAvgPool(pool), let .adaptiveMaxPool(pool):
            try Self.requireRank(pool.spatialRank, shape, context)
            let isMax = if case .adaptiveMaxPool = spec { true } else { false }
            for (i, size) in shape[2...].enumerated() where pool.outputSize.count == pool.spatialRank {
                let out = pool.outputSize[i] ?? size
                try Self.requireTaps(out, window: size / max(out, 1) + 2, context)
            }
            let plan = try context.wrap {
                try PoolingPlan(adaptiveSpatialRank: pool.spatialRank, max: isMax, inputShape: shape, outputSize: pool.outputSize)
            }
            let spatial = Array(shape[2...]), output = Array(plan.outputShape[2...])
            var result = Result(shape: plan.outputShape)
            result.field = input.field?.appendingAdaptivePool(inputSize: spatial, outputSize: output)
            if input.field != nil, result.field == nil {
                result.notes.append("receptive field ends: adaptive pooling from \(spatial) to \(output) uses windows of unequal size (starting at ⌊o·I/O⌋, not a fixed stride apart)")
            }
            return result
        case let .batchNorm(norm):
            let ranks = norm.spatialRank == 1 ? [2, 3] : [norm.spatialRank + 2]
            guard ranks.contains(shape.count) else {
                let layout = norm.spatialRank == 1 ? "2-D [N, C] or 3-D [N, C, L]" : "\(norm.spatialRank + 2)-D [N, C, \(spatialNames(norm.spatialRank))]"
                throw context.error("expects a \(layout) input, but got shape \(shape)\(Self.rankHint(shape, wanted: ranks[0] - 2))")
            }
            try Self.requireChannels(norm.numFeatures, key: "num_features", shape, context)
            var result = Result(shape: shape, field: input.field)
            result.parameters = Cost.batchNormParameters(numFeatures: norm.numFeatures, affine: norm.affine)
            return result
        case let .activation(.softmax(dim)), let .activation(.logSoftmax(dim)):
            // PyTorch's legacy choice for dim=None: 0 for 0-, 1- and 3-D inputs, else 1.
            let rank = shape.count
            let axis = dim.map { $0 < 0 ? $0 + rank : $0 } ?? ([0, 1, 3].contains(rank) ? 0 : 1)
            guard (0..<max(rank, 1)).contains(axis) else {
                throw context.error("dim \(dim.map(String.init) ?? "None") does not fit an input of rank \(rank) (shape \(shape)); use -\(rank)…\(rank - 1)")
            }
            var result = Result(shape: shape, field: axis >= 2 ? nil : input.field)
            if axis >= 2, input.field != nil {
                result.notes.append("receptive field ends: softmax over spatial dimension \(axis) mixes every position")
            }
            return result
        case .activation, .dropout:
            return Result(shape: shape, field: input.field)
        case .localResponseNorm:
            guard shape.count >= 3 else {
                throw context.error("expects an input of rank 3 or more [N, C, …], but got shape \(shape)")
            }
            return Result(shape: shape, field: input.field)
        case let .pad(pad):
            guard pad.pad.count == 2 * pad.spatialRank, shape.count == pad.spatialRank + 2 else {
                try Self.requireRank(pad.spatialRank, shape, context)
                throw context.error("padding must have \(2 * pad.spatialRank) entries, but got \(pad.pad)")
            }
            let plan = try context.wrap { try PadPlan(op: context.type, inputShape: shape, pad: pad.pad, mode: pad.mode) }
            var result = Result(shape: plan.outputShape)
            // Padding is a 1-wide window with stride 1: P grows by p_low·S (a crop shrinks it).
            result.field = try input.field?.appending(kernel: [1], stride: [1], padLow: pad.low)
            if pad.mode == .circular, input.field != nil {
                result.notes.append("circular padding repeats the opposite border, so units near an edge also see input at the far edge")
            }
            return result
        case let .flatten(flatten):
            let rank = shape.count
            let start = flatten.startDim < 0 ? flatten.startDim + rank : flatten.startDim
            let end = flatten.endDim < 0 ? flatten.endDim + rank : flatten.endDim
            guard 0 <= start, start < rank, 0 <= end, end < rank, start <= end else {
                throw context.error("start_dim \(flatten.startDim) and end_dim \(flatten.endDim) do not fit an input of rank \(rank) (shape \(shape)); they must lie in -\(rank)…\(rank - 1) with start_dim ≤ end_dim")
            }
            let output = Array(shape[..<start]) + [shape[start...end].reduce(1, *)] + Array(shape[(end + 1)...])
            return Result(shape: output, field: output == shape ? input.field : nil)
        case let .linear(linear):
            guard let last = shape.last, last == linear.inFeatures else {
                throw context.error("in_features is \(linear.inFeatures), but its input has \(shape.last ?? 0) features (the last dimension of shape \(shape)); set \"in_features\": \(shape.last ?? 0)\(shape.count > 2 ? ", or flatten the input first ({\"type\": \"Flatten\"})" : "")")
            }
            try Self.requireProduct(shape + [linear.outFeatures], "its MAC count", context)
            var result = Result(shape: Array(shape.dropLast()) + [linear.outFeatures])
            result.parameters = Cost.linearParameters(inFeatures: linear.inFeatures, outFeatures: linear.outFeatures, bias: linear.bias)
            result.macs = Cost.linearMACs(rows: Cost.elements(shape) / max(last, 1), inFeatures: last, outFeatures: linear.outFeatures)
            return result
        case let .upsample(upsample):
            return try Self.upsample(upsample, input, context)
        case .residual, .parallel, .sequential:
            return Result(shape: shape, field: input.field)
        }
    }

    /// Max or average pooling: the receptive field grows as for a convolution.
    private static func window(_ output: [Int], _ input: Flow, kernel: Dims, stride: Dims, dilation: Dims, padding: Padding,
                               ceilMode: Bool, _ context: Context) throws -> Result {
        let spatial = Array(input.shape[2...])
        let rank = spatial.count
        let pad = try context.wrap { try padding.resolved(input: spatial, kernelSize: kernel, stride: stride, dilation: dilation) }
        var result = Result(shape: output)
        result.field = try input.field?.appending(kernel: kernel.repeated(to: rank), stride: stride.repeated(to: rank),
                                                  dilation: dilation.repeated(to: rank), padLow: pad.low)
        if !ceilMode {
            result.notes += droppedNotes(spatial, kernel: kernel.repeated(to: rank), stride: stride.repeated(to: rank),
                                         dilation: dilation.repeated(to: rank), pad: pad)
        }
        return result
    }

    private static func upsample(_ spec: UpsampleSpec, _ input: Flow, _ context: Context) throws -> Result {
        let shape = input.shape
        let rank = shape.count - 2
        guard rank >= 1, rank <= 3 else {
            throw context.error("expects a 3-D, 4-D or 5-D input [N, C, spatial…], but got shape \(shape)")
        }
        if let required = spec.mode.requiredSpatialRank, required != rank {
            throw context.error("mode \"\(spec.mode.rawValue)\" needs a \(required + 2)-D input, but got shape \(shape); use mode \"\(["linear", "bilinear", "trilinear"][rank - 1])\" or \"nearest\"")
        }
        let spatial = Array(shape[2...])
        var output: [Int]
        if let size = spec.size {
            guard size.count == 1 || size.count == rank else {
                throw context.error("\"size\" must have 1 or \(rank) values for an input of shape \(shape), but got \(size)")
            }
            output = size.count == 1 ? Array(repeating: size[0], count: rank) : size
        } else {
            let scale = spec.scaleFactor ?? [1]
            guard scale.count == 1 || scale.count == rank else {
                throw context.error("\"scale_factor\" must have 1 or \(rank) values for an input of shape \(shape), but got \(scale)")
            }
            let factors = scale.count == 1 ? Array(repeating: scale[0], count: rank) : scale
            let sizes = zip(spatial, factors).map { (Double($0) * $1).rounded(.down) }
            guard sizes.allSatisfy({ $0.isFinite && $0 <= Double(largestSize) }) else {
                throw context.error("\"scale_factor\" \(scale) turns input size \(spatial) into more than \(largestSize) positions per dimension")
            }
            output = sizes.map { Int($0) }
            guard output.allSatisfy({ $0 >= 1 }) else {
                throw context.error("\"scale_factor\" \(scale) turns input size \(spatial) into \(output); every output size must be ≥ 1")
            }
        }
        var result = Result(shape: Array(shape[..<2]) + output)
        if output == spatial {
            result.field = input.field
        } else if spatial.allSatisfy({ $0 == 1 }) {
            result.field = input.field?.appendingBroadcast()
        } else if input.field != nil {
            result.notes.append("receptive field ends: upsampling \(spatial) to \(output) has a fractional effective stride")
        }
        return result
    }

    /// Notes for input rows or columns that floor rounding leaves unread.
    private static func droppedNotes(_ spatial: [Int], kernel: [Int], stride: [Int], dilation: [Int], pad: ResolvedPadding) -> [String] {
        let dropped = spatial.indices.map { i in
            OutputSize.droppedInput(input: spatial[i], kernel: kernel[i], stride: stride[i], padLow: pad.low[i], padHigh: pad.high[i],
                                    dilation: dilation[i])
        }
        guard dropped.contains(where: { $0 > 0 }) else { return [] }
        let sizes = spatial.map(String.init).joined(separator: "×")
        return ["floor rounding leaves the last \(dropped.map(String.init).joined(separator: "×")) input positions of the \(sizes) input unread"]
    }

    /// The largest size of one dimension (2³¹ − 1) and of a whole tensor (2⁴⁸ elements) a layer
    /// may produce, so that the size and cost arithmetic cannot overflow.
    static let largestSize = Int(Int32.max)
    static let largestElements = 1 << 48

    private static func requireSize(_ shape: [Int], _ context: Context) throws {
        var elements = 1
        for size in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: max(size, 0))
            guard size <= largestSize, !overflow, product <= largestElements else {
                throw context.error("its output \(shape) is too large (at most \(largestSize) per dimension and 2^48 elements)")
            }
            elements = product
        }
    }

    /// The most (output, tap) pairs one dimension's window table may hold (2²⁵): the op plans
    /// tabulate every window, so absurd sizes must fail before they are planned.
    static let largestTable = 1 << 25

    /// Checks a convolution's or pooling's outputs (by ``OutputSize``) before its plan is built.
    private static func requirePlannable(_ shape: [Int], kernel: Dims, stride: Dims, dilation: Dims, padding: Padding, ceilMode: Bool,
                                         _ context: Context) throws {
        let spatial = Array(shape[2...]), rank = spatial.count
        let k = kernel.repeated(to: rank), s = stride.repeated(to: rank), d = dilation.repeated(to: rank)
        guard k.count == rank, s.count == rank, d.count == rank,
              let pad = try? padding.resolved(input: spatial, kernelSize: kernel, stride: stride, dilation: dilation) else {
            return  // the plan reports the malformed argument
        }
        for i in 0..<rank {
            let out = OutputSize.pooling(input: spatial[i], kernel: k[i], stride: max(s[i], 1), padLow: pad.low[i], padHigh: pad.high[i],
                                         dilation: d[i], ceilMode: ceilMode)
            try requireSize([out], context)
            try requireTaps(out, window: k[i], context)
        }
    }

    private static func requireTaps(_ outputs: Int, window: Int, _ context: Context) throws {
        let (taps, overflow) = max(outputs, 0).multipliedReportingOverflow(by: max(window, 0))
        guard !overflow, taps <= largestTable else {
            throw context.error("\(outputs) outputs of a \(window)-wide window in one dimension are more than ConvKit plans (\(largestTable) window positions); check the sizes, padding and output_size")
        }
    }

    private static func requireProduct<C: Collection>(_ factors: C, _ what: String, _ context: Context) throws where C.Element == Int {
        var product = 1
        for factor in factors {
            let (next, overflow) = product.multipliedReportingOverflow(by: max(factor, 0))
            guard !overflow else { throw context.error("\(what) overflows 64-bit integers (factors \(Array(factors)))") }
            product = next
        }
    }

    private static func requireRank(_ spatialRank: Int, _ shape: [Int], _ context: Context) throws {
        guard shape.count == spatialRank + 2 else {
            throw context.error("expects a \(spatialRank + 2)-D input [N, C, \(spatialNames(spatialRank))], but got shape \(shape)\(rankHint(shape, wanted: spatialRank))")
        }
    }

    private static func rankHint(_ shape: [Int], wanted: Int) -> String {
        if shape.count == wanted + 1 { return " (include the batch dimension N in input_shape, e.g. \([1] + shape))" }
        if shape.count == 2 { return " (a Flatten or Linear before it removed the spatial dimensions)" }
        if shape.count >= 3 { return " (a \(shape.count - 2)-D layer fits this input: \(["Conv1d", "Conv2d", "Conv3d"][min(shape.count - 3, 2)]), …)" }
        return ""
    }

    private static func requireChannels(_ expected: Int, key: String, _ shape: [Int], _ context: Context) throws {
        guard shape.count >= 2, shape[1] != expected else { return }
        throw context.error("\(key) is \(expected), but its input has \(shape[1]) channels (shape \(shape)); set \"\(key)\": \(shape[1])")
    }
}
