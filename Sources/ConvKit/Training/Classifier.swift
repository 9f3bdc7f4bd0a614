import Foundation

/// Trains and evaluates an image classifier on MNIST-style data, one epoch at a time.
public final class ClassifierTrainer {
    public let model: any Module
    public let optimizer: any Optimizer
    public let schedule: LearningRateSchedule
    public let baseLearningRate: Float
    public let batchSize: Int
    public let labelSmoothing: Float
    private var shuffler: RandomGenerator?
    public private(set) var epochsDone = 0
    /// Mean loss of every training step so far, in order.
    public private(set) var stepLosses: [Float] = []

    /// Progress of an epoch after each batch.
    public struct Progress: Sendable {
        public let batch: Int, batches: Int
        public let images: Int, seconds: Double
        public let loss: Float
    }

    /// What one epoch did.
    public struct EpochReport: Sendable {
        public let epoch: Int
        public let meanLoss: Float
        public let seconds: Double
        public let imagesPerSecond: Double
    }

    public init(model: any Module, optimizer: any Optimizer, batchSize: Int = 64, schedule: LearningRateSchedule = .constant,
                labelSmoothing: Float = 0, shuffleSeed: UInt64? = 0) throws {
        guard batchSize > 0 else { throw ConvKitError.invalidArgument(op: "train", "batch size (\(batchSize)) must be positive") }
        self.model = model
        self.optimizer = optimizer
        self.schedule = schedule
        self.baseLearningRate = optimizer.learningRate
        self.batchSize = batchSize
        self.labelSmoothing = labelSmoothing
        self.shuffler = shuffleSeed.map { RandomGenerator(seed: $0) }
    }

    /// One pass over `data` in shuffled batches; `progress` is called after every batch.
    @discardableResult
    public func trainEpoch(on data: MNIST, progress: (Progress) -> Void = { _ in }) throws -> EpochReport {
        model.train()
        let batches = data.batches(size: batchSize, shuffledWith: &shuffler)
        let start = Date()
        var images = 0, lossSum: Float = 0
        for (index, batch) in batches.enumerated() {
            optimizer.learningRate = schedule.learningRate(
                base: baseLearningRate, epoch: Double(epochsDone) + Double(index) / Double(batches.count))
            let (x, labels) = data.batch(batch)
            let loss = try Loss.crossEntropy(try model(Variable(x)), labels: labels, labelSmoothing: labelSmoothing)
            optimizer.zeroGrad()
            try loss.backward()
            optimizer.step()
            let value = loss.value.scalars[0]
            stepLosses.append(value)
            lossSum += value
            images += batch.count
            progress(Progress(batch: index + 1, batches: batches.count, images: images,
                              seconds: Date().timeIntervalSince(start), loss: lossSum / Float(index + 1)))
        }
        epochsDone += 1
        let seconds = Date().timeIntervalSince(start)
        return EpochReport(epoch: epochsDone, meanLoss: lossSum / Float(max(batches.count, 1)), seconds: seconds,
                           imagesPerSecond: Double(images) / max(seconds, 1e-9))
    }

    /// The predicted class of every example of `data` (evaluation mode, no gradients).
    public static func predict(_ model: any Module, on data: MNIST, batchSize: Int = 500) throws -> [Int] {
        model.eval()
        var nothing: RandomGenerator?
        return try Autograd.withNoGrad {
            try data.batches(size: batchSize, shuffledWith: &nothing).flatMap { batch in
                try Self.argmax(model(Variable(data.batch(batch).images)).value)
            }
        }
    }

    /// The fraction of `data` classified correctly.
    public static func accuracy(_ model: any Module, on data: MNIST) throws -> Double {
        let predictions = try predict(model, on: data)
        return Double(zip(predictions, data.labels).filter { $0 == $1 }.count) / Double(max(data.count, 1))
    }

    /// The index of the largest value in each row of `[N, C]` logits.
    public static func argmax(_ logits: Tensor<Float>) -> [Int] {
        let classes = logits.shape.last ?? 1
        return stride(from: 0, to: logits.count, by: max(classes, 1)).map { start in
            var best = start
            for i in start..<(start + classes) where logits.scalars[i] > logits.scalars[best] { best = i }
            return best - start
        }
    }
}
