// The functional API: PyTorch's `torch.nn.functional` names, arguments and defaults. Each
// function prepares a plan (argument checks, output shape, window tables) and runs it; keep
// the plan instead when calling the same op repeatedly or when you need its backward pass.

// MARK: Convolution

/// 1-D convolution (cross-correlation) of `input [N, C_in, L]` (or `[C_in, L]`) with
/// `weight [C_out, C_in/groups, k]`: `L_out = ⌊(L + P_low + P_high − d·(k − 1) − 1) / s⌋ + 1`.
/// `padding` also accepts `.same` (any stride), `.valid`, `.causal` and `.asymmetric`.
public func conv1d(_ input: Tensor<Float>, weight: Tensor<Float>, bias: Tensor<Float>? = nil, stride: Dims = 1,
                   padding: Padding = 0, dilation: Dims = 1, groups: Int = 1,
                   paddingMode: PaddingMode = .zeros) throws -> Tensor<Float> {
    try ConvolutionPlan(spatialRank: 1, inputShape: input.shape, weightShape: weight.shape, hasBias: bias != nil, stride: stride,
                        padding: padding, dilation: dilation, groups: groups, paddingMode: paddingMode)
        .forward(input, weight: weight, bias: bias)
}

/// 2-D convolution of `input [N, C_in, H, W]` (or `[C_in, H, W]`) with
/// `weight [C_out, C_in/groups, kH, kW]`; per dimension `O = ⌊(I + 2p − d·(k − 1) − 1) / s⌋ + 1`.
/// `groups == C_in` is a depthwise convolution. `padding` also accepts `.same` (any stride),
/// `.valid` and `.asymmetric`; `paddingMode` is `nn.Conv2d`'s.
public func conv2d(_ input: Tensor<Float>, weight: Tensor<Float>, bias: Tensor<Float>? = nil, stride: Dims = 1,
                   padding: Padding = 0, dilation: Dims = 1, groups: Int = 1,
                   paddingMode: PaddingMode = .zeros) throws -> Tensor<Float> {
    try ConvolutionPlan(spatialRank: 2, inputShape: input.shape, weightShape: weight.shape, hasBias: bias != nil, stride: stride,
                        padding: padding, dilation: dilation, groups: groups, paddingMode: paddingMode)
        .forward(input, weight: weight, bias: bias)
}

/// 3-D convolution of `input [N, C_in, D, H, W]` (or `[C_in, D, H, W]`) with
/// `weight [C_out, C_in/groups, kD, kH, kW]`; sizes as ``conv2d(_:weight:bias:stride:padding:dilation:groups:paddingMode:)``.
public func conv3d(_ input: Tensor<Float>, weight: Tensor<Float>, bias: Tensor<Float>? = nil, stride: Dims = 1,
                   padding: Padding = 0, dilation: Dims = 1, groups: Int = 1,
                   paddingMode: PaddingMode = .zeros) throws -> Tensor<Float> {
    try ConvolutionPlan(spatialRank: 3, inputShape: input.shape, weightShape: weight.shape, hasBias: bias != nil, stride: stride,
                        padding: padding, dilation: dilation, groups: groups, paddingMode: paddingMode)
        .forward(input, weight: weight, bias: bias)
}

/// 1-D transposed convolution of `input [N, C_in, L]` with `weight [C_in, C_out/groups, k]`:
/// `L_out = (L − 1)·s − 2p + d·(k − 1) + output_padding + 1`.
public func convTranspose1d(_ input: Tensor<Float>, weight: Tensor<Float>, bias: Tensor<Float>? = nil, stride: Dims = 1,
                            padding: Padding = 0, outputPadding: Dims = 0, groups: Int = 1,
                            dilation: Dims = 1) throws -> Tensor<Float> {
    try ConvolutionPlan(transposedSpatialRank: 1, inputShape: input.shape, weightShape: weight.shape, hasBias: bias != nil,
                        stride: stride, padding: padding, outputPadding: outputPadding, groups: groups, dilation: dilation)
        .forward(input, weight: weight, bias: bias)
}

