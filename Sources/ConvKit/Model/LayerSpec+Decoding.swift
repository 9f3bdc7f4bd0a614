/// Parsing of one JSON layer object: `{"type": "<nn class name>", <PyTorch argument>: value, …}`.
/// Constructor-time checks (groups dividing the channels, known padding modes, …) happen here,
/// as in PyTorch's `__init__`; checks that need the input shape happen in ``ModelAnalysis``.
extension LayerSpec {
    /// Every accepted `type`, for messages and suggestions.
    static let typeNames: [String] = {
        var names: [String] = []
        for base in ["Conv", "ConvTranspose", "MaxPool", "AvgPool", "AdaptiveAvgPool", "AdaptiveMaxPool", "BatchNorm", "Dropout",
                     "ZeroPad", "ConstantPad", "ReflectionPad", "ReplicationPad", "CircularPad"] {
            names += (1...3).map { "\(base)\($0)d" }
        }
        names += ["ReLU", "ReLU6", "LeakyReLU", "ELU", "GELU", "Sigmoid", "Tanh", "SiLU", "Mish", "Hardswish", "Hardsigmoid",
                  "Softmax", "LogSoftmax", "Identity", "Dropout", "Flatten", "Linear", "Upsample", "LocalResponseNorm", "Residual",
                  "Parallel", "Sequential"]
        return names
    }()

    /// Parses the layer at `path` (`layers.4.body.0`).
    init(parsing value: JSONValue, path: String) throws {
        guard case let .object(members) = value else {
            throw ConvKitError.invalidModel(path: path, message: "a layer must be an object {\"type\": \"Conv2d\", …}, but got \(value.text)")
        }
        guard let typeValue = members["type"] else {
            throw ConvKitError.invalidModel(
                path: path, message: "missing \"type\": give the PyTorch class name, e.g. \"Conv2d\", \"ReLU\" or \"Residual\"")
        }
        guard case let .string(type) = typeValue, Self.typeNames.contains(type) else {
            let hint = typeValue.stringValue.flatMap { closestName(to: $0, among: Self.typeNames) }.map { "; did you mean \"\($0)\"?" }
                ?? " (known types: \(Self.typeNames.joined(separator: ", ")))"
            throw ConvKitError.invalidModel(path: path, message: "unknown layer type \(typeValue.text)\(hint)")
        }
        var reader = LayerReader(path: path, type: type, members: members)
        self = try Self.parse(type: type, reader: &reader)
    }

    private static func parse(type: String, reader r: inout LayerReader) throws -> LayerSpec {
        // "Conv2d" → ("Conv", 2); names without a rank suffix keep rank 0.
        let ranked = type.count > 2 && ["1d", "2d", "3d"].contains(String(type.suffix(2)))
        let base = ranked ? String(type.dropLast(2)) : type
        let rank = ranked ? Int(String(type.suffix(2).prefix(1))) ?? 0 : 0
        switch base {
        case "Conv": return .conv(try conv(rank: rank, &r))
        case "ConvTranspose": return .convTranspose(try convTranspose(rank: rank, &r))
        case "MaxPool": return .maxPool(try maxPool(rank: rank, &r))
        case "AvgPool": return .avgPool(try avgPool(rank: rank, &r))
        case "AdaptiveAvgPool": return .adaptiveAvgPool(try adaptivePool(rank: rank, max: false, &r))
        case "AdaptiveMaxPool": return .adaptiveMaxPool(try adaptivePool(rank: rank, max: true, &r))
        case "BatchNorm": return .batchNorm(try batchNorm(rank: rank, &r))
        case "Dropout":
            let p = try r.double("p", default: 0.5, in: 0...1)
            r.ignore("inplace")
            try r.finish()
            return .dropout(DropoutSpec(p: p, featureRank: ranked ? rank : nil))
        case "Flatten":
            let start = try r.int("start_dim", default: 1)
            let end = try r.int("end_dim", default: -1)
            try r.finish()
            return .flatten(FlattenSpec(startDim: start, endDim: end))
        case "Linear":
            let inFeatures = try r.int("in_features", minimum: 1)
            let outFeatures = try r.int("out_features", minimum: 1)
            let bias = try r.bool("bias", default: true)
            try r.finish()
            return .linear(LinearSpec(inFeatures: inFeatures, outFeatures: outFeatures, bias: bias))
        case "Upsample": return .upsample(try upsample(&r))
        case "ZeroPad", "ConstantPad", "ReflectionPad", "ReplicationPad", "CircularPad": return .pad(try pad(base, rank: rank, &r))
        case "LocalResponseNorm":
            let size = try r.int("size", minimum: 1)
            let alpha = try r.double("alpha", default: 1e-4)
            let beta = try r.double("beta", default: 0.75)
            let k = try r.double("k", default: 1)
            try r.finish()
            return .localResponseNorm(LocalResponseNormSpec(size: size, alpha: alpha, beta: beta, k: k))
        case "Residual":
            let body = try r.layers("body")
            let shortcut = try r.layers("shortcut")
            try r.finish()
            return .residual(body: body, shortcut: shortcut)
        case "Parallel":
            let merge = try r.string("merge", default: "concat", choices: MergeMode.allCases.map(\.rawValue))
            let branches = try r.branches("branches")
            try r.finish()
            return .parallel(merge: MergeMode(rawValue: merge) ?? .concat, branches: branches)
        case "Sequential":
            let layers = try r.layers("layers", required: true)
            try r.finish()
            return .sequential(layers)
        default:
            return .activation(try activation(type, &r))
        }
    }

