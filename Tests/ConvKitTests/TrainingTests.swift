@testable import ConvKit
import Foundation
import Testing

@Suite("Optimisers, layers, checkpoints and training")
struct TrainingTests {
    @Test("optimisers follow PyTorch's update rules step by step")
    func optimizers() throws {
        let fixtures = try NetworkFixtures.load()
        #expect(fixtures.optimizers.count == 6)
        for case_ in fixtures.optimizers {
            let p = Variable(try case_.initial.float, requiresGrad: true)
            let optimizer: any Optimizer = switch case_.name {
            case "sgd": SGD(parameters: [p], learningRate: 0.1)
            case "sgd_momentum_wd": SGD(parameters: [p], learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
            case "sgd_nesterov": SGD(parameters: [p], learningRate: 0.05, momentum: 0.8, nesterov: true)
            case "adam": Adam(parameters: [p], learningRate: 0.01)
            case "adam_wd": Adam(parameters: [p], learningRate: 0.01, weightDecay: 0.1)
            default: Adam.adamW(parameters: [p], learningRate: 0.01, weightDecay: 0.1)
            }
            for (gradient, expected) in zip(case_.gradients, case_.parameters) {
                p.grad = try gradient.float
                optimizer.step()
                let error = p.value.maxAbsDifference(try expected.float) ?? .infinity
                #expect(error < 1e-5, "\(case_.name): parameter off by \(error)")
            }
        }
    }

    @Test("NLL and MSE losses and their gradients")
    func losses() throws {
        let logits = Variable(try Tensor(shape: [2, 3], scalars: [1, 2, 3, 0.5, -1, 2]), requiresGrad: true)
        let crossEntropy = try Loss.crossEntropy(logits, labels: [2, 0])
        let nll = try Loss.nll(logits.logSoftmax(dim: 1), labels: [2, 0])
        #expect(abs(crossEntropy.value.scalars[0] - nll.value.scalars[0]) < 1e-6)
        // F.nll_loss(F.log_softmax(x, 1), [2, 0]) in PyTorch (float64).
        let expected: Float = 1.0744586305507688
        #expect(abs(nll.value.scalars[0] - expected) < 1e-5)
        try nll.backward()
        let p0 = [Float(0.09003057), 0.24472847, 0.66524096]
        #expect(zip(logits.grad!.scalars.prefix(3), [p0[0], p0[1], p0[2] - 1]).allSatisfy { abs($0 - $1 / 2) < 1e-5 })
        let x = Variable(try Tensor(shape: [3], scalars: [1, 2, 4]), requiresGrad: true)
        let mse = try Loss.mse(x, target: try Tensor(shape: [3], scalars: [1, 0, 1]))
        #expect(abs(mse.value.scalars[0] - 13.0 / 3) < 1e-6)
        try mse.backward()
        #expect(x.grad!.scalars.elementsEqual([0, 4.0 / 3, 2]) { abs($0 - $1) < 1e-6 })
        #expect(throws: ConvKitError.self) { try Loss.nll(logits, labels: [3, 0]) }
        #expect(throws: ConvKitError.self) { try Loss.crossEntropy(logits, labels: [0]) }
    }

    @Test("schedules: step and cosine")
    func schedules() {
        #expect(LearningRateSchedule.step(stepSize: 2, gamma: 0.5).learningRate(base: 1, epoch: 5.5) == 0.25)
        #expect(abs(LearningRateSchedule.cosine(tMax: 4, etaMin: 0).learningRate(base: 1, epoch: 2) - 0.5) < 1e-6)
        #expect(abs(LearningRateSchedule.cosine(tMax: 4, etaMin: 0.1).learningRate(base: 1, epoch: 4) - 0.1) < 1e-6)
        #expect(LearningRateSchedule.constant.learningRate(base: 0.3, epoch: 9) == 0.3)
    }

    @Test("parameters carry PyTorch's state_dict names and default initialisation bounds")
    func parameterNames() throws {
        GlobalRandom.manualSeed(1)
        let model = Sequential([
            try Conv2d(inChannels: 4, outChannels: 6, kernelSize: 3, groups: 2), try BatchNormLayer(numFeatures: 6),
            Residual(body: Sequential([try Conv2d(inChannels: 6, outChannels: 6, kernelSize: 1), try BatchNormLayer(numFeatures: 6)])),
            Flatten(), try Linear(inFeatures: 24, outFeatures: 3),
        ])
        #expect(model.stateDict().map(\.name) == [
            "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
            "2.body.0.weight", "2.body.0.bias", "2.body.1.weight", "2.body.1.bias",
            "2.body.1.running_mean", "2.body.1.running_var", "2.body.1.num_batches_tracked", "4.weight", "4.bias",
        ])
        // kaiming_uniform(a=√5): |w| ≤ 1/√fan_in, fan_in = (C_in/groups)·k² = 18.
        let conv = model.layers[0] as! Conv2d
        let bound = 1 / Float(18).squareRoot()
        #expect(conv.weight.value.scalars.allSatisfy { abs($0) <= bound })
        #expect(conv.weight.value.scalars.map(abs).max()! > 0.8 * bound, "draws span the bound")
        let expectedCount = (6 * 2 * 9 + 6) + 12 + (36 + 6) + 12 + (24 * 3 + 3)
        #expect(model.parameterCount == expectedCount)
    }

    @Test("state_dict round trip through safetensors, and checkpoint errors name the key and shapes")
    func checkpoints() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("convkit-ckpt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        GlobalRandom.manualSeed(2)
        let a = try ModelZoo.mnistCNN()
        let file = directory.appendingPathComponent("a.safetensors")
        try a.save(to: file)
        GlobalRandom.manualSeed(3)
        let b = try ModelZoo.mnistCNN()
        #expect(a.stateDict().map(\.tensor) != b.stateDict().map(\.tensor))
        try b.load(from: file)
        #expect(a.stateDict().map(\.tensor) == b.stateDict().map(\.tensor))

        let other = Sequential([try Conv2d(inChannels: 1, outChannels: 16, kernelSize: 3)])
        #expect(throws: ConvKitError.self) { try other.load(from: file) }
        do { try other.load(from: file) } catch { #expect("\(error)".contains("size mismatch for '0.weight'") || "\(error)".contains("unexpected key")) }
        var state = Dictionary(uniqueKeysWithValues: a.stateDict().map { ($0.name, $0.tensor) })
        state["7.bias"] = nil
        do { try b.loadStateDict(state); Issue.record("missing key accepted") } catch { #expect("\(error)".contains("missing key '7.bias'")) }
        let corrupt = directory.appendingPathComponent("corrupt.safetensors")
        try Data([200, 0, 0, 0, 0, 0, 0, 0, 123]).write(to: corrupt)
        #expect(throws: ConvKitError.self) { try b.load(from: corrupt) }
        var truncated = try Data(contentsOf: file)
        truncated.removeLast(100)
        try truncated.write(to: corrupt)
        #expect(throws: ConvKitError.self) { try b.load(from: corrupt) }
    }

    @Test("a state_dict saved by PyTorch loads and reproduces PyTorch's logits")
    func pytorchCheckpoint() throws {
        let fixture = try NetworkFixtures.load().pytorch_checkpoint
        let model = try ModelZoo.mnistCNN()
        try model.load(from: FixtureFile.directory.appendingPathComponent(fixture.file))
        model.eval()
        let test = try MNIST(directory: FixtureFile.directory.appendingPathComponent("../../../Data/mnist").standardized, split: .test)
        let logits = try Autograd.withNoGrad { try model(Variable(test.batch(0..<fixture.images).images)).value }
        let expected = try fixture.logits.float
        #expect(logits.isClose(to: expected, relativeTolerance: 1e-5), "max difference \(logits.maxAbsDifference(expected) ?? .infinity)")
    }

    @Test("the MNIST copy in the repository loads")
    func mnist() throws {
        let test = try MNIST(directory: FixtureFile.directory.appendingPathComponent("../../../Data/mnist").standardized, split: .test)
        #expect(test.count == 10_000 && test.rows == 28 && test.columns == 28)
        #expect(Array(test.labels.prefix(5)) == [7, 2, 1, 0, 4])
        let (images, labels) = test.batch([0, 1])
        #expect(images.shape == [2, 1, 28, 28] && labels == [7, 2])
        #expect(abs(images.scalars[0] - (0 - MNIST.mean) / MNIST.std) < 1e-6)
        #expect(throws: ConvKitError.self) { try IDXFile(data: Data([0, 0, 8, 3, 0, 0, 0, 9])) }
        #expect(throws: ConvKitError.self) { try Gzip.decompress(Data([0x1F, 0x8B, 8, 0, 1, 2, 3])) }
    }

    @Test("a few training steps on a small slice reduce the loss, and the same seed repeats exactly")
    func trainingReducesLoss() throws {
        let test = try MNIST(directory: FixtureFile.directory.appendingPathComponent("../../../Data/mnist").standardized, split: .test)
        let slice = test.prefix(128)
        func run() throws -> [Float] {
            GlobalRandom.manualSeed(7)
            let model = Sequential([
                try Conv2d(inChannels: 1, outChannels: 4, kernelSize: 3, stride: 2), ActivationLayer(.relu),
                MaxPool2d(kernelSize: 2), Flatten(), try Linear(inFeatures: 4 * 6 * 6, outFeatures: 10),
            ])
            let trainer = try ClassifierTrainer(model: model, optimizer: Adam(parameters: model.allParameters, learningRate: 0.01),
                                                batchSize: 32, shuffleSeed: 1)
            for _ in 0..<3 { try trainer.trainEpoch(on: slice) }
            return trainer.stepLosses
        }
        let losses = try run()
        #expect(losses.count == 12)
        // The same seed gives the same losses whatever the thread count.
        for threads in [1, 3] {
            #expect(try Runtime.$override.withValue(.init(threadCount: threads)) { try run() } == losses, "\(threads) threads")
        }
        let first: Float = losses.prefix(4).reduce(0, +), last: Float = losses.suffix(4).reduce(0, +)
        #expect(last < 0.7 * first, "losses: \(losses)")
        #expect(try run() == losses)
    }
}

@Suite("PNG images")
struct PNGTests {
    @Test("encode/decode round trip, resize, and clear errors")
    func roundTrip() throws {
        let image = GrayImage(width: 5, height: 3, pixels: (0..<15).map { Float($0 * 17) / 255 })
        let decoded = try PNG.decode(try PNG.encode(image))
        #expect(decoded.width == 5 && decoded.height == 3)
        #expect(zip(decoded.pixels, image.pixels).allSatisfy { abs($0 - $1) < 1e-6 })
        let small = GrayImage(width: 4, height: 4, pixels: Array(repeating: 0.5, count: 16)).resized(width: 2, height: 2)
        #expect(small.pixels == [0.5, 0.5, 0.5, 0.5])
        #expect(GrayImage(width: 2, height: 2, pixels: [0, 1, 0, 1]).resized(width: 8, height: 8).pixels.count == 64)
        #expect(throws: ConvKitError.self) { try PNG.decode(Data("not a png".utf8)) }
        var truncated = try PNG.encode(image)
        truncated.removeLast(30)
        #expect(throws: ConvKitError.self) { try PNG.decode(truncated) }
    }
}

@Suite("Softmax layers")
struct SoftmaxTests {
    /// Softmax / LogSoftmax along a middle dimension: outputs normalise, gradients match central differences.
    @Test("softmax and log-softmax along a dimension", arguments: [true, false])
    func softmax(_ logarithmic: Bool) throws {
        var random = RandomGenerator(seed: 21)
        let x: Tensor<Float> = random.tensor([2, 3, 4])
        let g: Tensor<Float> = random.tensor([2, 3, 4])
        func forward(_ t: Tensor<Float>) throws -> Variable {
            try Variable(t, requiresGrad: true).activated(logarithmic ? .logSoftmax(dim: 1) : .softmax(dim: 1))
        }
        let input = Variable(x, requiresGrad: true)
        let y = try input.activated(logarithmic ? .logSoftmax(dim: 1) : .softmax(dim: 1))
        let probabilities = logarithmic ? y.value.scalars.map { exp($0) } : y.value.scalars
        for n in 0..<2 { for w in 0..<4 {
            #expect(abs((0..<3).reduce(Float(0)) { $0 + probabilities[(n * 3 + $1) * 4 + w] } - 1) < 1e-5)
        } }
        try y.backward(gradient: g)
        let h: Float = 1e-2
        for i in 0..<x.count {
            var plus = x.scalars, minus = x.scalars
            plus[i] += h
            minus[i] -= h
            let lossPlus = zip(try forward(Tensor(uncheckedShape: x.shape, scalars: plus)).value.scalars, g.scalars).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            let lossMinus = zip(try forward(Tensor(uncheckedShape: x.shape, scalars: minus)).value.scalars, g.scalars).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            #expect(abs((lossPlus - lossMinus) / (2 * h) - input.grad!.scalars[i]) < 2e-3)
        }
    }
}