/// 2-D transposed convolution of `input [N, C_in, H, W]` with `weight [C_in, C_out/groups, kH, kW]`:
/// per dimension `O = (I − 1)·s − 2p + d·(k − 1) + output_padding + 1`.
public func convTranspose2d(_ input: Tensor<Float>, weight: Tensor<Float>, bias: Tensor<Float>? = nil, stride: Dims = 1,
                            padding: Padding = 0, outputPadding: Dims = 0, groups: Int = 1,
                            dilation: Dims = 1) throws -> Tensor<Float> {
    try ConvolutionPlan(transposedSpatialRank: 2, inputShape: input.shape, weightShape: weight.shape, hasBias: bias != nil,
                        stride: stride, padding: padding, outputPadding: outputPadding, groups: groups, dilation: dilation)
        .forward(input, weight: weight, bias: bias)
}

/// 3-D transposed convolution of `input [N, C_in, D, H, W]` with `weight [C_in, C_out/groups, kD, kH, kW]`.
public func convTranspose3d(_ input: Tensor<Float>, weight: Tensor<Float>, bias: Tensor<Float>? = nil, stride: Dims = 1,
                            padding: Padding = 0, outputPadding: Dims = 0, groups: Int = 1,
                            dilation: Dims = 1) throws -> Tensor<Float> {
    try ConvolutionPlan(transposedSpatialRank: 3, inputShape: input.shape, weightShape: weight.shape, hasBias: bias != nil,
                        stride: stride, padding: padding, outputPadding: outputPadding, groups: groups, dilation: dilation)
        .forward(input, weight: weight, bias: bias)
}

// MARK: Pooling

/// Max pooling over `[N, C, L]`; `stride` defaults to `kernelSize`. Indices are in ``PoolingResult``.
public func maxPool1d(_ input: Tensor<Float>, kernelSize: Dims, stride: Dims? = nil, padding: Padding = 0,
                      dilation: Dims = 1, ceilMode: Bool = false) throws -> PoolingResult {
    try PoolingPlan(maxPoolSpatialRank: 1, inputShape: input.shape, kernelSize: kernelSize, stride: stride,
                    padding: padding, dilation: dilation, ceilMode: ceilMode).forward(input)
}

/// Max pooling over `[N, C, H, W]`; `stride` defaults to `kernelSize`. Indices are in ``PoolingResult``.
public func maxPool2d(_ input: Tensor<Float>, kernelSize: Dims, stride: Dims? = nil, padding: Padding = 0,
                      dilation: Dims = 1, ceilMode: Bool = false) throws -> PoolingResult {
    try PoolingPlan(maxPoolSpatialRank: 2, inputShape: input.shape, kernelSize: kernelSize, stride: stride,
                    padding: padding, dilation: dilation, ceilMode: ceilMode).forward(input)
}

/// Max pooling over `[N, C, D, H, W]`; `stride` defaults to `kernelSize`. Indices are in ``PoolingResult``.
public func maxPool3d(_ input: Tensor<Float>, kernelSize: Dims, stride: Dims? = nil, padding: Padding = 0,
                      dilation: Dims = 1, ceilMode: Bool = false) throws -> PoolingResult {
    try PoolingPlan(maxPoolSpatialRank: 3, inputShape: input.shape, kernelSize: kernelSize, stride: stride,
                    padding: padding, dilation: dilation, ceilMode: ceilMode).forward(input)
}

/// Average pooling over `[N, C, L]` (as PyTorch's `avg_pool1d`, without `divisor_override`).
public func avgPool1d(_ input: Tensor<Float>, kernelSize: Dims, stride: Dims? = nil, padding: Padding = 0,
                      ceilMode: Bool = false, countIncludePad: Bool = true) throws -> Tensor<Float> {
    try PoolingPlan(avgPoolSpatialRank: 1, inputShape: input.shape, kernelSize: kernelSize, stride: stride, padding: padding,
                    ceilMode: ceilMode, countIncludePad: countIncludePad).forward(input).output
}

/// Average pooling over `[N, C, H, W]`.
public func avgPool2d(_ input: Tensor<Float>, kernelSize: Dims, stride: Dims? = nil, padding: Padding = 0,
                      ceilMode: Bool = false, countIncludePad: Bool = true, divisorOverride: Int? = nil) throws -> Tensor<Float> {
    try PoolingPlan(avgPoolSpatialRank: 2, inputShape: input.shape, kernelSize: kernelSize, stride: stride, padding: padding,
                    ceilMode: ceilMode, countIncludePad: countIncludePad, divisorOverride: divisorOverride).forward(input).output
}

