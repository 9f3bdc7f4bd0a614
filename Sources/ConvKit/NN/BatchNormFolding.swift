extension Sequential {
    /// An inference copy of this network with every batch normalisation that directly follows a
    /// convolution folded into that convolution.
    ///
    /// A non-transposed `Conv1d/2d/3d` with weight `W` and bias `b` (0 if absent), directly
    /// followed in the same ``Sequential`` by a ``BatchNormLayer`` over its output channels with
    /// running statistics μ, σ², scale γ (1 if not affine), shift β (0 if not affine) and ε,
    /// becomes one convolution with, per output channel `c`,
    ///
    ///     s_c  = γ_c / √(σ²_c + ε)
    ///     W'_c = W_c · s_c
    ///     b'_c = (b_c − μ_c) · s_c + β_c
    ///
    /// and the batch normalisation is removed. This is exactly the evaluation-mode function
    /// `BN(conv(x))`, up to rounding. The folding looks inside ``Residual`` bodies and
    /// shortcuts, ``Parallel`` branches and nested ``Sequential``s.
    ///
    /// The result computes what this network computes in evaluation mode, whatever mode it is in:
    /// ``Dropout`` layers (the identity in evaluation) are left out, a batch normalisation that
    /// cannot be folded (after anything but a convolution, or without running statistics) is
    /// copied in evaluation mode, and every parameter is a constant (`requiresGrad == false`), so
    /// no graph is recorded even with autograd enabled. This network is not changed: layers with
    /// parameters or a mode are copied, and only parameter-free layers (activations, pooling,
    /// padding, flatten) and modules of types ConvKit does not know are shared.
    ///
    /// A `ReLU` or `ReLU6` that directly follows a convolution, and a `ReLU` that directly follows a
    /// ``Residual`` block, is fused into it (``ConvolutionLayer/fusedActivation``,
    /// ``Residual/fusesReLU``): clamped in the same pass as the convolution's output or the block's
    /// sum, instead of one more pass over memory.
    ///
    /// The state_dict names of the result differ from this network's (the folded layers are gone).
    public func foldingBatchNorm() -> Sequential {
        let folded = Sequential(BatchNormFolding.fold(layers))
        folded.isTraining = false
        return folded
    }
}

/// The implementation of ``Sequential/foldingBatchNorm()``.
enum BatchNormFolding {
    /// The inference copies of `layers`, each convolution + batch normalisation pair merged.
    static func fold(_ layers: [any Module]) -> [any Module] {
        var result: [any Module] = []
        var index = layers.startIndex
        while index < layers.endIndex {
            let layer = layers[index]
            let next = index + 1 < layers.endIndex ? layers[index + 1] : nil
            var produced: (any Module)?
            if let conv = layer as? ConvolutionLayer, let norm = next as? BatchNormLayer,
               let merged = merge(conv, norm) {
                produced = merged
                index += 2
            } else {
                produced = inferenceCopy(layer)
                index += 1
            }
            guard let module = produced else { continue }
            // A ReLU (or ReLU6) right after a convolution, or a ReLU after a residual block, runs in the same pass.
            if index < layers.endIndex, let activation = layers[index] as? ActivationLayer {
                if let conv = module as? ConvolutionLayer, let fused = FusedActivation(activation.activation) {
                    conv.fusedActivation = fused
                    index += 1
                } else if let block = module as? Residual, activation.activation == .relu {
                    block.fusesReLU = true
                    index += 1
                }
            }
            result.append(module)
        }
        return result
    }

    /// The convolution computing `norm(conv(x))` in evaluation mode, or nil when the pair cannot
    /// be merged (transposed convolution, other channel count, no running statistics).
    static func merge(_ conv: ConvolutionLayer, _ norm: BatchNormLayer) -> ConvolutionLayer? {
        guard !conv.isTransposed, norm.numFeatures == conv.outChannels,
              let mean = norm.runningMean?.value.scalars, let variance = norm.runningVar?.value.scalars
        else { return nil }
        let channels = conv.outChannels
        let gamma = norm.weight?.value.scalars ?? Array(repeating: 1, count: channels)
        let beta = norm.bias?.value.scalars ?? Array(repeating: 0, count: channels)
        let bias = conv.bias?.value.scalars ?? Array(repeating: 0, count: channels)
        var weight = conv.weight.value.scalars
        let perChannel = weight.count / max(channels, 1)
        var foldedBias = [Float](repeating: 0, count: channels)
        for c in 0..<channels {
            let scale = Double(gamma[c]) / (Double(variance[c]) + Double(norm.eps)).squareRoot()
            for i in (c * perChannel)..<((c + 1) * perChannel) { weight[i] = Float(Double(weight[i]) * scale) }
            foldedBias[c] = Float((Double(bias[c]) - Double(mean[c])) * scale + Double(beta[c]))
        }
        return ConvolutionLayer(copying: conv, weight: Tensor(uncheckedShape: conv.weight.shape, scalars: weight),
                                bias: Tensor(uncheckedShape: [channels], scalars: foldedBias))
    }

    /// `module` for inference: containers folded recursively, layers with parameters or a mode
    /// copied as evaluation-mode constants, dropout left out (nil), the rest shared.
    static func inferenceCopy(_ module: any Module) -> (any Module)? {
        let copy: any Module
        switch module {
        case let sequential as Sequential:
            copy = Sequential(fold(sequential.layers))
        case let residual as Residual:
            copy = Residual(body: Sequential(fold(residual.body.layers)), shortcut: Sequential(fold(residual.shortcut.layers)))
        case let parallel as Parallel:
            let branches = parallel.branches.layers.compactMap { $0 as? Sequential }
            copy = Parallel(branches: branches.map { Sequential(fold($0.layers)) }, merge: parallel.merge)
        case let conv as ConvolutionLayer:
            copy = ConvolutionLayer(copying: conv, weight: conv.weight.value, bias: conv.bias?.value)
        case let linear as Linear:
            copy = Linear(weight: linear.weight.value, bias: linear.bias?.value)
        case let norm as BatchNormLayer:
            copy = BatchNormLayer(copying: norm)
        case is Dropout:
            return nil
        default:
            return module
        }
        copy.isTraining = false
        return copy
    }
}
