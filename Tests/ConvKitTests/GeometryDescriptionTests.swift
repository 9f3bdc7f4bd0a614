import ConvKit
import Foundation
import Testing

/// The JSON model description: PyTorch's names and defaults, and errors that name the layer's
/// path, the key and value, and a fix.
@Suite("Geometry: model descriptions")
struct GeometryDescriptionTests {
    static func parse(_ json: String) throws -> ModelDescription {
        try ModelDescription(jsonData: Data(json.utf8))
    }

    /// The error a description (or its analysis) throws: `(path, message)`.
    static func failure(_ json: String, analyze: Bool = true) -> (path: String, message: String)? {
        do {
            let model = try parse(json)
            if analyze { _ = try model.analyze() }
            return nil
        } catch let ConvKitError.invalidModel(path, message) {
            return (path, message)
        } catch {
            return ("?", "\(error)")
        }
    }

    static func model(_ layers: String, input: String = "[1, 3, 32, 32]") -> String {
        "{\"input_shape\": \(input), \"layers\": [\(layers)]}"
    }

    @Test("PyTorch's defaults are filled in, per dimension")
    func defaults() throws {
        let model = try Self.parse(Self.model("""
            {"type": "Conv2d", "in_channels": 3, "out_channels": 8, "kernel_size": 3},
            {"type": "MaxPool2d", "kernel_size": [3, 2]},
            {"type": "BatchNorm2d", "num_features": 8, "momentum": null},
            {"type": "LeakyReLU"}, {"type": "Dropout"}, {"type": "Flatten"},
            {"type": "Linear", "in_features": 8, "out_features": 2, "bias": false},
            {"type": "AdaptiveAvgPool1d", "output_size": null}
            """))
        #expect(model.inputShape == [1, 3, 32, 32])
        #expect(model.layers[0] == .conv(ConvSpec(spatialRank: 2, inChannels: 3, outChannels: 8, kernelSize: [3, 3], stride: [1, 1],
                                                  padding: .explicit([0, 0]), dilation: [1, 1])))
        guard case let .conv(conv) = model.layers[0] else { return }
        #expect(conv.weightShape == [8, 3, 3, 3] && conv.bias && conv.groups == 1 && conv.paddingMode == .zeros)
        #expect(model.layers[1] == .maxPool(MaxPoolSpec(spatialRank: 2, kernelSize: [3, 2], stride: [3, 2], padding: .explicit([0, 0]),
                                                        dilation: [1, 1])))
        #expect(model.layers[2] == .batchNorm(BatchNormSpec(spatialRank: 2, numFeatures: 8, momentum: nil)))
        #expect(model.layers[3] == .activation(.leakyReLU(negativeSlope: 0.01)))
        #expect(model.layers[4] == .dropout(DropoutSpec(p: 0.5)))
        #expect(model.layers[5] == .flatten(FlattenSpec(startDim: 1, endDim: -1)))
        #expect(model.layers[6] == .linear(LinearSpec(inFeatures: 8, outFeatures: 2, bias: false)))
        #expect(model.layers[7] == .adaptiveAvgPool(AdaptivePoolSpec(spatialRank: 1, outputSize: [nil])))
        #expect(model.layers.map(\.typeName) == ["Conv2d", "MaxPool2d", "BatchNorm2d", "LeakyReLU", "Dropout", "Flatten", "Linear",
                                                 "AdaptiveAvgPool1d"])
    }

    @Test("padding layers (F.pad order), Softmax's dim, LocalResponseNorm")
    func otherLayers() throws {
        let model = try Self.parse(Self.model("""
            {"type": "ZeroPad2d", "padding": [1, 2, 3, 4]}, {"type": "ConstantPad1d", "padding": 2, "value": 0.5},
            {"type": "ReflectionPad3d", "padding": 1}, {"type": "Softmax"}, {"type": "LogSoftmax", "dim": -1},
            {"type": "LocalResponseNorm", "size": 5}
            """))
        #expect(model.layers[0] == .pad(PadSpec(spatialRank: 2, pad: [1, 2, 3, 4])))
        guard case let .pad(zero) = model.layers[0] else { return }
        #expect(zero.low == [3, 1])  // top (H), left (W)
        #expect(model.layers[1] == .pad(PadSpec(spatialRank: 1, pad: [2, 2], value: 0.5)))
        #expect(model.layers[2] == .pad(PadSpec(spatialRank: 3, pad: [1], mode: .reflect)))
        #expect(model.layers[3] == .activation(.softmax(dim: nil)) && model.layers[4] == .activation(.logSoftmax(dim: -1)))
        #expect(model.layers[5] == .localResponseNorm(LocalResponseNormSpec(size: 5)))
        #expect(model.layers.map(\.typeName) == ["ZeroPad2d", "ConstantPad1d", "ReflectionPad3d", "Softmax", "LogSoftmax", "LocalResponseNorm"])
        #expect(Self.failure(Self.model("{\"type\": \"ConstantPad2d\", \"padding\": 1}"), analyze: false)?.message
                == "ConstantPad2d: missing required key \"value\" (ConstantPad2d takes padding, value)")
        #expect(Self.failure(Self.model("{\"type\": \"ZeroPad2d\", \"padding\": [1, 2]}"), analyze: false)?.message.contains(
            "\"padding\" must be an integer or a list of 4 integers (left, right, top, bottom: last dimension first)") == true)
        #expect(Self.failure(Self.model("{\"type\": \"ReflectionPad2d\", \"padding\": 32}"))?.path == "layers.0")
        #expect(Self.failure(Self.model("{\"type\": \"Softmax\", \"dim\": 4}"))?.message.contains("dim 4 does not fit an input of rank 4") == true)
    }

    @Test("padding forms: integers, lists, [low, high] pairs and the named modes")
    func paddingForms() throws {
        func padding(_ value: String, type: String = "Conv2d") throws -> Padding {
            let model = try Self.parse(Self.model("{\"type\": \"\(type)\", \"in_channels\": 1, \"out_channels\": 1, \"kernel_size\": 3, \"padding\": \(value)}"))
            switch model.layers[0] {
            case let .conv(spec): return spec.padding
            case let .convTranspose(spec): return spec.padding
            default: return .valid
            }
        }
        #expect(try padding("1") == .explicit([1, 1]))
        #expect(try padding("[1, 2]") == .explicit([1, 2]))
        #expect(try padding("[[0, 1], [2, 1]]") == .asymmetric(low: [0, 2], high: [1, 1]))
        #expect(try padding("\"same\"") == .same)
        #expect(try padding("\"valid\"") == .valid)
        #expect(try padding("\"full\"") == .full)
        #expect(try padding("\"causal\"", type: "Conv1d") == .causal)
        #expect(try padding("[[1, 0], [0, 1]]", type: "ConvTranspose2d") == .asymmetric(low: [1, 0], high: [0, 1]))
    }

    @Test("containers: Residual (identity shortcut), Parallel, Sequential, comments")
    func containers() throws {
        let model = try Self.parse(Self.model("""
            {"type": "Residual", "_comment": "a basic block", "body": [{"type": "ReLU"}]},
            {"type": "Parallel", "branches": [[{"type": "ReLU"}], {"type": "Tanh"}, []]},
            {"type": "Sequential", "layers": [{"type": "Identity"}]}
            """))
        #expect(model.layers[0] == .residual(body: [.activation(.relu)], shortcut: []))
        #expect(model.layers[1] == .parallel(merge: .concat, branches: [[.activation(.relu)], [.activation(.tanh)], []]))
        #expect(model.layers[2] == .sequential([.activation(.identity)]))
    }

    @Test("decoding errors name the path, the key or value, and a fix", arguments: [
        (model("{\"type\": \"Conv2D\", \"in_channels\": 3, \"out_channels\": 8, \"kernel_size\": 3}"), "layers.0",
         "unknown layer type \"Conv2D\"; did you mean \"Conv2d\"?"),
        (model("{\"type\": \"ReLU\"}, {\"type\": \"Conv2d\", \"in_channels\": 3, \"out_channels\": 8, \"kernel\": 3}"), "layers.1",
         "Conv2d: missing required key \"kernel_size\""),
        (model("{\"type\": \"Conv2d\", \"in_channels\": 3, \"out_channels\": 8, \"kernel_size\": 3, \"kernal_size\": 3}"), "layers.0",
         "Conv2d: unknown key \"kernal_size\"; did you mean \"kernel_size\"?"),
        (model("{\"type\": \"Conv2d\", \"in_channels\": 3, \"out_channels\": 8, \"kernel_size\": \"3\"}"), "layers.0",
         "Conv2d: \"kernel_size\" must be an integer or a list of 2 integers, but got \"3\""),
        (model("{\"type\": \"Conv2d\", \"in_channels\": 3, \"out_channels\": 8, \"kernel_size\": [3, 3, 3]}"), "layers.0",
         "\"kernel_size\" must be an integer or a list of 2 integers, but got [3, 3, 3]"),
        (model("{\"type\": \"Conv2d\", \"in_channels\": 6, \"out_channels\": 8, \"kernel_size\": 3, \"groups\": 4}"), "layers.0",
         "\"groups\" (4) must divide both in_channels (6) and out_channels (8); the largest that does is 2"),
        (model("{\"type\": \"Conv2d\", \"in_channels\": 3, \"out_channels\": 8, \"kernel_size\": 3, \"padding\": \"causal\"}"), "layers.0",
         "\"causal\" is only defined for Conv1d"),
        (model("{\"type\": \"Conv2d\", \"in_channels\": 3, \"out_channels\": 8, \"kernel_size\": 3, \"padding\": -1}"), "layers.0",
         "\"padding\" must be non-negative, but got -1"),
        (model("{\"type\": \"Conv2d\", \"in_channels\": 3, \"out_channels\": 8, \"kernel_size\": 3, \"stride\": 0}"), "layers.0",
         "\"stride\" must be positive, but got 0"),
        (model("{\"type\": \"Conv2d\", \"in_channels\": 3, \"out_channels\": 8, \"kernel_size\": 3, \"padding_mode\": \"mirror\"}"), "layers.0",
         "\"padding_mode\" must be one of \"zeros\", \"reflect\", \"replicate\", \"circular\", but got \"mirror\""),
        (model("{\"type\": \"ConvTranspose2d\", \"in_channels\": 3, \"out_channels\": 8, \"kernel_size\": 3, \"stride\": 2, \"output_padding\": 2}"),
         "layers.0", "\"output_padding\" ([2, 2]) must be smaller than either stride ([2, 2]) or dilation ([1, 1])"),
        (model("{\"type\": \"MaxPool2d\", \"kernel_size\": 2, \"return_indices\": true}"), "layers.0",
         "\"return_indices\": true makes the layer return (output, indices)"),
        (model("{\"type\": \"Dropout\", \"p\": 1.5}"), "layers.0", "\"p\" must be between 0.0 and 1.0, but got 1.5"),
        (model("{\"type\": \"Upsample\", \"size\": 4, \"scale_factor\": 2}"), "layers.0", "give exactly one of \"size\" and \"scale_factor\""),
        (model("{\"type\": \"Residual\", \"body\": [{\"type\": \"ReLU\"}, {\"type\": \"Conv2d\", \"in_channels\": 3}]}"), "layers.0.body.1",
         "Conv2d: missing required key \"out_channels\" (Conv2d takes in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode)"),
        (model("{\"type\": \"ReLU\"}, {\"type\": \"Parallel\", \"branches\": [[], [{\"type\": \"Relu\"}]]}"), "layers.1.branches.1.0",
         "unknown layer type \"Relu\"; did you mean \"ReLU\"?"),
        (model("{\"type\": \"Sequential\", \"layers\": [{\"type\": \"Residual\", \"shortcut\": [{\"type\": \"Flatten\", \"dim\": 1}]}]}"),
         "layers.0.layers.0.shortcut.0", "Flatten: unknown key \"dim\""),
        (model("{\"type\": \"Parallel\", \"merge\": \"sum\", \"branches\": [[]]}"), "layers.0",
         "\"merge\" must be one of \"concat\", \"add\", but got \"sum\""),
        (model("{\"type\": \"ReLU\"}", input: "[1, -3, 32]"), "input_shape", "must be a list of positive integers"),
        ("{\"input_shape\": [1, 3], \"layer\": []}", "model", "unknown key \"layer\"; did you mean \"layers\"?"),
        ("{\"input_shape\": [1, 3], \"layers\": [3]}", "layers.0", "a layer must be an object"),
        ("{\"input_shape\": [1, 3], \"layers\": [{\"kernel_size\": 3}]}", "layers.0", "missing \"type\""),
        ("{\"layers\": [", "json", "not valid JSON"),
    ])
    func decodingErrors(json: String, path: String, message: String) {
        let failure = Self.failure(json, analyze: false)
        #expect(failure?.path == path, "\(failure.map { "\($0.path): \($0.message)" } ?? "no error")")
        #expect(failure?.message.contains(message) == true, "\(failure?.message ?? "no error")")
    }

    @Test("Decodable: JSONDecoder reports the ConvKitError with its path")
    func decodable() throws {
        let json = Self.model("{\"type\": \"Residual\", \"body\": [{\"type\": \"Linear\", \"in_features\": 0, \"out_features\": 2}]}")
        #expect(throws: Never.self) { try JSONDecoder().decode(ModelDescription.self, from: Data(Self.model("{\"type\": \"ReLU\"}").utf8)) }
        do {
            _ = try JSONDecoder().decode(ModelDescription.self, from: Data(json.utf8))
            Issue.record("expected an error")
        } catch let DecodingError.dataCorrupted(context) {
            #expect(context.debugDescription == "layers.0.body.0: Linear: \"in_features\" must be positive, but got 0")
            #expect(context.underlyingError as? ConvKitError == .invalidModel(path: "layers.0.body.0", message: "Linear: \"in_features\" must be positive, but got 0"))
        }
        do {
            _ = try ModelDescription.load(from: URL(fileURLWithPath: "/nonexistent/model.json"))
            Issue.record("expected an error")
        } catch let ConvKitError.file(path, message) {
            #expect(path == "/nonexistent/model.json" && message.hasPrefix("cannot read the model description"))
        }
    }

    @Test("shape errors name the layer and the fix", arguments: [
        // in_channels that does not match the previous layer's output.
        (model("{\"type\": \"Conv2d\", \"in_channels\": 3, \"out_channels\": 16, \"kernel_size\": 3}, {\"type\": \"ReLU\"}, {\"type\": \"Conv2d\", \"in_channels\": 32, \"out_channels\": 8, \"kernel_size\": 3}"),
         "layers.2", "Conv2d: in_channels is 32, but its input has 16 channels (shape [1, 16, 30, 30]); set \"in_channels\": 16"),
        // The seeds' MNIST pipeline with ceil_mode: 6×6×64 = 2304 features reach the classifier.
        (model("{\"type\": \"Conv2d\", \"in_channels\": 1, \"out_channels\": 32, \"kernel_size\": 3}, {\"type\": \"MaxPool2d\", \"kernel_size\": 2}, {\"type\": \"Conv2d\", \"in_channels\": 32, \"out_channels\": 64, \"kernel_size\": 3}, {\"type\": \"MaxPool2d\", \"kernel_size\": 2, \"ceil_mode\": true}, {\"type\": \"Flatten\"}, {\"type\": \"Linear\", \"in_features\": 1600, \"out_features\": 10}", input: "[1, 1, 28, 28]"),
         "layers.5", "Linear: in_features is 1600, but its input has 2304 features (the last dimension of shape [1, 2304]); set \"in_features\": 2304"),
        (model("{\"type\": \"Conv2d\", \"in_channels\": 3, \"out_channels\": 8, \"kernel_size\": 3}, {\"type\": \"BatchNorm2d\", \"num_features\": 16}"),
         "layers.1", "BatchNorm2d: num_features is 16, but its input has 8 channels (shape [1, 8, 30, 30]); set \"num_features\": 8"),
        // A residual body that shrinks 32 → 30: the padding that keeps 32.
        (model("{\"type\": \"Residual\", \"body\": [{\"type\": \"Conv2d\", \"in_channels\": 3, \"out_channels\": 3, \"kernel_size\": 3}, {\"type\": \"ReLU\"}]}"),
         "layers.0", "Residual: the body gives [1, 3, 30, 30] but the shortcut (identity) gives [1, 3, 32, 32]; they must be equal to be added; layers.0.body.0 (Conv2d) maps 32×32 to 30×30 with padding [0, 0]; \"padding\": 1 gives 32×32"),
        // A downsampling block without a projection shortcut.
        (model("{\"type\": \"Residual\", \"body\": [{\"type\": \"Conv2d\", \"in_channels\": 3, \"out_channels\": 8, \"kernel_size\": 3, \"stride\": 2, \"padding\": 1}]}"),
         "layers.0", "give the block a projection shortcut, e.g. \"shortcut\": [{\"type\": \"Conv2d\", \"in_channels\": 3, \"out_channels\": 8, \"kernel_size\": 1, \"stride\": 2, \"bias\": false}, {\"type\": \"BatchNorm2d\", \"num_features\": 8}]"),
        // An even kernel needs asymmetric padding to keep the size.
        (model("{\"type\": \"Parallel\", \"branches\": [[{\"type\": \"Conv2d\", \"in_channels\": 3, \"out_channels\": 4, \"kernel_size\": 1}], [{\"type\": \"Conv2d\", \"in_channels\": 3, \"out_channels\": 4, \"kernel_size\": 4, \"padding\": 1}], [{\"type\": \"Identity\"}]]}"),
         "layers.0", "branch 0 gives [1, 4, 32, 32], branch 1 gives [1, 4, 31, 31], branch 2 gives [1, 3, 32, 32]; to be concatenated along dimension 1 (channels), every other dimension must agree; layers.0.branches.1.0 (Conv2d) maps 32×32 to 31×31 with padding [1, 1]; \"padding\": [[1, 2], [1, 2]] gives 32×32"),
        (model("{\"type\": \"Flatten\"}, {\"type\": \"Conv2d\", \"in_channels\": 3, \"out_channels\": 8, \"kernel_size\": 3}"),
         "layers.1", "Conv2d: expects a 4-D input [N, C, H, W], but got shape [1, 3072] (a Flatten or Linear before it removed the spatial dimensions)"),
        (model("{\"type\": \"Conv2d\", \"in_channels\": 3, \"out_channels\": 8, \"kernel_size\": 3}", input: "[3, 32, 32]"),
         "layers.0", "include the batch dimension N in input_shape, e.g. [1, 3, 32, 32]"),
        (model("{\"type\": \"Conv2d\", \"in_channels\": 3, \"out_channels\": 8, \"kernel_size\": 7, \"dilation\": 6}"),
         "layers.0", "Conv2d: the padded input (32 x 32) is smaller than the dilated kernel (37 x 37)"),
        (model("{\"type\": \"MaxPool2d\", \"kernel_size\": 2, \"padding\": 2}"),
         "layers.0", "MaxPool2d: padding ([2, 2]) must be at most half of kernel_size ([2, 2])"),
        (model("{\"type\": \"Upsample\", \"scale_factor\": 2, \"mode\": \"linear\"}"),
         "layers.0", "Upsample: mode \"linear\" needs a 3-D input, but got shape [1, 3, 32, 32]; use mode \"bilinear\" or \"nearest\""),
        (model("{\"type\": \"Flatten\", \"start_dim\": 4}"), "layers.0", "Flatten: start_dim 4 and end_dim -1 do not fit an input of rank 4"),
        ("{\"layers\": [{\"type\": \"ReLU\"}]}", "input_shape", "no input shape"),
    ])
    func shapeErrors(json: String, path: String, message: String) {
        let failure = Self.failure(json)
        #expect(failure?.path == path, "\(failure.map { "\($0.path): \($0.message)" } ?? "no error")")
        #expect(failure?.message.contains(message) == true, "\(failure?.message ?? "no error")")
    }

    @Test("absurd sizes are errors, not overflow traps or endless planning", arguments: [
        (model("{\"type\": \"Conv2d\", \"in_channels\": 3, \"out_channels\": 8, \"kernel_size\": 3, \"padding\": 9223372036854775807}"),
         "layers.0", "\"padding\" must be an integer"),
        (model("{\"type\": \"Conv2d\", \"in_channels\": 3, \"out_channels\": 8, \"kernel_size\": 3, \"padding\": 2147483647}"),
         "layers.0", "is too large"),
        (model("{\"type\": \"Upsample\", \"scale_factor\": 1e300}"), "layers.0", "more than 2147483647 positions"),
        (model("{\"type\": \"AdaptiveAvgPool2d\", \"output_size\": 2147483647}"), "layers.0", "more than ConvKit plans"),
        (model("{\"type\": \"MaxPool2d\", \"kernel_size\": 2147483647, \"padding\": 1073741823, \"ceil_mode\": true}"), "layers.0",
         "more than ConvKit plans"),
        (model("{\"type\": \"ConvTranspose2d\", \"in_channels\": 3, \"out_channels\": 8, \"kernel_size\": 3, \"stride\": 2147483647}"),
         "layers.0", "is too large"),
        (model("{\"type\": \"Linear\", \"in_features\": 32, \"out_features\": 2147483647}, {\"type\": \"Linear\", \"in_features\": 2147483647, \"out_features\": 2147483647}"),
         "layers.1", "overflows 64-bit integers"),
        (model("{\"type\": \"ReLU\"}", input: "[2147483647, 2147483647, 32, 32]"), "input_shape", "of at most 2^48 elements"),
    ])
    func absurdSizes(json: String, path: String, message: String) {
        let failure = Self.failure(json)
        #expect(failure?.path == path, "\(failure.map { "\($0.path): \($0.message)" } ?? "no error")")
        #expect(failure?.message.contains(message) == true, "\(failure?.message ?? "no error")")
    }

    @Test("a suggested fix really fixes the description")
    func suggestionWorks() throws {
        let broken = Self.model("{\"type\": \"Residual\", \"body\": [{\"type\": \"Conv2d\", \"in_channels\": 3, \"out_channels\": 3, \"kernel_size\": 5, \"dilation\": 2}]}")
        let message = try #require(Self.failure(broken)?.message)
        #expect(message.contains("\"padding\": 4 gives 32×32"))
        let fixed = broken.replacingOccurrences(of: "\"dilation\": 2", with: "\"dilation\": 2, \"padding\": 4")
        #expect(Self.failure(fixed) == nil)
    }
}
