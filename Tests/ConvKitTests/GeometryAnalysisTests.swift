import ConvKit
import Foundation
import Testing

/// A `Conv2d` layer spec.
private func conv2d(_ inChannels: Int, _ outChannels: Int, _ kernel: Dims, stride: Dims = 1, padding: Padding = 0,
                    dilation: Dims = 1, groups: Int = 1, bias: Bool = true) -> LayerSpec {
    .conv(ConvSpec(spatialRank: 2, inChannels: inChannels, outChannels: outChannels, kernelSize: kernel, stride: stride,
                   padding: padding, dilation: dilation, groups: groups, bias: bias))
}

/// ``ModelAnalysis`` through the library API, on descriptions built in code.
@Suite("Geometry: model analysis")
struct GeometryAnalysisTests {
    /// Seed file 000, Code Fragment 2.
    static let fragment2 = ModelDescription(inputShape: [4, 3, 64, 64], layers: [
        conv2d(3, 16, 3, padding: 1), .activation(.relu), conv2d(16, 32, 3, stride: 2, padding: 1), .activation(.relu), conv2d(32, 32, 1),
    ])

    /// The seeds' MNIST pipeline (file 004, section B).
    static let mnist = ModelDescription(inputShape: [1, 1, 28, 28], layers: [
        conv2d(1, 32, 3), .activation(.relu), .maxPool(MaxPoolSpec(spatialRank: 2, kernelSize: 2)),
        conv2d(32, 64, 3), .activation(.relu), .maxPool(MaxPoolSpec(spatialRank: 2, kernelSize: 2)),
        .flatten(FlattenSpec()), .linear(LinearSpec(inFeatures: 1600, outFeatures: 10)),
    ])

    @Test("seed E013/E014: fragment 2's shapes, 6144 parameters (not 6432), 30,146,560 MACs")
    func seed_frag2_summary() throws {
        let analysis = try Self.fragment2.analyze()
        #expect(try Self.fragment2.shapes() == [[4, 16, 64, 64], [4, 16, 64, 64], [4, 32, 32, 32], [4, 32, 32, 32], [4, 32, 32, 32]])
        #expect(analysis.totalParameters == 6144)
        #expect(analysis.totalMACs == 30_146_560)
        // Backward: the first layer needs no input gradient (nothing before it trains).
        #expect(analysis.topLevelLayers.map { $0.backwardMACs } == [7_077_888, 0, 2 * 18_874_368, 0, 2 * 4_194_304])
        #expect(analysis.receptiveField?.size == [5, 5] && analysis.receptiveField?.stride == [2, 2])  // 3, 5, then a 1×1
    }

