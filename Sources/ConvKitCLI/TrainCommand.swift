import ArgumentParser
import ConvKit
import Foundation

/// `convkit train`: trains a CNN on the MNIST copy in `Data/mnist` and reports test accuracy.
public struct TrainCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a CNN on MNIST (the seeds' pipeline by default) and report its test accuracy.")

    @Option(help: "A model description (JSON) to train instead of the seeds' network; it takes [N, 1, 28, 28] and outputs 10 classes.")
    var model: String?
    @Option(help: "Number of passes over the training set.") var epochs = 3
    @Option(name: .customLong("batch-size"), help: "Images per step.") var batchSize = 64
    @Option(help: "Learning rate.") var lr: Float = 1e-3
    @Option(help: "adam, adamw or sgd (momentum 0.9).") var optimizer = "adam"
    @Option(help: "Learning-rate schedule: cosine (annealed to 0 over the epochs, per step), constant, or step (×0.1 every epoch).")
    var schedule = "cosine"
    @Option(name: .customLong("label-smoothing"), help: "Cross-entropy label smoothing (0 = none).") var labelSmoothing: Float = 0.1
    @Option(help: "Seed for initialisation and shuffling.") var seed: UInt64 = 0
    @Option(help: "Worker threads for the kernels (default: all cores).") var threads: Int?
    @Option(help: "Where to write the trained weights (safetensors, PyTorch state_dict keys).") var checkpoint = "mnist-cnn.safetensors"
    @Option(help: "Write a training-curve plot (.svg).") var plot: String?
    @Option(help: "Directory with the four MNIST IDX files.") var data = "Data/mnist"
    @Option(name: .customLong("train-limit"), help: "Use only the first N training images.") var trainLimit: Int?

    public init() {}

    public func run() throws {
        if let threads {
            guard threads > 0 else { throw CLIError("train: --threads (\(threads)) must be positive") }
            Runtime.threadCount = threads
        }
        let directory = URL(fileURLWithPath: data)
        var train = try MNIST(directory: directory, split: .train)
        if let trainLimit { train = train.prefix(trainLimit) }
        let test = try MNIST(directory: directory, split: .test)
        GlobalRandom.manualSeed(seed)
        let model = try loadModel(self.model)
        let trainer = try ClassifierTrainer(model: model, optimizer: try makeOptimizer(model), batchSize: batchSize,
                                            schedule: try makeSchedule(), labelSmoothing: labelSmoothing, shuffleSeed: seed)
        say("training \(model.parameterCount) parameters on \(train.count) images, testing on \(test.count); \(optimizer) lr \(lr) (\(schedule)), label smoothing \(labelSmoothing), batch \(batchSize), \(epochs) epochs, \(Runtime.threadCount) threads")
        var curve = TrainingCurve()
        for epoch in 1...max(epochs, 1) {
            let bar = ProgressBar(title: "epoch \(epoch)/\(epochs)")
            let report = try trainer.trainEpoch(on: train) { bar.update($0) }
            let accuracy = try ClassifierTrainer.accuracy(model, on: test)
            bar.finish(report: report, accuracy: accuracy)
            curve.epochs.append((report.meanLoss, accuracy))
        }
        curve.stepLosses = trainer.stepLosses
        try model.save(to: URL(fileURLWithPath: checkpoint))
        say("checkpoint: \(checkpoint)")
        if let plot {
            try curve.writeSVG(to: URL(fileURLWithPath: plot))
            say("plot: \(plot)")
        }
        say(String(format: "test accuracy: %.2f%%", 100 * (curve.epochs.last?.accuracy ?? 0)))
    }

    func makeOptimizer(_ model: any Module) throws -> any Optimizer {
        switch optimizer.lowercased() {
        case "adam": return Adam(parameters: model.allParameters, learningRate: lr)
        case "adamw": return Adam.adamW(parameters: model.allParameters, learningRate: lr)
        case "sgd": return SGD(parameters: model.allParameters, learningRate: lr, momentum: 0.9)
        default: throw CLIError("train: --optimizer must be adam, adamw or sgd, but got '\(optimizer)'")
        }
    }

    func makeSchedule() throws -> LearningRateSchedule {
        switch schedule.lowercased() {
        case "constant": return .constant
        case "step": return .step(stepSize: 1, gamma: 0.1)
        case "cosine": return .cosine(tMax: epochs, etaMin: 0)
        default: throw CLIError("train: --schedule must be constant, step or cosine, but got '\(schedule)'")
        }
    }
}

/// A one-line progress bar: redrawn in place on a terminal, printed every 10% otherwise.
final class ProgressBar {
    let title: String
    let interactive = isatty(STDOUT_FILENO) != 0
    private var lastDecile = -1

    init(title: String) { self.title = title }

    func update(_ p: ClassifierTrainer.Progress) {
        let fraction = Double(p.batch) / Double(max(p.batches, 1))
        let rate = Double(p.images) / max(p.seconds, 1e-9)
        let eta = p.seconds / max(fraction, 1e-9) - p.seconds
        let filled = Int(fraction * 30)
        let line = "\(title) [\(String(repeating: "█", count: filled))\(String(repeating: "·", count: 30 - filled))] "
            + String(format: "%3.0f%% %d/%d ETA %3.0fs loss %.4f %5.0f img/s", 100 * fraction, p.batch, p.batches, eta, p.loss, rate)
        if interactive {
            say("\r" + line, terminator: "")
        } else if Int(fraction * 10) > lastDecile {
            lastDecile = Int(fraction * 10)
            say(line)
        }
    }

    func finish(report: ClassifierTrainer.EpochReport, accuracy: Double) {
        if interactive { say("") }
        say(String(format: "%@: loss %.4f, %.1f s, %.0f img/s, test accuracy %.2f%%", title, report.meanLoss, report.seconds,
                     report.imagesPerSecond, 100 * accuracy))
    }
}

/// The seeds' MNIST network, or the network a model description file describes.
func loadModel(_ path: String?) throws -> Sequential {
    guard let path else { return try ModelZoo.mnistCNN() }
    return try Sequential(description: try ModelDescription.load(from: URL(fileURLWithPath: path)))
}

/// Writes a line to standard output at once (unbuffered, so progress shows in logs and pipes too).
func say(_ text: String, terminator: String = "\n") {
    FileHandle.standardOutput.write(Data((text + terminator).utf8))
}