    private static func conv(rank: Int, _ r: inout LayerReader) throws -> ConvSpec {
        let inChannels = try r.int("in_channels", minimum: 1)
        let outChannels = try r.int("out_channels", minimum: 1)
        let kernel = try r.dims("kernel_size", rank: rank)
        let stride = try r.dims("stride", rank: rank, default: 1)
        let padding = try r.padding("padding", rank: rank, names: rank == 1 ? ["same", "valid", "full", "causal"] : ["same", "valid", "full"])
        let dilation = try r.dims("dilation", rank: rank, default: 1)
        let groups = try r.int("groups", default: 1, minimum: 1)
        let bias = try r.bool("bias", default: true)
        let mode = try r.string("padding_mode", default: "zeros", choices: PaddingMode.allCases.map(\.rawValue))
        try r.finish()
        try checkGroups(groups, inChannels: inChannels, outChannels: outChannels, r)
        return ConvSpec(spatialRank: rank, inChannels: inChannels, outChannels: outChannels, kernelSize: kernel, stride: stride,
                        padding: padding, dilation: dilation, groups: groups, bias: bias, paddingMode: PaddingMode(rawValue: mode) ?? .zeros)
    }

    private static func convTranspose(rank: Int, _ r: inout LayerReader) throws -> ConvTransposeSpec {
        let inChannels = try r.int("in_channels", minimum: 1)
        let outChannels = try r.int("out_channels", minimum: 1)
        let kernel = try r.dims("kernel_size", rank: rank)
        let stride = try r.dims("stride", rank: rank, default: 1)
        let padding = try r.padding("padding", rank: rank, names: [])
        let outputPadding = try r.dims("output_padding", rank: rank, default: 0, minimum: 0)
        let groups = try r.int("groups", default: 1, minimum: 1)
        let bias = try r.bool("bias", default: true)
        let dilation = try r.dims("dilation", rank: rank, default: 1)
        _ = try r.string("padding_mode", default: "zeros", choices: ["zeros"])
        try r.finish()
        try checkGroups(groups, inChannels: inChannels, outChannels: outChannels, r)
        for i in 0..<rank where outputPadding.values[i] >= max(stride.values[i], dilation.values[i]) {
            throw r.error("\"output_padding\" (\(outputPadding)) must be smaller than either stride (\(stride)) or dilation (\(dilation)) in every dimension")
        }
        return ConvTransposeSpec(spatialRank: rank, inChannels: inChannels, outChannels: outChannels, kernelSize: kernel, stride: stride,
                                 padding: padding, outputPadding: outputPadding, groups: groups, bias: bias, dilation: dilation)
    }

    private static func checkGroups(_ groups: Int, inChannels: Int, outChannels: Int, _ r: LayerReader) throws {
        guard inChannels % groups != 0 || outChannels % groups != 0 else { return }
        var a = inChannels, b = outChannels
        while b != 0 { (a, b) = (b, a % b) }
        throw r.error("\"groups\" (\(groups)) must divide both in_channels (\(inChannels)) and out_channels (\(outChannels)); the largest that does is \(a)\(a == inChannels ? " (depthwise)" : "")")
    }

