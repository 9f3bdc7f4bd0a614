/// The shared implementation of the pooling layers: a pooling plan per input shape.
public class PoolingLayer: Module {
    public var isTraining = true
    private let makePlan: ([Int]) throws -> PoolingPlan
    private var plans = PlanCache<PoolingPlan>()

    init(_ makePlan: @escaping ([Int]) throws -> PoolingPlan) {
        self.makePlan = makePlan
    }

    /// The plan for inputs of `shape` (prepared once per shape).
    public func plan(for shape: [Int]) throws -> PoolingPlan {
        try plans.plan(for: shape) { try makePlan(shape) }
    }

    public func callAsFunction(_ input: Variable) throws -> Variable {
        try Variable.pooling(input, plan: plan(for: input.shape))
    }
}

/// `nn.MaxPool1d`; `stride` defaults to `kernelSize`.
public final class MaxPool1d: PoolingLayer {
    public init(kernelSize: Dims, stride: Dims? = nil, padding: Padding = 0, dilation: Dims = 1, ceilMode: Bool = false) {
        super.init { try PoolingPlan(maxPoolSpatialRank: 1, inputShape: $0, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode) }
    }
}

/// `nn.MaxPool2d`; `stride` defaults to `kernelSize`.
public final class MaxPool2d: PoolingLayer {
    public init(kernelSize: Dims, stride: Dims? = nil, padding: Padding = 0, dilation: Dims = 1, ceilMode: Bool = false) {
        super.init { try PoolingPlan(maxPoolSpatialRank: 2, inputShape: $0, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode) }
    }
}

/// `nn.MaxPool3d`; `stride` defaults to `kernelSize`.
public final class MaxPool3d: PoolingLayer {
    public init(kernelSize: Dims, stride: Dims? = nil, padding: Padding = 0, dilation: Dims = 1, ceilMode: Bool = false) {
        super.init { try PoolingPlan(maxPoolSpatialRank: 3, inputShape: $0, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode) }
    }
}

/// `nn.AvgPool1d`.
public final class AvgPool1d: PoolingLayer {
    public init(kernelSize: Dims, stride: Dims? = nil, padding: Padding = 0, ceilMode: Bool = false, countIncludePad: Bool = true) {
        super.init { try PoolingPlan(avgPoolSpatialRank: 1, inputShape: $0, kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode, countIncludePad: countIncludePad) }
    }
}

/// `nn.AvgPool2d`.
public final class AvgPool2d: PoolingLayer {
    public init(kernelSize: Dims, stride: Dims? = nil, padding: Padding = 0, ceilMode: Bool = false, countIncludePad: Bool = true,
                divisorOverride: Int? = nil) {
        super.init { try PoolingPlan(avgPoolSpatialRank: 2, inputShape: $0, kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode, countIncludePad: countIncludePad, divisorOverride: divisorOverride) }
    }
}

/// `nn.AvgPool3d`.
public final class AvgPool3d: PoolingLayer {
    public init(kernelSize: Dims, stride: Dims? = nil, padding: Padding = 0, ceilMode: Bool = false, countIncludePad: Bool = true,
                divisorOverride: Int? = nil) {
        super.init { try PoolingPlan(avgPoolSpatialRank: 3, inputShape: $0, kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode, countIncludePad: countIncludePad, divisorOverride: divisorOverride) }
    }
}

/// `nn.AdaptiveAvgPool1d/2d/3d` and `nn.AdaptiveMaxPool1d/2d/3d` (`nil` keeps a dimension's size).
public final class AdaptivePool: PoolingLayer {
    public let isMax: Bool
    public init(spatialRank: Int, max: Bool, outputSize: [Int?]) {
        isMax = max
        super.init { try PoolingPlan(adaptiveSpatialRank: spatialRank, max: max, inputShape: $0, outputSize: outputSize) }
    }
}
