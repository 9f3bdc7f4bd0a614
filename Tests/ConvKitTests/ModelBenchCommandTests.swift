@testable import ConvKit
@testable import ConvKitCLI
import Foundation
import Testing

/// `convkit bench --model`: the folded network's output, the result fields (not timings) and the
/// errors for wrong invocations.
@Suite("convkit bench --model")
struct ModelBenchCommandTests {
    /// A scratch directory holding the folding tests' network as a description, its weights
    /// (random non-trivial running statistics) and an input.
    final class Scratch {
        let directory: URL
        let model: Sequential
        let input: Tensor<Float>
        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("convkit-model-bench-\(UUID().uuidString)")
            model = try BatchNormFoldingTests.network()
            var random = RandomGenerator(seed: 5)
            input = random.uniform([2, 3, 12, 12], low: -1, high: 1)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(BatchNormFoldingTests.description.utf8).write(to: path("net.json"))
            try model.save(to: path("weights.safetensors"))
            try input.writeNPY(to: path("input.npy"))
            try Data("{\"layers\": [{\"type\": \"Conv2d\", \"in_channels\": 3}".utf8).write(to: path("broken.json"))
            try Data(#"{"layers": [{"type": "ReLU"}]}"#.utf8).write(to: path("no_shape.json"))
        }
        deinit { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> URL { directory.appendingPathComponent(name) }

        /// Runs `convkit bench` with `{name}` placeholders replaced by paths; returns (status, error lines).
        func run(_ arguments: String) -> (Int32, [String]) { runConvKit("bench " + arguments, paths: path) }
    }

    @Test("the timed network computes the evaluation-mode output of the loaded weights")
    func output() throws {
        let scratch = try Scratch()
        try Runtime.$override.withValue(.init(threadCount: 2)) {
            let arguments = ["--model", scratch.path("net.json").path, "--weights", scratch.path("weights.safetensors").path,
                             "--input", scratch.path("input.npy").path, "--save-output", scratch.path("output.npy").path,
                             "--warmup", "1", "--per-layer"]
            let result = try BenchCommand.parse(arguments).measureModel()
            #expect(result.name == "net" && result.input_shape == [2, 3, 12, 12] && result.folded && result.runs == 15)
            #expect(result.median_ms > 0 && result.min_ms <= result.median_ms)
            let layers = try #require(result.layers)
            #expect(layers.first?.path == "0" && layers.first?.layer.hasPrefix("Conv2d 3→8 3×3") == true)
            #expect(layers.contains { $0.path == "1.shortcut.0" } && layers.contains { $0.path == "2.branches.1.0" })
            #expect(layers.first?.layer.hasSuffix("+ReLU") == true)
            // Dropout left out, batch norms folded and ReLUs fused: only the batch norm after
            // Linear remains, now layer 8.
            #expect(layers.filter { $0.layer == "BatchNorm" }.map(\.path) == ["8"], "\(layers.map(\.layer))")
            #expect(result.outside_layers_ms != nil)

            scratch.model.eval()
            let expected = try Autograd.withNoGrad { try scratch.model(Variable(scratch.input)).value }
            let got = try Tensor<Float>(npyFile: scratch.path("output.npy"))
            let scale = expected.scalars.map(abs).max() ?? 0
            #expect(got.shape == expected.shape)
            #expect((got.maxAbsDifference(expected) ?? .infinity) <= 1e-4 * scale)
        }
    }

    @Test("--batch replaces the description's batch size; --no-fold keeps the BatchNorm layers")
    func options() throws {
        let scratch = try Scratch()
        try Runtime.$override.withValue(.init(threadCount: 1)) {
            let result = try BenchCommand.parse(["--model", scratch.path("net.json").path, "--batch", "3", "--no-fold",
                                                 "--per-layer", "--warmup", "0"]).measureModel()
            #expect(result.input_shape == [3, 3, 12, 12] && !result.folded)
            #expect(result.layers?.filter { $0.layer == "BatchNorm" }.count == 7)
        }
    }

    @Test("wrong invocations and bad files give one error line and a non-zero status")
    func errors() throws {
        let scratch = try Scratch()
        let cases: [(String, String)] = [
            ("--threads 1", "either --suite"),
            ("--model {net.json} --suite {net.json}", "either --suite"),
            ("--model {broken.json}", "broken.json"),
            ("--model {missing.json}", "missing.json"),
            ("--model {no_shape.json}", "--input"),
            ("--model {net.json} --backward", "--backward applies to --suite only"),
            ("--suite {net.json} --per-layer", "--per-layer applies to --model only"),
            ("--suite {broken.json}", "broken.json"),
            ("--model {net.json} --batch 0", "--batch"),
            ("--model {net.json} --batch 2 --input {input.npy}", "exclude each other"),
            ("--model {net.json} --weights {input.npy}", "input.npy"),
        ]
        for (arguments, expected) in cases {
            let (status, errors) = scratch.run(arguments)
            #expect(status != 0, "\(arguments)")
            #expect(errors.count == 1 && errors[0].contains(expected), "\(arguments): \(errors)")
        }
    }
}