    private static func maxPool(rank: Int, _ r: inout LayerReader) throws -> MaxPoolSpec {
        let kernel = try r.dims("kernel_size", rank: rank)
        let stride = try r.optionalDims("stride", rank: rank)
        let padding = try r.padding("padding", rank: rank, names: ["same", "valid"])
        let dilation = try r.dims("dilation", rank: rank, default: 1)
        let returnIndices = try r.bool("return_indices", default: false)
        let ceilMode = try r.bool("ceil_mode", default: false)
        try r.finish()
        if returnIndices {
            throw r.error("\"return_indices\": true makes the layer return (output, indices), which the next layer cannot take; remove it")
        }
        return MaxPoolSpec(spatialRank: rank, kernelSize: kernel, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode)
    }

    private static func avgPool(rank: Int, _ r: inout LayerReader) throws -> AvgPoolSpec {
        let kernel = try r.dims("kernel_size", rank: rank)
        let stride = try r.optionalDims("stride", rank: rank)
        let padding = try r.padding("padding", rank: rank, names: ["same", "valid"])
        let ceilMode = try r.bool("ceil_mode", default: false)
        let countIncludePad = try r.bool("count_include_pad", default: true)
        // PyTorch's AvgPool1d has no divisor_override.
        let divisor = rank == 1 ? nil : try r.optionalInt("divisor_override")
        try r.finish()
        if divisor == 0 { throw r.error("\"divisor_override\" must be non-zero (or null), but got 0") }
        return AvgPoolSpec(spatialRank: rank, kernelSize: kernel, stride: stride, padding: padding, ceilMode: ceilMode,
                           countIncludePad: countIncludePad, divisorOverride: divisor)
    }

    private static func adaptivePool(rank: Int, max: Bool, _ r: inout LayerReader) throws -> AdaptivePoolSpec {
        let value = r.value("output_size")
        if max {
            if try r.bool("return_indices", default: false) {
                throw r.error("\"return_indices\": true makes the layer return (output, indices), which the next layer cannot take; remove it")
            }
        }
        try r.finish()
        let expected = "an integer, null, or a list of \(rank) integers or nulls"
        guard let value else { throw r.error("missing required key \"output_size\" (\(r.type) takes \(r.signature))") }
        var sizes: [Int?]
        switch value {
        case .null: sizes = [nil]
        case let .array(items):
            sizes = try items.map { item in
                if item == .null { return nil }
                guard let size = item.integer else { throw r.error("\"output_size\" must be \(expected), but got \(value.text)") }
                return size
            }
            guard sizes.count == rank else { throw r.error("\"output_size\" must be \(expected), but got \(value.text)") }
        default:
            guard let size = value.integer else { throw r.error("\"output_size\" must be \(expected), but got \(value.text)") }
            sizes = [size]
        }
        if sizes.contains(where: { ($0 ?? 1) < 1 }) { throw r.error("\"output_size\" entries must be positive, but got \(value.text)") }
        return AdaptivePoolSpec(spatialRank: rank, outputSize: sizes)
    }

    private static func batchNorm(rank: Int, _ r: inout LayerReader) throws -> BatchNormSpec {
        let features = try r.int("num_features", minimum: 1)
        let eps = try r.double("eps", default: 1e-5)
        let momentum = try r.optionalDouble("momentum", default: 0.1)
        let affine = try r.bool("affine", default: true)
        let track = try r.bool("track_running_stats", default: true)
        try r.finish()
        guard eps > 0 else { throw r.error("\"eps\" must be positive, but got \(eps)") }
        return BatchNormSpec(spatialRank: rank, numFeatures: features, eps: eps, momentum: momentum, affine: affine, trackRunningStats: track)
    }

