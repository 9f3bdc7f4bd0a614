import ArgumentParser
import ConvKit
import Foundation

/// `convkit predict`: a trained checkpoint's accuracy on the MNIST test set, or its top classes for PNG images.
public struct PredictCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classify MNIST test images or 28×28 grey PNGs with a trained checkpoint.")

    @Option(help: "Trained weights (safetensors, e.g. from convkit train).") var checkpoint: String
    @Option(help: "The model description the checkpoint belongs to (default: the seeds' MNIST network).") var model: String?
    @Flag(name: .customLong("mnist-test"), help: "Report accuracy on the MNIST test set.") var mnistTest = false
    @Option(help: "Directory with the MNIST IDX files.") var data = "Data/mnist"
    @Option(help: "How many classes to list per image.") var top = 3
    @Option(name: .customLong("save-predictions"), help: "With --mnist-test: write the predicted classes (.npy, int64).")
    var savePredictions: String?
    @Argument(help: "PNG images (any size; resized to 28×28; dark-on-light images are inverted).") var images: [String] = []

    public init() {}

    public func run() throws {
        guard mnistTest != !images.isEmpty else {
            throw CLIError("predict: give either --mnist-test or one or more PNG images")
        }
        let model = try loadModel(self.model)
        try model.load(from: URL(fileURLWithPath: checkpoint))
        model.eval()
        if mnistTest {
            let test = try MNIST(directory: URL(fileURLWithPath: data), split: .test)
            let predictions = try ClassifierTrainer.predict(model, on: test)
            let correct = zip(predictions, test.labels).filter { $0 == $1 }.count
            if let savePredictions {
                try Tensor(shape: [predictions.count], scalars: predictions).writeNPY(to: URL(fileURLWithPath: savePredictions))
            }
            print(String(format: "test accuracy: %.2f%% (%d of %d images)", 100 * Double(correct) / Double(max(test.count, 1)), correct, test.count))
            return
        }
        for path in images {
            let input = try Self.mnistInput(try PNG.decode(try Data(contentsOf: URL(fileURLWithPath: path)), name: path))
            let logits = try Autograd.withNoGrad { try model(Variable(input)).logSoftmax(dim: 1).value.scalars }
            let ranked = logits.enumerated().sorted { $0.element > $1.element }.prefix(max(top, 1))
            print("\(path): " + ranked.map { String(format: "%d (%.1f%%)", $0.offset, 100 * exp($0.element)) }.joined(separator: ", "))
        }
    }

    /// A `[1, 1, 28, 28]` input normalised as MNIST: light digits on a dark background.
    static func mnistInput(_ image: GrayImage) throws -> Tensor<Float> {
        var grey = image.resized(width: 28, height: 28)
        if grey.pixels.reduce(0, +) / Float(grey.pixels.count) > 0.5 { grey.pixels = grey.pixels.map { 1 - $0 } }
        return try Tensor(shape: [1, 1, 28, 28], scalars: grey.pixels.map { ($0 - MNIST.mean) / MNIST.std })
    }
}
