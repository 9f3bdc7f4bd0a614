@testable import ConvKit
import Testing

/// The fast `Float` pooling path against the reference kernels over shapes around the edges:
/// equal outputs and indices, gradients within rounding, and bitwise-identical results for 1, 2
/// and 3 threads.
@Suite("Fast pooling")
struct FastPoolingTests {
    static let plans: [PoolingPlan] = {
        var plans: [PoolingPlan] = []
        for (size, kernel, stride, padding, dilation, ceil) in [(7, 2, 2, 0, 1, false), (9, 3, 2, 1, 1, true), (8, 3, 3, 1, 2, true),
                                                                 (5, 5, 1, 2, 1, false), (13, 2, 1, 0, 3, true), (6, 4, 3, 2, 1, true)] {
            let shape = [3, 5, size, size + 1]
            plans.append(try! PoolingPlan(maxPoolSpatialRank: 2, inputShape: shape, kernelSize: Dims([kernel]), stride: Dims([stride]),
                                          padding: Padding.explicit([padding]), dilation: Dims([dilation]), ceilMode: ceil))
            for include in [true, false] {
                plans.append(try! PoolingPlan(avgPoolSpatialRank: 2, inputShape: shape, kernelSize: Dims([kernel]), stride: Dims([stride]),
                                              padding: Padding.explicit([padding]), ceilMode: ceil, countIncludePad: include))
            }
        }
        plans.append(try! PoolingPlan(maxPoolSpatialRank: 1, inputShape: [2, 3, 17], kernelSize: 3, stride: 2, padding: .same))
        plans.append(try! PoolingPlan(maxPoolSpatialRank: 3, inputShape: [2, 2, 5, 6, 7], kernelSize: [2, 3, 2], padding: 1))
        plans.append(try! PoolingPlan(avgPoolSpatialRank: 3, inputShape: [1, 3, 5, 6, 7], kernelSize: 3, stride: 2, padding: 1,
                                      ceilMode: true, divisorOverride: 7))
        for max in [true, false] {
            plans.append(try! PoolingPlan(adaptiveSpatialRank: 2, max: max, inputShape: [2, 3, 7, 5], outputSize: [3, 9]))
            plans.append(try! PoolingPlan(adaptiveSpatialRank: 1, max: max, inputShape: [2, 3, 10], outputSize: [4]))
        }
        return plans
    }()

    @Test("fast path matches the reference; 1, 2 and 3 threads agree bit for bit")
    func matchesReference() throws {
        var random = RandomGenerator(seed: 5)
        for plan in Self.plans {
            var x: Tensor<Float> = random.tensor(plan.inputShape)
            // Ties and −∞ exercise the first-maximum rule.
            x = Tensor(uncheckedShape: x.shape, scalars: x.scalars.enumerated().map { $0.offset % 7 == 0 ? 0.25 : ($0.offset % 11 == 0 ? -.infinity : $0.element) })
            let g: Tensor<Float> = random.tensor(plan.outputShape)
            let (reference, referenceIndices) = try plan.run(x)
            let referenceGradient = try plan.gradient(g, indices: referenceIndices)
            var first: (PoolingResult, Tensor<Float>)?
            for threads in 1...3 {
                try Runtime.$override.withValue(.init(threadCount: threads)) {
                    let fast = try plan.forward(x)
                    let gradient = try plan.backward(gradOutput: g, indices: fast.indices)
                    #expect(fast.output.scalars.elementsEqual(reference.scalars) { $0 == $1 || abs($0 - $1) <= 1e-6 * max(1, abs($1)) },
                            "\(plan.op) \(plan.inputShape) output")
                    #expect(fast.indices == referenceIndices, "\(plan.op) \(plan.inputShape) indices")
                    #expect(gradient.isClose(to: referenceGradient, relativeTolerance: 1e-6), "\(plan.op) \(plan.inputShape) gradient")
                    if let (output, firstGradient) = first {
                        #expect(fast.output.scalars.elementsEqual(output.output.scalars) { $0 == $1 || ($0.isNaN && $1.isNaN) } && gradient == firstGradient, "\(plan.op): \(threads) threads differ from 1")
                    } else {
                        first = (fast, gradient)
                    }
                }
            }
        }
    }

    @Test("empty batches")
    func emptyBatch() throws {
        let plan = try PoolingPlan(maxPoolSpatialRank: 2, inputShape: [0, 3, 4, 4], kernelSize: 2)
        let result = try plan.forward(try Tensor(zeros: [0, 3, 4, 4]))
        #expect(result.output.shape == [0, 3, 2, 2])
        #expect(try plan.backward(gradOutput: try Tensor(zeros: [0, 3, 2, 2]), indices: result.indices).shape == [0, 3, 4, 4])
    }
}
