import ConvKit
import ConvKitCLI
import Foundation
import Testing

/// `convkit summary --json` on every example and test model against the summaries PyTorch gives
/// (`Scripts/check_summaries.py --write`: shapes from forward hooks, parameters from
/// `p.numel()`, MACs from the shapes each module saw, receptive fields by the recursion, checked
/// by gradient support), committed under `Fixtures/summaries/`.
@Suite("Geometry: summaries against PyTorch")
struct GeometrySummaryFixtureTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = root.appendingPathComponent("Tests/ConvKitTests/Fixtures/summaries")

    struct Fixture: Decodable {
        let torch_version: String
        let model: String
        let total_backward_macs: Int
        let summary: Summary
    }

    struct Summary: Decodable, Equatable {
        let output_shape: [Int]
        let total_params: Int
        let total_macs: Int
        let layers: [Entry]
    }

    struct Entry: Decodable, Equatable {
        let path: String
        let type: String
        let output_shape: [Int]
        let params: Int
        let macs: Int
        let receptive_field: [Int]?
        let effective_stride: [Int]?
        let effective_padding: [Int]?
    }

    static var names: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: fixtures.path)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
    }

    static func fixture(_ name: String) throws -> Fixture {
        try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: fixtures.appendingPathComponent(name)))
    }

    /// Runs `convkit <arguments>` through the root command's parser, in-process.
    static func summary(_ arguments: [String]) throws -> String {
        let command = try ConvKitCommand.parseAsRoot(["summary"] + arguments)
        let summary = try #require(command as? SummaryCommand)
        return try summary.render()
    }

    @Test("the fixtures cover the six examples and the seeds' models")
    func coverage() {
        let names = Set(Self.names)
        for example in ["lenet", "vgg16", "resnet18", "mobilenetv2_blocks", "wavenet", "deeplab_aspp", "seed_frag2_block",
                        "seed_rf_quickcheck", "seed_dilated_stack", "seed_dws_vs_standard"] {
            #expect(names.contains(example + ".json"), "missing fixture \(example)")
        }
    }

    @Test("convkit summary --json equals PyTorch's figures for every layer", arguments: names)
    func matchesPyTorch(name: String) throws {
        let fixture = try Self.fixture(name)
        let model = Self.root.appendingPathComponent(fixture.model).path
        let text = try Self.summary([model, "--json"])
        let got = try JSONDecoder().decode(Summary.self, from: Data(text.utf8))
        #expect(got.output_shape == fixture.summary.output_shape)
        #expect(got.total_params == fixture.summary.total_params)
        #expect(got.total_macs == fixture.summary.total_macs)
        #expect(got.layers.count == fixture.summary.layers.count)
        for (entry, expected) in zip(got.layers, fixture.summary.layers) {
            #expect(entry == expected, "\(name) layer \(expected.path)")
        }
        // Backward MACs (autograd's choice of input gradients) through the library API.
        let analysis = try ModelDescription.load(from: URL(fileURLWithPath: model)).analyze()
        #expect(analysis.totalBackwardMACs == fixture.total_backward_macs, "\(name) backward MACs")
    }

    @Test("the JSON has exactly the documented keys, in order, integers only")
    func jsonShape() throws {
        let text = try Self.summary([Self.root.appendingPathComponent("Examples/models/resnet18.json").path, "--json"])
        #expect(text.hasPrefix("{\"output_shape\": [1, 1000], \"total_params\": 11689512, \"total_macs\": 1814073344,\n \"layers\": ["))
        #expect(text.contains("{\"path\": \"0\", \"type\": \"Conv2d\", \"output_shape\": [1, 64, 112, 112], \"params\": 9408, \"macs\": 118013952, \"receptive_field\": [7, 7], \"effective_stride\": [2, 2], \"effective_padding\": [3, 3]}"))
        #expect(text.contains("{\"path\": \"4.body.0\", \"type\": \"Conv2d\""))
        #expect(text.contains("{\"path\": \"21\", \"type\": \"Flatten\", \"output_shape\": [1, 512], \"params\": 0, \"macs\": 0, \"receptive_field\": null, \"effective_stride\": null, \"effective_padding\": null}"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["output_shape", "total_params", "total_macs", "layers"])
        let layers = try #require(object["layers"] as? [[String: Any]])
        for layer in layers {
            #expect(Set(layer.keys) == ["path", "type", "output_shape", "params", "macs", "receptive_field", "effective_stride", "effective_padding"])
        }
    }

    @Test("the issue's reference figures: ResNet-18 has 11,689,512 parameters and 1,814,073,344 MACs at 1×3×224×224")
    func resnet18Totals() throws {
        let analysis = try ModelDescription.load(from: Self.root.appendingPathComponent("Examples/models/resnet18.json")).analyze()
        #expect(analysis.totalParameters == 11_689_512)
        #expect(analysis.totalMACs == 1_814_073_344)
        // The receptive field of the last block: 435 pixels, stride 32 (Araujo et al. list 435 for ResNet-18).
        #expect(analysis.topLevelLayers[19].receptiveField?.size == [435, 435])
        #expect(analysis.topLevelLayers[19].receptiveField?.stride == [32, 32])
        let vgg = try ModelDescription.load(from: Self.root.appendingPathComponent("Examples/models/vgg16.json")).analyze()
        #expect(vgg.totalParameters == 138_357_544 && vgg.totalMACs == 15_470_264_320)
        let wavenet = try ModelDescription.load(from: Self.root.appendingPathComponent("Examples/models/wavenet.json")).analyze()
        #expect(wavenet.receptiveField?.size == [1024] && wavenet.receptiveField?.padding == [1023])
    }

    @Test("--input-shape overrides the description's input_shape")
    func inputShapeOverride() throws {
        let lenet = Self.root.appendingPathComponent("Examples/models/lenet.json").path
        let text = try Self.summary([lenet, "--input-shape", "4,1,28,28", "--json"])
        let got = try JSONDecoder().decode(Summary.self, from: Data(text.utf8))
        #expect(got.output_shape == [4, 10])
        #expect(got.total_macs == 4 * 2_440_960)
        #expect(throws: ConvKitError.self) { try Self.summary([lenet, "--input-shape", "1,1,32,32"]) }  // Linear wants 1600, gets 2304
    }
}
