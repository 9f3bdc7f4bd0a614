import Foundation

/// A network written as JSON that a PyTorch user can write without reading docs: layer `type`s
/// are `nn` class names, keys are PyTorch's argument names with PyTorch's defaults.
///
///     {"input_shape": [1, 3, 224, 224],
///      "layers": [
///        {"type": "Conv2d", "in_channels": 3, "out_channels": 64, "kernel_size": 7, "stride": 2, "padding": 3, "bias": false},
///        {"type": "BatchNorm2d", "num_features": 64}, {"type": "ReLU"},
///        {"type": "MaxPool2d", "kernel_size": 3, "stride": 2, "padding": 1},
///        {"type": "Residual", "body": [ … ], "shortcut": [ … ]},
///        {"type": "Parallel", "merge": "concat", "branches": [[ … ], [ … ]]},
///        {"type": "AdaptiveAvgPool2d", "output_size": 1}, {"type": "Flatten"},
///        {"type": "Linear", "in_features": 512, "out_features": 1000}]}
///
/// - Values are integers or lists (`"kernel_size": [3, 1]`); `padding` may also be `"same"`,
///   `"valid"`, `"full"`, `"causal"` (Conv1d) or `[low, high]` pairs per dimension.
/// - `Residual` computes `body(x) + shortcut(x)` (an absent or empty `shortcut` is the identity);
///   `Parallel` feeds every branch the same input and merges by `"concat"` (channels) or `"add"`;
///   `Sequential` has `layers`.
/// - Keys starting with `_` are comments. Any other unknown key is an error.
///
/// Errors name the layer's path (`layers.4.body.0`), the key, the value and what would be valid.
/// Layer `layers.i` is module `i` of the equivalent `nn.Sequential`, so its parameters are
/// PyTorch's `state_dict` keys `i.weight`, `i.body.1.running_mean`, ….
public struct ModelDescription: Decodable, Equatable, Sendable {
    /// `[N, C, spatial…]`; `nil` when the description leaves it to the caller.
    public var inputShape: [Int]?
    /// The layers, applied one after another (`nn.Sequential`).
    public var layers: [LayerSpec]

    /// A description built in code.
    public init(inputShape: [Int]? = nil, layers: [LayerSpec]) {
        self.inputShape = inputShape
        self.layers = layers
    }

    /// Decodes through any `Decoder`; a wrong description throws `DecodingError.dataCorrupted`
    /// whose underlying error is the ``ConvKitError`` naming the layer path.
    public init(from decoder: any Decoder) throws {
        let value = try JSONValue(from: decoder)
        do {
            self = try Self(parsing: value)
        } catch let error as ConvKitError {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: decoder.codingPath, debugDescription: error.description, underlyingError: error))
        }
    }

    /// Parses JSON text.
    /// - Throws: ``ConvKitError/invalidModel(path:message:)`` for a wrong description (or text
    ///   that is not JSON, at path `json`).
    public init(jsonData: Data) throws {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: jsonData)
        } catch {
            throw ConvKitError.invalidModel(path: "json", message: "not valid JSON: \(Self.reason(error))")
        }
        self = try Self(parsing: value)
    }

    /// Reads and parses a JSON file.
    /// - Throws: ``ConvKitError/file(path:message:)`` when the file cannot be read or is not JSON,
    ///   ``ConvKitError/invalidModel(path:message:)`` for a wrong description.
    public static func load(from url: URL) throws -> ModelDescription {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ConvKitError.file(path: url.path, message: "cannot read the model description: \(error.localizedDescription)")
        }
        do {
            return try ModelDescription(jsonData: data)
        } catch let ConvKitError.invalidModel(path, message) where path == "json" {
            throw ConvKitError.file(path: url.path, message: message)
        }
    }

    init(parsing value: JSONValue) throws {
        guard case let .object(members) = value else {
            throw ConvKitError.invalidModel(path: "model", message: "expected an object {\"input_shape\": […], \"layers\": […]}, but got \(value.text)")
        }
        let known = ["input_shape", "layers", "name", "description"]
        if let key = members.keys.sorted().first(where: { !known.contains($0) && !$0.hasPrefix("_") }) {
            let hint = closestName(to: key, among: known).map { "; did you mean \"\($0)\"?" } ?? ""
            throw ConvKitError.invalidModel(path: "model", message: "unknown key \"\(key)\"\(hint) (a model has \"input_shape\" and \"layers\")")
        }
        switch members["input_shape"] {
        case nil, .null?:
            inputShape = nil
        case let .array(items)? where !items.isEmpty && items.count <= 6 && items.allSatisfy({ ($0.integer ?? 0) > 0 }):
            inputShape = items.compactMap(\.integer)
        case let other?:
            throw ConvKitError.invalidModel(
                path: "input_shape", message: "must be a list of positive integers [N, C, spatial…], e.g. [1, 3, 224, 224], but got \(other.text)")
        }
        guard case let .array(items)? = members["layers"] else {
            throw ConvKitError.invalidModel(
                path: "layers", message: "must be a list of layers [{\"type\": \"Conv2d\", …}, …], but got \(members["layers"]?.text ?? "nothing")")
        }
        layers = try items.enumerated().map { try LayerSpec(parsing: $0.element, path: "layers.\($0.offset)") }
    }

    private static func reason(_ error: any Error) -> String {
        if case let DecodingError.dataCorrupted(context) = error {
            let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return underlying ?? context.debugDescription
        }
        return "\(error)"
    }
}