    private static func upsample(_ r: inout LayerReader) throws -> UpsampleSpec {
        let sizeValue = r.value("size")
        let scaleValue = r.value("scale_factor")
        let mode = try r.string("mode", default: "nearest", choices: UpsampleSpec.Mode.allCases.map(\.rawValue))
        let alignCorners = try r.optionalBool("align_corners")
        _ = try r.optionalBool("recompute_scale_factor")
        try r.finish()
        func list<T>(_ value: JSONValue?, _ key: String, _ convert: (JSONValue) -> T?, positive: (T) -> Bool) throws -> [T]? {
            guard let value, value != .null else { return nil }
            let items: [JSONValue]
            if case let .array(array) = value { items = array } else { items = [value] }
            let converted = items.compactMap(convert)
            guard !items.isEmpty, converted.count == items.count, converted.allSatisfy(positive) else {
                throw r.error("\"\(key)\" must be a positive number or a list of them, but got \(value.text)")
            }
            return converted
        }
        let size = try list(sizeValue, "size", { $0.integer }, positive: { $0 > 0 })
        let scale = try list(scaleValue, "scale_factor", { $0.number }, positive: { $0 > 0 })
        guard (size == nil) != (scale == nil) else {
            throw r.error("give exactly one of \"size\" and \"scale_factor\"")
        }
        let upsampleMode = UpsampleSpec.Mode(rawValue: mode) ?? .nearest
        if alignCorners != nil, upsampleMode == .nearest || upsampleMode == .nearestExact {
            throw r.error("\"align_corners\" applies only to the interpolating modes linear, bilinear, bicubic and trilinear, not \"\(mode)\"; remove it")
        }
        return UpsampleSpec(size: size, scaleFactor: scale, mode: upsampleMode, alignCorners: alignCorners)
    }

    /// `padding`: an integer (every side) or F.pad's list of 2 × rank integers, last dimension first.
    private static func pad(_ base: String, rank: Int, _ r: inout LayerReader) throws -> PadSpec {
        let value = r.value("padding")
        let fill = base == "ConstantPad" ? try r.double("value", default: .nan) : 0
        try r.finish()
        if base == "ConstantPad", fill.isNaN { throw r.error("missing required key \"value\" (\(r.type) takes \(r.signature))") }
        let expected = "an integer or a list of \(2 * rank) integers (left, right\(rank > 1 ? ", top, bottom" : "")\(rank > 2 ? ", front, back" : ""): last dimension first)"
        guard let value else { throw r.error("missing required key \"padding\" (\(r.type) takes \(r.signature))") }
        let amounts: [Int]
        switch value {
        case let .array(items):
            amounts = items.compactMap(\.integer)
            guard amounts.count == items.count, items.count == 2 * rank else { throw r.error("\"padding\" must be \(expected), but got \(value.text)") }
        default:
            guard let amount = value.integer else { throw r.error("\"padding\" must be \(expected), but got \(value.text)") }
            amounts = Array(repeating: amount, count: 2 * rank)
        }
        let mode: PadMode = switch base {
        case "ReflectionPad": .reflect
        case "ReplicationPad": .replicate
        case "CircularPad": .circular
        default: .constant
        }
        return PadSpec(spatialRank: rank, pad: amounts, mode: mode, value: fill)
    }

    private static func activation(_ type: String, _ r: inout LayerReader) throws -> Activation {
        let kind: Activation
        switch type {
        case "ReLU": r.ignore("inplace"); kind = .relu
        case "ReLU6": r.ignore("inplace"); kind = .relu6
        case "LeakyReLU":
            kind = .leakyReLU(negativeSlope: try r.double("negative_slope", default: 0.01))
            r.ignore("inplace")
        case "ELU":
            kind = .elu(alpha: try r.double("alpha", default: 1))
            r.ignore("inplace")
        case "GELU": kind = .gelu(tanh: try r.string("approximate", default: "none", choices: ["none", "tanh"]) == "tanh")
        case "Sigmoid": kind = .sigmoid
        case "Tanh": kind = .tanh
        case "SiLU": r.ignore("inplace"); kind = .silu
        case "Mish": r.ignore("inplace"); kind = .mish
        case "Hardswish": r.ignore("inplace"); kind = .hardswish
        case "Hardsigmoid": r.ignore("inplace"); kind = .hardsigmoid
        case "Softmax": kind = .softmax(dim: try r.optionalInt("dim"))
        case "LogSoftmax": kind = .logSoftmax(dim: try r.optionalInt("dim"))
        default: kind = .identity
        }
        try r.finish()
        return kind
    }
}

extension JSONValue {
    var stringValue: String? {
        if case let .string(text) = self { return text }
        return nil
    }
}