    @Test("seed E088: the MNIST pipeline 1@28×28 → 32@26×26 → 32@13×13 → 64@11×11 → 64@5×5 → 1600 → 10")
    func seed_mnist_pipeline() throws {
        let analysis = try Self.mnist.analyze()
        #expect(analysis.topLevelLayers.map { $0.outputShape } == [
            [1, 32, 26, 26], [1, 32, 26, 26], [1, 32, 13, 13], [1, 64, 11, 11], [1, 64, 11, 11], [1, 64, 5, 5], [1, 1600], [1, 10],
        ])
        #expect(analysis.totalParameters == 34_826 && analysis.totalMACs == 2_440_960)
        #expect(analysis.topLevelLayers.compactMap { $0.receptiveField?.size[0] } == [3, 3, 4, 8, 8, 10])
        #expect(analysis.topLevelLayers[6].receptiveField == nil && analysis.receptiveField == nil)
        #expect(analysis.activationElements == 67_370)
        #expect(analysis.topLevelLayers[5].notes.count == 1)  // 11 → 5 leaves a row and a column unread
        #expect(analysis.outputShape == [1, 10] && analysis.inputShape == [1, 1, 28, 28])
    }

    @Test("seed E047 through a model: RF 3, 5, 6, 10, 14")
    func seed_rf_quickcheck_model() throws {
        let model = ModelDescription(inputShape: [1, 1, 40, 40], layers: [
            conv2d(1, 1, 3), conv2d(1, 1, 3), .maxPool(MaxPoolSpec(spatialRank: 2, kernelSize: 2)), conv2d(1, 1, 3), conv2d(1, 1, 3),
        ])
        #expect(try model.analyze().topLevelLayers.map { $0.receptiveField?.size[0] } == [3, 5, 6, 10, 14])
    }

    @Test("containers come before their children, with module and description paths")
    func paths() throws {
        let model = ModelDescription(inputShape: [1, 8, 16, 16], layers: [
            .residual(body: [conv2d(8, 8, 3, padding: 1), .batchNorm(BatchNormSpec(spatialRank: 2, numFeatures: 8))], shortcut: []),
            .parallel(merge: .concat, branches: [[conv2d(8, 4, 1)], [.sequential([conv2d(8, 4, 3, padding: 1)])]]),
        ])
        let analysis = try model.analyze()
        #expect(analysis.layers.map { $0.path } == ["0", "0.body.0", "0.body.1", "1", "1.branches.0.0", "1.branches.1.0", "1.branches.1.0.0"])
        #expect(analysis.layers.map { $0.descriptionPath } == ["layers.0", "layers.0.body.0", "layers.0.body.1", "layers.1",
                                                           "layers.1.branches.0.0", "layers.1.branches.1.0", "layers.1.branches.1.0.layers.0"])
        #expect(analysis.layers.map { $0.depth } == [0, 1, 1, 0, 1, 1, 2])
        #expect(analysis.layers[0].parameters == 8 * 8 * 9 + 8 + 16)
        #expect(analysis.layers[3].parameters == 8 * 4 + 4 + 8 * 4 * 9 + 4)
        #expect(analysis.outputShape == [1, 8, 16, 16])
        #expect(analysis.layers[3].receptiveField?.size == [5, 5] && analysis.layers[3].notes.isEmpty)  // aligned: 1×1 and 3×3 'same'
    }

    @Test("misaligned branches are reported in the container's notes")
    func misalignmentReport() throws {
        let model = ModelDescription(inputShape: [1, 4, 16, 16], layers: [
            .residual(body: [conv2d(4, 4, 2, padding: .same)], shortcut: []),
        ])
        let block = try model.analyze().layers[0]
        // 'same' pads an even kernel (0, 1): the body's unit 0 is centred on 0.5, the identity's on 0.
        #expect(block.receptiveField?.size == [2, 2] && block.receptiveField?.padding == [0, 0])
        #expect(block.notes == ["branches misaligned in dimensions 0, 1: centres (r − 1)/2 − P are branch 0: [0.5, 0.5]; branch 1: [0, 0]"])
    }

    @Test("costs: grouped convolution, transposed convolution, linear on tokens, BatchNorm without affine")
    func costs() throws {
        let model = ModelDescription(inputShape: [2, 8, 10, 10], layers: [
            conv2d(8, 16, 3, padding: 1, groups: 8, bias: false),
            .convTranspose(ConvTransposeSpec(spatialRank: 2, inChannels: 16, outChannels: 4, kernelSize: 2, stride: 2, groups: 2)),
            .batchNorm(BatchNormSpec(spatialRank: 2, numFeatures: 4, affine: false)),
            .linear(LinearSpec(inFeatures: 20, outFeatures: 3)),
        ])
        let layers = try model.analyze().topLevelLayers
        #expect(layers.map { $0.outputShape } == [[2, 16, 10, 10], [2, 4, 20, 20], [2, 4, 20, 20], [2, 4, 20, 3]])
        #expect(layers.map { $0.parameters } == [16 * 1 * 9, 16 * 2 * 4 + 4, 0, 63])
        #expect(layers.map { $0.macs } == [2 * 16 * 100 * 9, 2 * 16 * 100 * 2 * 4, 0, 2 * 4 * 20 * 20 * 3])
        #expect(layers[1].receptiveField == nil && layers[1].notes.first?.contains("fractional effective stride") == true)
    }

    @Test("an explicit input shape overrides the description's; none at all is an error")
    func inputShapes() throws {
        #expect(try Self.mnist.analyze(inputShape: [3, 1, 28, 28]).totalMACs == 3 * 2_440_960)
        let bare = ModelDescription(layers: [.activation(.relu)])
        #expect(throws: ConvKitError.self) { try bare.analyze() }
        #expect(try bare.analyze(inputShape: [2, 5]).outputShape == [2, 5])
        #expect(try bare.analyze(inputShape: [2, 5]).receptiveField == nil)
    }
}
