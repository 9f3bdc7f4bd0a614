import ConvKit
import ConvKitCLI
import Foundation
import Testing

/// `convkit op` from the outside: files in, files out, and for every kind of bad input a
/// non-zero status, one line naming the op and the argument, and no file left behind.
@Suite("convkit op command line")
struct CommandLineTests {
    /// A scratch directory with a few input files.
    final class Scratch {
        let directory: URL
        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("convkit-cli-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var random = RandomGenerator(seed: 3)
            try write("x4d", random.tensor([2, 4, 6, 6], as: Float.self))
            try write("w4d", random.tensor([6, 2, 3, 3], as: Float.self))
            try write("b6", random.tensor([6], as: Float.self))
            try write("g", random.tensor([2, 6, 4, 4], as: Float.self))
            try Data("not a numpy file".utf8).write(to: path("garbage"))
            try Tensor<Int>(shape: [1], scalars: [1]).writeNPY(to: path("ints"))
        }
        deinit { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> URL { directory.appendingPathComponent(name + ".npy") }
        func write(_ name: String, _ tensor: Tensor<Float>) throws { try tensor.writeNPY(to: path(name)) }
        func files() -> Set<String> { Set((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []) }

        /// Runs `convkit` with `{name}` placeholders replaced by paths; returns (status, error lines).
        func run(_ arguments: String) -> (Int32, [String]) { runConvKit(arguments, paths: path) }
    }

    @Test("forward and backward write every requested file")
    func writesOutputs() throws {
        let scratch = try Scratch()
        let (status, errors) = scratch.run(
            "op conv2d --input {x4d} --weight {w4d} --bias {b6} --output {y} --groups 2 --stride 1 --padding 0 --grad-output {g} --grad-input {gx} --grad-weight {gw} --grad-bias {gb}")
        #expect(status == 0, "\(errors)")
        let y = try Tensor<Float>(npyFile: scratch.path("y"))
        #expect(y.shape == [2, 6, 4, 4])
        let expected = try conv2d(try Tensor(npyFile: scratch.path("x4d")), weight: try Tensor(npyFile: scratch.path("w4d")),
                                  bias: try Tensor(npyFile: scratch.path("b6")), groups: 2)
        #expect(y == expected)
        #expect(try Tensor<Float>(npyFile: scratch.path("gw")).shape == [6, 2, 3, 3])
        #expect(try Tensor<Float>(npyFile: scratch.path("gb")).shape == [6])
        #expect(try Tensor<Float>(npyFile: scratch.path("gx")).shape == [2, 4, 6, 6])
        #expect(!scratch.files().contains { $0.hasSuffix(".tmp") })

        let (poolStatus, _) = scratch.run("op max_pool2d --input {x4d} --output {p} --kernel-size 2 --return-indices --indices-output {pi}")
        #expect(poolStatus == 0)
        #expect(try Tensor<Int>(npyFile: scratch.path("pi")).shape == [2, 4, 3, 3])
        let (padStatus, _) = scratch.run("op pad --input {x4d} --output {q} --pad -1,2 --value -0.5")
        #expect(padStatus == 0)
        #expect(try Tensor<Float>(npyFile: scratch.path("q")).shape == [2, 4, 6, 7])
    }

    static let badCalls: [(String, String)] = [
        ("conv9d", "op conv9d --input {x4d} --output {out}"),
        ("conv2d", "op conv2d --input {x4d} --weight {w4d} --output {out}"),                       // groups mismatch (4 vs 2)
        ("conv2d", "op conv2d --input {x4d} --weight {w4d} --output {out} --groups 3"),
        ("conv2d", "op conv2d --input {x4d} --weight {w4d} --output {out} --groups 2 --stride 0"),
        ("conv2d", "op conv2d --input {x4d} --weight {w4d} --output {out} --groups 2 --stride -1"),
        ("conv2d", "op conv2d --input {x4d} --weight {w4d} --output {out} --groups 2 --padding -1"),
        ("conv2d", "op conv2d --input {x4d} --weight {w4d} --output {out} --groups 2 --dilation 4"),  // kernel > input
        ("conv2d", "op conv2d --input {x4d} --weight {w4d} --output {out} --groups 2 --stride 1,2,3"),
        ("conv2d", "op conv2d --input {x4d} --weight {w4d} --output {out} --groups 2 --padding causal"),
        ("conv2d", "op conv2d --input {x4d} --weight {w4d} --bias {w4d} --output {out} --groups 2"),
        ("conv2d", "op conv2d --input {x4d} --weight {w4d} --output {out} --groups 2 --padding-mode mirror"),
        ("conv2d", "op conv2d --input {x4d} --weight {w4d} --output {out} --groups 2 --padding 6 --padding-mode reflect"),
        ("conv2d", "op conv2d --input {x4d} --weight {w4d} --output {out} --groups 2 --grad-output {x4d} --grad-input {gx}"),
        ("conv2d", "op conv2d --input {x4d} --weight {w4d} --output {out} --groups 2 --grad-input {gx}"),
        ("conv2d", "op conv2d --input {x4d} --output {out}"),
        ("conv2d", "op conv2d --input {garbage} --weight {w4d} --output {out}"),
        ("conv2d", "op conv2d --input {ints} --weight {w4d} --output {out}"),
        ("conv2d", "op conv2d --input {missing} --weight {w4d} --output {out}"),
        ("conv2d", "op conv2d --input {x4d} --weight {w4d} --output {out} --groups 2 --kernel-size 3"),
        ("conv_transpose2d", "op conv_transpose2d --input {x4d} --weight {w4d} --output {out} --stride 2 --output-padding 2"),
        ("pad", "op pad --input {x4d} --output {out} --pad 1,2,3"),
        ("pad", "op pad --input {x4d} --output {out} --pad 6,0 --mode reflect"),
        ("pad", "op pad --input {x4d} --output {out} --pad 7,0 --mode circular"),
        ("pad", "op pad --input {x4d} --output {out} --pad -7,0"),
        ("pad", "op pad --input {x4d} --output {out} --pad 1,1 --mode wrap"),
        ("max_pool2d", "op max_pool2d --input {x4d} --output {out}"),
        ("max_pool2d", "op max_pool2d --input {x4d} --output {out} --kernel-size 2 --padding 2"),
        ("max_pool2d", "op max_pool2d --input {x4d} --output {out} --kernel-size 7"),
        ("max_pool2d", "op max_pool2d --input {x4d} --output {out} --kernel-size 2 --groups 2"),
        ("max_pool2d", "op max_pool2d --input {x4d} --output {out} --kernel-size 2 --grad-output {g} --grad-weight {gw}"),
        ("avg_pool1d", "op avg_pool1d --input {x4d} --output {out} --kernel-size 2"),
        ("avg_pool2d", "op avg_pool2d --input {x4d} --output {out} --kernel-size 2 --divisor-override 0"),
        ("adaptive_avg_pool2d", "op adaptive_avg_pool2d --input {x4d} --output {out} --output-size 2,2,2"),
        ("unfold", "op unfold --input {x4d} --output {out} --kernel-size 7"),
        ("fold", "op fold --input {x4d} --output {out} --kernel-size 2 --output-size 4,4"),
        ("max_unpool2d", "op max_unpool2d --input {x4d} --indices {ints} --output {out} --kernel-size 2"),
        ("conv2d", "op conv2d --input {x4d} --weight {w4d} --groups 2 --output /nonexistent-dir/out.npy"),
    ]

    @Test("bad input: non-zero status, one line naming the op, nothing written", arguments: badCalls)
    func rejects(_ op: String, _ call: String) throws {
        let scratch = try Scratch()
        let before = scratch.files()
        let (status, errors) = scratch.run(call)
        #expect(status != 0, "\(call) should fail")
        #expect(errors.count == 1 && !(errors.first?.contains("\n") ?? true), "one error line: \(errors)")
        let message = errors.first ?? ""
        #expect(message.hasPrefix(op) || message.hasPrefix("convkit") || message.contains(".npy"),
                "message names the op or file: \(message)")
        #expect(scratch.files() == before, "no file left behind: \(scratch.files().subtracting(before))")
    }

    @Test("the built executable exits non-zero with one stderr line")
    func executable() throws {
        // The test bundle sits next to the products of the same build.
        let products = URL(fileURLWithPath: CommandLine.arguments.first ?? "").deletingLastPathComponent()
        let candidates = [products, products.deletingLastPathComponent()].map { $0.appendingPathComponent("convkit") }
        guard let binary = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            Issue.record("convkit executable not found next to \(products.path)")
            return
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = ["op", "conv2d", "--input", "/nonexistent.npy", "--weight", "/nonexistent.npy", "--output", "/tmp/never.npy"]
        let stderr = Pipe()
        process.standardError = stderr
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus != 0)
        #expect(text.split(separator: "\n").count == 1, "\(text)")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/never.npy"))
    }
}
