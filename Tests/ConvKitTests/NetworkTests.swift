@testable import ConvKit
import Foundation
import Testing

/// Whole networks built from model descriptions give PyTorch's loss, parameter gradients,
/// running statistics and evaluation outputs (references: `Scripts/make_network_fixtures.py`).
@Suite("Networks against PyTorch")
struct NetworkTests {
    static let names = ["lenet", "bn_residual", "sequence_branches"]

    @Test("loss, gradients, running statistics and eval outputs", arguments: names)
    func network(_ name: String) throws {
        let fixture = try #require(try NetworkFixtures.load().networks.first { $0.name == name })
        let description = try ModelDescription(jsonData: fixture.description.data)
        let model = try Sequential(description: description)
        var state: [String: StateTensor] = [:]
        for (key, tensor) in fixture.state_dict {
            state[key] = key.hasSuffix("num_batches_tracked") ? .int64(try tensor.int) : .float32(try tensor.float)
        }
        try model.loadStateDict(state)
        model.train()
        let logits = try model(Variable(try fixture.input.float))
        let loss = try Loss.crossEntropy(logits, labels: fixture.labels, labelSmoothing: fixture.label_smoothing)
        try loss.backward()
        func close(_ got: Tensor<Float>?, _ expected: FixtureTensor, _ label: String) throws {
            let reference = try expected.float
            let scale = max(reference.scalars.map(abs).max() ?? 0, 1e-3)  // floor: a bias before batch norm has zero gradient
            let error = got.flatMap { $0.maxAbsDifference(reference) } ?? .infinity
            #expect(error <= 1e-4 * scale, "\(name) \(label): off by \(error) (scale \(scale))")
        }
        try close(logits.value, fixture.logits, "logits")
        #expect(abs(Double(loss.value.scalars[0]) - fixture.loss) <= 1e-4 * max(1, abs(fixture.loss)), "\(name) loss")
        let parameters = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.name, $0.variable) })
        #expect(Set(parameters.keys) == Set(fixture.gradients.keys))
        for (key, expected) in fixture.gradients { try close(parameters[key]?.grad, expected, "∂L/∂\(key)") }
        let buffers = Dictionary(uniqueKeysWithValues: model.namedBuffers().map { ($0.name, $0.buffer.variable.value) })
        for (key, expected) in fixture.buffers_after { try close(buffers[key], expected, key) }
        model.eval()
        let evaluation = try Autograd.withNoGrad { try model(Variable(try fixture.input.float)).value }
        try close(evaluation, fixture.eval_logits, "eval logits")
    }

    @Test("a description that cannot be built names the layer")
    func unbuildable() throws {
        let json = #"{"layers": [{"type": "Linear", "in_features": 4, "out_features": 2}, {"type": "Upsample", "scale_factor": 2}]}"#
        let description = try ModelDescription(jsonData: Data(json.utf8))
        do {
            _ = try Sequential(description: description)
            Issue.record("Upsample built")
        } catch {
            #expect("\(error)".contains("layers.1"), "\(error)")
        }
    }
}
