import ConvKit
import Foundation

/// Loss per step and (loss, test accuracy) per epoch, drawn as an SVG line chart.
struct TrainingCurve {
    var stepLosses: [Float] = []
    var epochs: [(loss: Float, accuracy: Double)] = []

    func svg(width: Double = 720, height: Double = 360) -> String {
        let margin = 48.0, plotWidth = width - 2 * margin, plotHeight = height - 2 * margin
        let maxLoss = Double(stepLosses.max() ?? 1)
        func point(_ i: Int, of count: Int, _ value: Double, _ top: Double) -> String {
            let x = margin + plotWidth * Double(i) / Double(max(count - 1, 1))
            let y = margin + plotHeight * (1 - value / max(top, 1e-9))
            return String(format: "%.1f,%.1f", x, y)
        }
        // Smooth the step losses over a window so the trend is readable.
        let window = max(stepLosses.count / 200, 1)
        let smoothed = stride(from: 0, to: stepLosses.count, by: window).map { start in
            Double(stepLosses[start..<min(start + window, stepLosses.count)].reduce(0, +)) / Double(min(window, stepLosses.count - start))
        }
        let lossPath = smoothed.enumerated().map { point($0.offset, of: smoothed.count, $0.element, maxLoss) }.joined(separator: " ")
        let accuracyPoints = epochs.enumerated().map { point($0.offset + 1, of: epochs.count + 1, $0.element.accuracy, 1) }
        var lines = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">",
            "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
            "<text x=\"\(margin)\" y=\"24\" font-size=\"15\">ConvKit training: loss per step (blue), test accuracy per epoch (orange)</text>",
            "<line x1=\"\(margin)\" y1=\"\(margin + plotHeight)\" x2=\"\(margin + plotWidth)\" y2=\"\(margin + plotHeight)\" stroke=\"black\"/>",
            "<line x1=\"\(margin)\" y1=\"\(margin)\" x2=\"\(margin)\" y2=\"\(margin + plotHeight)\" stroke=\"black\"/>",
            String(format: "<text x=\"4\" y=\"%.0f\">%.2f</text>", margin + 4, maxLoss),
            "<text x=\"4\" y=\"\(Int(margin + plotHeight))\">0</text>",
            "<text x=\"\(Int(margin + plotWidth - 60))\" y=\"\(Int(height - 16))\">\(stepLosses.count) steps</text>",
            "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"\(lossPath)\"/>",
            "<polyline fill=\"none\" stroke=\"#ff7f0e\" stroke-width=\"2\" points=\"\(accuracyPoints.joined(separator: " "))\"/>",
        ]
        for (i, epoch) in epochs.enumerated() {
            let xy = accuracyPoints[i].split(separator: ",")
            lines.append(String(format: "<circle cx=\"%@\" cy=\"%@\" r=\"3\" fill=\"#ff7f0e\"/><text x=\"%@\" y=\"%@\" dy=\"-6\">%.2f%%</text>",
                                String(xy[0]), String(xy[1]), String(xy[0]), String(xy[1]), 100 * epoch.accuracy))
        }
        lines.append("</svg>")
        return lines.joined(separator: "\n")
    }

    func writeSVG(to url: URL) throws {
        try AtomicFile.write([(url, Data(svg().utf8))])
    }
}
