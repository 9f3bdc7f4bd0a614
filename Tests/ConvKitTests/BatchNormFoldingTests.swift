@testable import ConvKit
import Foundation
import Testing

/// ``Sequential/foldingBatchNorm()`` computes the evaluation-mode network with fewer layers.
@Suite("BatchNorm folding")
struct BatchNormFoldingTests {
    /// Convolutions with and without bias followed by batch norm, at the top level, in residual
    /// bodies and shortcuts and in parallel branches; a grouped 1-D convolution; a batch norm that
    /// cannot be folded (after a linear layer); dropout; ReLU and ReLU6 to fuse.
    static let description = #"""
    {"input_shape": [2, 3, 12, 12],
     "layers": [
       {"type": "Conv2d", "in_channels": 3, "out_channels": 8, "kernel_size": 3, "padding": 1, "bias": false},
       {"type": "BatchNorm2d", "num_features": 8}, {"type": "ReLU"},
       {"type": "Residual",
        "body": [{"type": "Conv2d", "in_channels": 8, "out_channels": 16, "kernel_size": 3, "stride": 2, "padding": 1},
                 {"type": "BatchNorm2d", "num_features": 16}, {"type": "ReLU6"},
                 {"type": "Conv2d", "in_channels": 16, "out_channels": 16, "kernel_size": 3, "padding": 1, "bias": false},
                 {"type": "BatchNorm2d", "num_features": 16, "eps": 0.001}],
        "shortcut": [{"type": "Conv2d", "in_channels": 8, "out_channels": 16, "kernel_size": 1, "stride": 2, "bias": false},
                     {"type": "BatchNorm2d", "num_features": 16}]},
       {"type": "ReLU"}, {"type": "Dropout", "p": 0.5},
       {"type": "Parallel", "merge": "concat",
        "branches": [[{"type": "Conv2d", "in_channels": 16, "out_channels": 4, "kernel_size": 1},
                      {"type": "BatchNorm2d", "num_features": 4, "affine": false}],
                     [{"type": "MaxPool2d", "kernel_size": 3, "stride": 1, "padding": 1}]]},
       {"type": "Flatten", "start_dim": 2},
       {"type": "Conv1d", "in_channels": 20, "out_channels": 6, "kernel_size": 3, "groups": 2},
       {"type": "BatchNorm1d", "num_features": 6},
       {"type": "AdaptiveAvgPool1d", "output_size": 1}, {"type": "Flatten"},
       {"type": "Linear", "in_features": 6, "out_features": 5}, {"type": "BatchNorm1d", "num_features": 5}]}
    """#

    /// The network with every parameter and running statistic drawn at random (variances in
    /// [0.2, 2), scales in [0.5, 1.5)), so that folding is not the identity.
    static func network() throws -> Sequential {
        let model = try Sequential(description: try ModelDescription(jsonData: Data(description.utf8)))
        var random = RandomGenerator(seed: 7)
        for (name, variable) in model.namedParameters() {
            let scales = name.hasSuffix("weight") && variable.shape.count == 1
            variable.value = random.uniform(variable.shape, low: scales ? 0.5 : -0.5, high: scales ? 1.5 : 0.5)
        }
        for (name, buffer) in model.namedBuffers() where !name.hasSuffix("num_batches_tracked") {
            let variances = name.hasSuffix("running_var")
            buffer.variable.value = random.uniform(buffer.variable.shape, low: variances ? 0.2 : -0.5, high: variances ? 2 : 0.5)
        }
        return model
    }

    /// The layer types of a module tree, depth first.
    static func types(_ module: any Module) -> [String] {
        ["\(type(of: module))"] + module.children.flatMap { types($0.module) }
    }

    @Test("the folded network gives the evaluation-mode outputs and leaves the original alone")
    func foldedMatchesEvaluation() throws {
        let model = try Self.network()
        let before = model.stateDict()
        var random = RandomGenerator(seed: 11)
        let input = Variable(random.uniform([2, 3, 12, 12], low: -1, high: 1))
        let folded = model.foldingBatchNorm()
        #expect(model.stateDict().map(\.name) == before.map(\.name))
        #expect(zip(model.stateDict(), before).allSatisfy { $0.tensor == $1.tensor }, "folding changed the original")
        #expect(model.isTraining, "folding changed the original's mode")

        model.eval()
        let expected = try Autograd.withNoGrad { try model(input).value }
        let got = try Autograd.withNoGrad { try folded(input).value }
        let scale = expected.scalars.map(abs).max() ?? 0
        #expect(scale > 0.1)
        let error = try #require(got.maxAbsDifference(expected))
        #expect(error <= 1e-4 * scale, "folded output off by \(error) (scale \(scale))")

        // Six convolution + batch norm pairs folded (one inside a Parallel branch and one
        // inside a Residual shortcut); the batch norm after Linear stays; dropout is gone.
        let foldedTypes = Self.types(folded)
        #expect(foldedTypes.filter { $0 == "BatchNormLayer" }.count == 1)
        #expect(Self.types(model).filter { $0 == "BatchNormLayer" }.count == 7)
        #expect(!foldedTypes.contains("Dropout"))
        // The three activations (a ReLU after a convolution, a ReLU6 after one inside a residual
        // body, a ReLU after a residual block) run in the pass of what precedes them.
        #expect(Self.types(model).filter { $0 == "ActivationLayer" }.count == 3)
        #expect(!foldedTypes.contains("ActivationLayer"))
        #expect(folded.namedParameters().allSatisfy { !$0.variable.requiresGrad })
    }

    @Test("with autograd enabled the folded network records no graph, unless the input asks for one")
    func noGraph() throws {
        let folded = try Self.network().foldingBatchNorm()
        var random = RandomGenerator(seed: 3)
        let x = random.uniform([1, 3, 12, 12], low: -1, high: 1)
        let output = try folded(Variable(x))
        #expect(!output.requiresGrad)
        // Fused ReLUs fall back to differentiable steps: same values, and a gradient reaches x.
        let input = Variable(x, requiresGrad: true)
        let traced = try folded(input)
        #expect(traced.requiresGrad)
        #expect(traced.value == output.value)
        try traced.backward(gradient: Tensor(uncheckedShape: traced.shape, scalars: [Float](repeating: 1, count: traced.value.count)))
        #expect(input.grad?.scalars.contains { $0 != 0 } == true)
    }
}
