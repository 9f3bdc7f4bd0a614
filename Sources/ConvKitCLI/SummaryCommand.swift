import ArgumentParser
import ConvKit
import Foundation

/// `convkit summary SPEC.json [--input-shape 1,3,224,224] [--json]`: every layer's output shape,
/// parameters, MACs and receptive field (size, effective stride, effective padding).
public struct SummaryCommand: ParsableCommand {
    /// The command's name, abstract and discussion.
    public static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Shapes, parameters, MACs and receptive fields of a model description (JSON).",
        discussion: """
        The description is a JSON object {"input_shape": [N, C, …], "layers": [{"type": "Conv2d", …}, …]} with \
        PyTorch class names and argument names (see Examples/models). RF is the receptive field r of each output \
        unit in the network input, S the effective stride and P the effective padding: unit i sees input \
        positions −P + i·S … −P + i·S + r − 1. MACs count multiply–accumulates of convolutions and linear layers.
        """)

    @Argument(help: "The model description (JSON).") var spec: String
    @Option(name: .customLong("input-shape"), parsing: .unconditional, help: "N,C,spatial… (overrides the description's input_shape).")
    var inputShape: String?
    @Flag(help: "Print JSON: output_shape, total_params, total_macs and one entry per layer.") var json = false
    @Option(parsing: .unconditional, help: "Table only: show layers nested at most this deep (0: top-level layers only).")
    var depth: Int?

    public init() {}

    /// Prints ``render()``.
    public func run() throws {
        print(try render())
    }

    /// The text `run()` prints (used by the tests in-process).
    public func render() throws -> String {
        let model = try ModelDescription.load(from: URL(fileURLWithPath: spec))
        let shape = try inputShape.map { try OptionValue.integers($0, option: "input-shape") }
        let analysis = try model.analyze(inputShape: shape)
        if let depth, depth < 0 { throw CLIError("--depth must be 0 or more, but got \(depth)") }
        return json ? SummaryFormat.json(analysis) : SummaryFormat.table(analysis, title: spec, depth: depth ?? .max)
    }
}

/// The two renderings of a ``ModelAnalysis``.
public enum SummaryFormat {
    /// JSON with exactly the keys `output_shape`, `total_params`, `total_macs`, `layers` (each:
    /// `path`, `type`, `output_shape`, `params`, `macs`, `receptive_field`, `effective_stride`,
    /// `effective_padding`, the last three `null` where no receptive field exists), in that order,
    /// one layer per line.
    public static func json(_ analysis: ModelAnalysis) -> String {
        func list(_ values: [Int]?) -> String {
            values.map { "[" + $0.map(String.init).joined(separator: ", ") + "]" } ?? "null"
        }
        func string(_ text: String) -> String {
            "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        let layers = analysis.layers.map { layer in
            let field = layer.receptiveField
            return "  {\"path\": \(string(layer.path)), \"type\": \(string(layer.type)), \"output_shape\": \(list(layer.outputShape)), "
                + "\"params\": \(layer.parameters), \"macs\": \(layer.macs), \"receptive_field\": \(list(field?.size)), "
                + "\"effective_stride\": \(list(field?.stride)), \"effective_padding\": \(list(field?.padding))}"
        }
        return "{\"output_shape\": \(list(analysis.outputShape)), \"total_params\": \(analysis.totalParameters), "
            + "\"total_macs\": \(analysis.totalMACs),\n \"layers\": [\n" + layers.joined(separator: ",\n") + "\n ]}"
    }

    /// A torchinfo-style table with receptive-field columns, totals and notes, listing layers
    /// nested at most `depth` deep (totals always cover the whole model).
    public static func table(_ analysis: ModelAnalysis, title: String, depth: Int = .max) -> String {
        let header = ["Layer (path)", "Type", "Output shape", "Params", "MACs", "RF", "Stride", "Padding"]
        let shown = analysis.layers.filter { $0.depth <= depth }
        let rows = shown.map { layer -> [String] in
            let field = layer.receptiveField
            return [String(repeating: "  ", count: layer.depth) + layer.path, layer.type, shapeText(layer.outputShape),
                    grouped(layer.parameters), grouped(layer.macs),
                    field.map { sizes($0.size) } ?? "—", field.map { sizes($0.stride) } ?? "—", field.map { sizes($0.padding) } ?? "—"]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        let rightAligned: Set<Int> = [3, 4, 5, 6, 7]
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return rightAligned.contains(column) ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        let rule = String(repeating: "=", count: widths.reduce(0, +) + 2 * (widths.count - 1))
        var out = [title, rule, line(header), rule] + rows.map(line) + [rule]
        let parameterBytes = 4 * analysis.totalParameters
        let activationBytes = 4 * analysis.activationElements
        out += [
            "Input shape: \(shapeText(analysis.inputShape))    Output shape: \(shapeText(analysis.outputShape))",
            "Total params: \(grouped(analysis.totalParameters)) (\(megabytes(parameterBytes)) as float32)",
            "Total MACs: \(grouped(analysis.totalMACs)) (\(scaled(analysis.totalMACs)))",
            "Backward MACs: \(grouped(analysis.totalBackwardMACs)) (\(scaled(analysis.totalBackwardMACs))); a training step ≈ \(scaled(analysis.totalMACs + analysis.totalBackwardMACs)) MACs",
            "Activations: \(grouped(analysis.activationElements)) elements (\(megabytes(activationBytes)) as float32, kept for the backward pass)",
        ]
        if let field = analysis.receptiveField {
            out.append("Output receptive field: r \(sizes(field.size)), S \(sizes(field.stride)), P \(sizes(field.padding)) (unit i sees input −P + i·S … −P + i·S + r − 1)")
        }
        let notes = shown.flatMap { layer in layer.notes.map { "  \(layer.path) (\(layer.type)): \($0)" } }
        if !notes.isEmpty { out += ["Notes:"] + notes }
        out.append(rule)
        return out.joined(separator: "\n")
    }

    static func shapeText(_ shape: [Int]) -> String {
        "[" + shape.map(String.init).joined(separator: ", ") + "]"
    }

    static func sizes(_ values: [Int]) -> String {
        values.map(String.init).joined(separator: "×")
    }

    /// `11689512` → `11,689,512`.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var groups: [Substring] = []
        var end = digits.endIndex
        while end > digits.startIndex {
            let start = digits.index(end, offsetBy: -3, limitedBy: digits.startIndex) ?? digits.startIndex
            groups.insert(digits[start..<end], at: 0)
            end = start
        }
        return (value < 0 ? "-" : "") + groups.joined(separator: ",")
    }

    /// `1814073344` → `1.81 G`.
    static func scaled(_ value: Int) -> String {
        let units: [(Double, String)] = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]
        for (size, name) in units where Double(value) >= size {
            return String(format: "%.2f", Double(value) / size) + " " + name
        }
        return "\(value)"
    }

    static func megabytes(_ bytes: Int) -> String {
        String(format: "%.2f MB", Double(bytes) / 1_000_000)
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var text = Substring(self)
        while text.last == " " { text = text.dropLast() }
        return String(text)
    }
}
