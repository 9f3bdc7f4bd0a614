@testable import ConvKit
import Foundation

/// Reference values from `Scripts/make_network_fixtures.py` (PyTorch, float64).
struct NetworkFixtures: Decodable {
    struct Network: Decodable {
        let name: String
        let description: JSONDescription
        let label_smoothing: Float
        let state_dict: [String: FixtureTensor]
        let input: FixtureTensor
        let labels: [Int]
        let logits: FixtureTensor
        let loss: Double
        let gradients: [String: FixtureTensor]
        let buffers_after: [String: FixtureTensor]
        let eval_logits: FixtureTensor
    }

    /// The model description, kept as raw JSON for ``ModelDescription``.
    struct JSONDescription: Decodable {
        let data: Data
        init(from decoder: any Decoder) throws {
            data = try JSONSerialization.data(withJSONObject: try AnyJSON(from: decoder).value)
        }
    }

    struct Optimizer: Decodable {
        let name: String
        let initial: FixtureTensor
        let gradients: [FixtureTensor]
        let parameters: [FixtureTensor]
    }

    struct PyTorchCheckpoint: Decodable {
        let file: String
        let images: Int
        let logits: FixtureTensor
    }

    let networks: [Network]
    let optimizers: [Optimizer]
    let pytorch_checkpoint: PyTorchCheckpoint

    static func load() throws -> NetworkFixtures {
        try JSONDecoder().decode(NetworkFixtures.self, from: Data(contentsOf: FixtureFile.directory.appendingPathComponent("networks.json")))
    }
}

/// Decodes any JSON into Foundation values (for re-serialising a nested object).
struct AnyJSON: Decodable {
    let value: Any
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { value = NSNull() }
        else if let v = try? container.decode(Bool.self) { value = v }
        else if let v = try? container.decode(Int.self) { value = v }
        else if let v = try? container.decode(Double.self) { value = v }
        else if let v = try? container.decode(String.self) { value = v }
        else if let v = try? container.decode([AnyJSON].self) { value = v.map(\.value) }
        else { value = try container.decode([String: AnyJSON].self).mapValues(\.value) }
    }
}