/// Average pooling over `[N, C, D, H, W]`.
public func avgPool3d(_ input: Tensor<Float>, kernelSize: Dims, stride: Dims? = nil, padding: Padding = 0,
                      ceilMode: Bool = false, countIncludePad: Bool = true, divisorOverride: Int? = nil) throws -> Tensor<Float> {
    try PoolingPlan(avgPoolSpatialRank: 3, inputShape: input.shape, kernelSize: kernelSize, stride: stride, padding: padding,
                    ceilMode: ceilMode, countIncludePad: countIncludePad, divisorOverride: divisorOverride).forward(input).output
}

/// Adaptive average pooling to `outputSize` (`nil` entries keep the input size).
public func adaptiveAvgPool1d(_ input: Tensor<Float>, outputSize: [Int?]) throws -> Tensor<Float> {
    try PoolingPlan(adaptiveSpatialRank: 1, max: false, inputShape: input.shape, outputSize: outputSize).forward(input).output
}

/// Adaptive average pooling to `outputSize` (`nil` entries keep the input size).
public func adaptiveAvgPool2d(_ input: Tensor<Float>, outputSize: [Int?]) throws -> Tensor<Float> {
    try PoolingPlan(adaptiveSpatialRank: 2, max: false, inputShape: input.shape, outputSize: outputSize).forward(input).output
}

/// Adaptive average pooling to `outputSize` (`nil` entries keep the input size).
public func adaptiveAvgPool3d(_ input: Tensor<Float>, outputSize: [Int?]) throws -> Tensor<Float> {
    try PoolingPlan(adaptiveSpatialRank: 3, max: false, inputShape: input.shape, outputSize: outputSize).forward(input).output
}

/// Adaptive max pooling to `outputSize`; indices are in ``PoolingResult``.
public func adaptiveMaxPool1d(_ input: Tensor<Float>, outputSize: [Int?]) throws -> PoolingResult {
    try PoolingPlan(adaptiveSpatialRank: 1, max: true, inputShape: input.shape, outputSize: outputSize).forward(input)
}

/// Adaptive max pooling to `outputSize`; indices are in ``PoolingResult``.
public func adaptiveMaxPool2d(_ input: Tensor<Float>, outputSize: [Int?]) throws -> PoolingResult {
    try PoolingPlan(adaptiveSpatialRank: 2, max: true, inputShape: input.shape, outputSize: outputSize).forward(input)
}

/// Adaptive max pooling to `outputSize`; indices are in ``PoolingResult``.
public func adaptiveMaxPool3d(_ input: Tensor<Float>, outputSize: [Int?]) throws -> PoolingResult {
    try PoolingPlan(adaptiveSpatialRank: 3, max: true, inputShape: input.shape, outputSize: outputSize).forward(input)
}

/// Undoes ``maxPool2d(_:kernelSize:stride:padding:dilation:ceilMode:)`` given its indices: a zero
/// tensor with each value at its index.
public func maxUnpool2d(_ input: Tensor<Float>, indices: Tensor<Int>, kernelSize: Dims, stride: Dims? = nil,
                        padding: Dims = 0, outputSize: [Int]? = nil) throws -> Tensor<Float> {
    try MaxUnpoolPlan(spatialRank: 2, inputShape: input.shape, kernelSize: kernelSize, stride: stride, padding: padding,
                      outputSize: outputSize).forward(input, indices: indices)
}

// MARK: Unfold / fold

/// Extracts sliding blocks (im2col): `[N, C, H, W]` → `[N, C·kH·kW, L]`.
public func unfold(_ input: Tensor<Float>, kernelSize: Dims, dilation: Dims = 1, padding: Dims = 0,
                   stride: Dims = 1) throws -> Tensor<Float> {
    try FoldPlan(unfoldInputShape: input.shape, kernelSize: kernelSize, dilation: dilation, padding: padding,
                 stride: stride).unfold(input)
}

/// Combines sliding blocks into an image (col2im), summing overlaps: `[N, C·kH·kW, L]` → `[N, C, H, W]`.
public func fold(_ input: Tensor<Float>, outputSize: Dims, kernelSize: Dims, dilation: Dims = 1, padding: Dims = 0,
                 stride: Dims = 1) throws -> Tensor<Float> {
    try FoldPlan(foldInputShape: input.shape, outputSize: outputSize, kernelSize: kernelSize, dilation: dilation,
                 padding: padding, stride: stride).fold(input)
}
