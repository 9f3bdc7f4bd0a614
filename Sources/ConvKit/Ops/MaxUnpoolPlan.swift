/// `max_unpool1d/2d/3d`: the partial inverse of max pooling. Each input value is written to
/// the position its index names in a zero output plane of size (default)
/// `(I − 1)·s − 2p + k` per dimension.
public struct MaxUnpoolPlan: Sendable {
    public let op: String
    public let inputShape: [Int]
    public let outputShape: [Int]
    let planes: Int
    let inputPlane: Int
    let outputPlane: Int
    let outputSpatial: [Int]

    /// Prepares the unpooling of `inputShape` (the max pool's output shape). `outputSize`, if
    /// given (spatial sizes, or the full shape), must lie strictly within `stride` of the default.
    public init(spatialRank rank: Int, inputShape: [Int], kernelSize: Dims, stride: Dims? = nil, padding: Dims = 0,
                outputSize: [Int]? = nil) throws {
        let op = "max_unpool\(rank)d"
        let x = try SpatialInput(op: op, shape: inputShape, spatialRank: rank)
        try x.requireNonEmpty(op: op, shape: inputShape)
        let kernel = try checked(kernelSize, "kernel_size", op: op, rank: rank)
        let strides = try stride.map { try checked($0, "stride", op: op, rank: rank) } ?? kernel
        let pads = try checked(padding, "padding", op: op, rank: rank, minimum: 0)
        let defaults = (0..<rank).map { (x.spatial[$0] - 1) * strides[$0] + kernel[$0] - 2 * pads[$0] }
        var sizes = defaults
        if var requested = outputSize {
            if requested.count == rank + 2 { requested = Array(requested.suffix(rank)) }
            guard requested.count == rank else {
                throw ConvKitError.invalidArgument(
                    op: op, "output_size must have \(rank) or \(rank + 2) elements, but got \(outputSize ?? [])")
            }
            for i in 0..<rank where !(defaults[i] - strides[i] < requested[i] && requested[i] < defaults[i] + strides[i]) {
                throw ConvKitError.invalidArgument(
                    op: op, "invalid output_size \(requested): dimension \(i) must be between \(defaults[i] - strides[i]) and \(defaults[i] + strides[i]) (exclusive)")
            }
            sizes = requested
        }
        guard sizes.allSatisfy({ $0 > 0 }) else {
            throw ConvKitError.invalidShape(op: op, "output size \(sizeText(sizes)) must be positive")
        }
        self.op = op
        self.inputShape = inputShape
        self.outputShape = x.outputShape(channels: x.channels, spatial: sizes)
        self.planes = x.batch * x.channels
        self.inputPlane = x.spatial.reduce(1, *)
        self.outputPlane = sizes.reduce(1, *)
        self.outputSpatial = sizes
    }

    private func checkIndices(_ indices: Tensor<Int>) throws {
        try checkShape(indices, inputShape, op: op, argument: "indices")
        if let bad = indices.scalars.first(where: { $0 < 0 || $0 >= outputPlane }) {
            throw ConvKitError.invalidArgument(
                op: op, "found an invalid max index \(bad): indices must lie in [0, \(outputPlane)) for output planes of size \(sizeText(outputSpatial))")
        }
    }

    /// Scatters `input` to the positions in `indices` (the last write wins on duplicates).
    public func forward(_ input: Tensor<Float>, indices: Tensor<Int>) throws -> Tensor<Float> {
        try checkShape(input, inputShape, op: op, argument: "input")
        try checkIndices(indices)
        var output = [Float](repeating: 0, count: planes * outputPlane)
        for plane in 0..<planes {
            for i in 0..<inputPlane {
                output[plane * outputPlane + indices.scalars[plane * inputPlane + i]] = input.scalars[plane * inputPlane + i]
            }
        }
        return Tensor(uncheckedShape: outputShape, scalars: output)
    }

    /// Gathers the output gradient at each index.
    public func backward(gradOutput: Tensor<Float>, indices: Tensor<Int>) throws -> Tensor<Float> {
        try checkShape(gradOutput, outputShape, op: op, argument: "grad_output")
        try checkIndices(indices)
        var gradInput = [Float](repeating: 0, count: planes * inputPlane)
        for plane in 0..<planes {
            for i in 0..<inputPlane {
                gradInput[plane * inputPlane + i] = gradOutput.scalars[plane * outputPlane + indices.scalars[plane * inputPlane + i]]
            }
        }
        return Tensor(uncheckedShape: inputShape, scalars: gradInput)
    }
}
