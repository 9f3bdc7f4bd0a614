@testable import ConvKit
@testable import ConvKitCLI
import Foundation
import Testing

/// `convkit bench`: the suite format, the forced algorithm and the result fields (not timings).
@Suite("convkit bench")
struct FastKernelBenchCommandTests {
    static func suite() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("convkit-bench-\(UUID().uuidString).json")
        let text = """
        {"cases": [
          {"name": "tiny_3x3", "N": 1, "Cin": 4, "H": 6, "W": 7, "Cout": 5, "k": 3, "stride": 1, "padding": 1, "dilation": 1, "groups": 1},
          {"name": "tiny_dw", "N": 2, "Cin": 3, "H": 5, "W": 5, "Cout": 3, "k": 3, "stride": 2, "padding": 1, "dilation": 1, "groups": 3}
        ]}
        """
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test("times every case and reports name, median, GFLOP/s and algorithm")
    func results() throws {
        let url = try Self.suite()
        defer { try? FileManager.default.removeItem(at: url) }
        try Runtime.$override.withValue(.init(threadCount: 2)) {
            let command = try BenchCommand.parse(["--suite", url.path, "--json", "--backward", "--warmup", "1"])
            let results = try command.measure()
            #expect(results.map(\.name) == ["tiny_3x3", "tiny_dw"])
            #expect(results.map(\.algorithm) == ["gemm", "depthwise"])
            #expect(results.allSatisfy { $0.median_ms > 0 && $0.gflops > 0 })
            let forced = try BenchCommand.parse(["--suite", url.path, "--case", "tiny_3x3", "--algorithm", "reference", "--runs", "15"]).measure()
            #expect(forced.map(\.algorithm) == ["reference"])
        }
    }

    @Test("rejects unknown algorithms and instruction sets")
    func rejects() throws {
        let url = try Self.suite()
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(throws: CLIError.self) { try BenchCommand.parse(["--suite", url.path, "--algorithm", "fft"]).measure() }
        #expect(throws: CLIError.self) { try BenchCommand.parse(["--suite", url.path, "--isa", "sse9"]).measure() }
    }
}
