import ConvKit
import ConvKitCLI
import Testing

/// Every op × option against PyTorch (float64 references, see `Scripts/make_fixtures.py`):
/// forward values, every gradient and max-pool indices through `convkit op`, and PyTorch's
/// rejections rejected too.
@Suite("PyTorch fixtures")
struct FixtureTests {
    static let files = ["conv.json", "conv_transpose.json", "pad.json", "max_pool.json", "avg_pool.json",
                        "adaptive_pool.json", "fold.json", "extensions.json"]

    @Test("cases match PyTorch", arguments: files)
    func matchesPyTorch(file: String) throws {
        let fixtures = try FixtureFile.load(file)
        #expect(fixtures.cases.count >= 20, "\(file) holds too few cases")
        var accepted = 0, rejected = 0
        for fixture in fixtures.cases {
            if let torchError = fixture.error, torchError.contains("not supported for strided convolutions") {
                // A deliberate extension: 'same' with stride > 1 (TensorFlow rule; values in extensions.json).
                #expect(throws: Never.self, "\(fixture.name): strided 'same' must be accepted") { try fixture.run() }
            } else if let torchError = fixture.error {
                if let result = try? fixture.run() {
                    Issue.record("\(fixture.name): PyTorch rejects this (\(torchError)), ConvKit returned shape \(result.output?.shape ?? [])")
                }
                rejected += 1
            } else {
                do {
                    let result = try fixture.run()
                    let problems = fixture.mismatches(in: result)
                    #expect(problems.isEmpty, "\(fixture.name): \(problems.joined(separator: "; "))")
                } catch {
                    Issue.record("\(fixture.name): PyTorch accepts this, ConvKit threw: \(error)")
                }
                accepted += 1
            }
        }
        #expect(accepted > 0)
    }
}
