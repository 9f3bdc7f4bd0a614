/// Parameter counts, multiply–accumulate counts (MACs) and activation sizes of layers, as pure
/// integer arithmetic. One MAC is one `a·b + c`; a FLOP counter that counts multiplies and adds
/// separately reports twice as many. Bias additions, activations, normalisation and pooling
/// count 0 MACs (they are not multiply–accumulates into a weight).
public enum Cost {
    // MARK: Trainable parameters

    /// `nn.ConvNd`: `C_out · (C_in / groups) · ∏k` weights, plus `C_out` biases.
    ///
    /// For example `Conv2d(3, 16, 3)`: 16·3·9 + 16 = 448.
    public static func convolutionParameters(inChannels: Int, outChannels: Int, kernelSize: [Int], groups: Int = 1,
                                             bias: Bool = true) -> Int {
        outChannels * (inChannels / max(groups, 1)) * kernelSize.reduce(1, *) + (bias ? outChannels : 0)
    }

    /// `nn.ConvTransposeNd`: `C_in · (C_out / groups) · ∏k` weights, plus `C_out` biases.
    public static func transposedConvolutionParameters(inChannels: Int, outChannels: Int, kernelSize: [Int], groups: Int = 1,
                                                       bias: Bool = true) -> Int {
        inChannels * (outChannels / max(groups, 1)) * kernelSize.reduce(1, *) + (bias ? outChannels : 0)
    }

    /// `nn.Linear`: `in · out` weights plus `out` biases.
    public static func linearParameters(inFeatures: Int, outFeatures: Int, bias: Bool = true) -> Int {
        inFeatures * outFeatures + (bias ? outFeatures : 0)
    }

    /// `nn.BatchNormNd`: `2·C` (weight and bias) when `affine`, else 0. The running mean,
    /// variance and batch count are buffers, not parameters.
    public static func batchNormParameters(numFeatures: Int, affine: Bool = true) -> Int {
        affine ? 2 * numFeatures : 0
    }

    // MARK: Multiply–accumulates

    /// Convolution: `N · C_out · ∏out · (C_in / groups) · ∏k` — every output element is a dot
    /// product of `(C_in / groups)·∏k` weights with inputs (padding included).
    public static func convolutionMACs(batch: Int, inChannels: Int, outChannels: Int, outputSize: [Int], kernelSize: [Int],
                                       groups: Int = 1) -> Int {
        batch * outChannels * outputSize.reduce(1, *) * (inChannels / max(groups, 1)) * kernelSize.reduce(1, *)
    }

    /// Transposed convolution: `N · C_in · ∏in · (C_out / groups) · ∏k` — every input element is
    /// scattered through `(C_out / groups)·∏k` weights.
    public static func transposedConvolutionMACs(batch: Int, inChannels: Int, outChannels: Int, inputSize: [Int],
                                                 kernelSize: [Int], groups: Int = 1) -> Int {
        batch * inChannels * inputSize.reduce(1, *) * (outChannels / max(groups, 1)) * kernelSize.reduce(1, *)
    }

    /// Linear: `N · out · in`, where `N` is the number of rows (the product of every input
    /// dimension but the last).
    public static func linearMACs(rows: Int, inFeatures: Int, outFeatures: Int) -> Int {
        rows * outFeatures * inFeatures
    }

    /// MACs of a weighted layer's backward pass: the weight gradient costs as much as the
    /// forward pass (`∂L/∂W = x ⋆ δ`), and so does the input gradient (`∂L/∂x`, a transposed
    /// convolution of `δ` with `W`) — which autograd skips when nothing before the layer needs a
    /// gradient (the first weighted layer of a network).
    ///
    /// - Parameters:
    ///   - forward: the layer's forward MACs.
    ///   - needsInputGradient: whether some earlier layer has trainable parameters.
    public static func backwardMACs(forward: Int, needsInputGradient: Bool) -> Int {
        needsInputGradient ? 2 * forward : forward
    }

    // MARK: Memory

    /// Elements of an activation of shape `shape`: `∏ shape`.
    public static func elements(_ shape: [Int]) -> Int {
        shape.reduce(1, *)
    }
}
