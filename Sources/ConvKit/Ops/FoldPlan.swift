/// `unfold` (im2col) and `fold` (col2im) between an image `[N, C, spatial…]` and its sliding
/// blocks `[N, C·∏k, L]`, `L = ∏ ⌊(I + 2p − d·(k − 1) − 1) / s⌋ + 1`. Each is the other's
/// adjoint, so each one's backward pass is the other. Batch-free inputs (`[C, …]` and
/// `[C·∏k, L]`) are accepted, as in PyTorch.
public struct FoldPlan: Sendable {
    public let op: String
    /// The image side: unfold's input, fold's output.
    public let imageShape: [Int]
    /// The block side: unfold's output, fold's input.
    public let columnsShape: [Int]
    let batch: Int
    let channels: Int
    let windows: Windows3D

    /// Prepares `unfold` of an image of shape `inputShape` (`spatialRank` 2 is PyTorch's `F.unfold`).
    public init(unfoldInputShape inputShape: [Int], spatialRank: Int = 2, kernelSize: Dims, dilation: Dims = 1,
                padding: Dims = 0, stride: Dims = 1) throws {
        let op = "unfold"
        let x = try SpatialInput(op: op, shape: inputShape, spatialRank: spatialRank)
        try x.requireNonEmpty(op: op, shape: inputShape)
        try self.init(op: op, x: x, imageShape: inputShape, kernelSize: kernelSize, dilation: dilation,
                      padding: padding, stride: stride)
    }

    /// Prepares `fold` of blocks of shape `inputShape` (`[N, C·∏k, L]` or `[C·∏k, L]`) into an
    /// image of spatial size `outputSize`.
    public init(foldInputShape inputShape: [Int], outputSize: Dims, kernelSize: Dims, dilation: Dims = 1,
                padding: Dims = 0, stride: Dims = 1) throws {
        let op = "fold"
        let rank = outputSize.values.count == 1 ? max(kernelSize.values.count, 2) : outputSize.values.count
        guard inputShape.count == 2 || inputShape.count == 3, !inputShape.suffix(2).contains(0) else {
            throw ConvKitError.invalidShape(
                op: op, "expected input of shape [N, C·∏kernel_size, L] or [C·∏kernel_size, L] with non-zero sizes, but got \(inputShape)")
        }
        let kernel = try checked(kernelSize, "kernel_size", op: op, rank: rank)
        let size = try checked(outputSize, "output_size", op: op, rank: rank)
        let taps = kernel.reduce(1, *)
        let rows = inputShape[inputShape.count - 2]
        guard rows % taps == 0 else {
            throw ConvKitError.invalidShape(
                op: op, "input.shape[-2] (\(rows)) must be divisible by the product of kernel_size \(sizeText(kernel)) = \(taps)")
        }
        let batched = inputShape.count == 3
        let imageShape = (batched ? [inputShape[0], rows / taps] : [rows / taps]) + size
        let x = try SpatialInput(op: op, shape: imageShape, spatialRank: rank)
        try self.init(op: op, x: x, imageShape: imageShape, kernelSize: kernelSize, dilation: dilation,
                      padding: padding, stride: stride)
        guard columnsShape == inputShape else {
            throw ConvKitError.invalidShape(
                op: op, "output_size \(sizeText(size)) with kernel_size \(sizeText(kernel)) gives \(windows.outputSizes.suffix(rank).map(String.init).joined(separator: " * ")) = \(windows.outputPlane) sliding blocks, but input.shape[-1] is \(inputShape.last ?? 0)")
        }
    }

    private init(op: String, x: SpatialInput, imageShape: [Int], kernelSize: Dims, dilation: Dims,
                 padding: Dims, stride: Dims) throws {
        let rank = x.spatial.count
        let kernel = try checked(kernelSize, "kernel_size", op: op, rank: rank)
        let dilations = try checked(dilation, "dilation", op: op, rank: rank)
        let pads = try checked(padding, "padding", op: op, rank: rank, minimum: 0)
        let strides = try checked(stride, "stride", op: op, rank: rank)
        let blocks = (0..<rank).map {
            OutputSize.convolution(input: x.spatial[$0], kernel: kernel[$0], stride: strides[$0],
                                   padLow: pads[$0], padHigh: pads[$0], dilation: dilations[$0])
        }
        guard blocks.allSatisfy({ $0 >= 1 }) else {
            throw ConvKitError.invalidShape(
                op: op, "spatial size \(sizeText(x.spatial)) with kernel_size \(sizeText(kernel)), dilation \(sizeText(dilations)), padding \(sizeText(pads)), stride \(sizeText(strides)) gives \(sizeText(blocks)) sliding blocks; each must be at least 1")
        }
        self.op = op
        self.imageShape = imageShape
        self.batch = x.batch
        self.channels = x.channels
        self.windows = Windows3D((0..<rank).map {
            WindowAxis(input: x.spatial[$0], output: blocks[$0], kernel: kernel[$0], stride: strides[$0],
                       dilation: dilations[$0], padLow: pads[$0], padHigh: pads[$0])
        })
        let rows = x.channels * kernel.reduce(1, *), positions = blocks.reduce(1, *)
        self.columnsShape = x.batched ? [x.batch, rows, positions] : [rows, positions]
    }

    /// im2col: `[N, C, spatial…]` → `[N, C·∏k, L]`.
    public func unfold(_ image: Tensor<Float>) throws -> Tensor<Float> { try columns(of: image) }

    /// col2im: `[N, C·∏k, L]` → `[N, C, spatial…]`, summing overlapping blocks.
    public func fold(_ columns: Tensor<Float>) throws -> Tensor<Float> { try image(of: columns) }

    func columns<T: BinaryFloatingPoint>(of image: Tensor<T>) throws -> Tensor<T> {
        try checkShape(image, imageShape, op: op, argument: op == "unfold" ? "input" : "grad_output")
        var columns = [T](repeating: 0, count: columnsShape.reduce(1, *))
        image.withUnsafeBufferPointer { x in columns.withUnsafeMutableBufferPointer {
            ReferenceUnfold.unfold(batch: batch, channels: channels, windows, input: x, columns: $0)
        } }
        return Tensor(uncheckedShape: columnsShape, scalars: columns)
    }

    func image<T: BinaryFloatingPoint>(of columns: Tensor<T>) throws -> Tensor<T> {
        try checkShape(columns, columnsShape, op: op, argument: op == "fold" ? "input" : "grad_output")
        var image = [T](repeating: 0, count: imageShape.reduce(1, *))
        columns.withUnsafeBufferPointer { c in image.withUnsafeMutableBufferPointer {
            ReferenceUnfold.fold(batch: batch, channels: channels, windows, columns: c, output: $0)
        } }
        return Tensor(uncheckedShape: imageShape, scalars: image)
    }
}
