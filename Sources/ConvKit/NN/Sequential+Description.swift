extension Sequential {
    /// The network a ``ModelDescription`` describes, initialised as PyTorch initialises it, with
    /// PyTorch's `state_dict` names (`0.weight`, `4.body.1.running_mean`, `5.branches.0.1.weight`).
    /// - Throws: ``ConvKitError`` naming the layer's path (`layers.4.body.0`) for a layer that
    ///   cannot be built (e.g. `Upsample`, which ConvKit describes but does not compute yet).
    public convenience init(description: ModelDescription) throws {
        self.init(try Sequential.build(description.layers, path: "layers"))
    }

    static func build(_ specs: [LayerSpec], path: String) throws -> [any Module] {
        try specs.enumerated().map { index, spec in
            let here = "\(path).\(index)"
            do { return try build(spec, path: here) } catch let error as ConvKitError {
                if case let .invalidArgument(op, message) = error, !op.hasPrefix("layers") {
                    throw ConvKitError.invalidArgument(op: "\(here) (\(spec.typeName))", message: "\(op): \(message)")
                }
                throw error
            }
        }
    }

    private static func build(_ spec: LayerSpec, path: String) throws -> any Module {
        switch spec {
        case let .conv(c):
            return try ConvolutionLayer(rank: c.spatialRank, transposed: false, inChannels: c.inChannels, outChannels: c.outChannels,
                                        kernelSize: c.kernelSize, stride: c.stride, padding: c.padding, outputPadding: 0,
                                        dilation: c.dilation, groups: c.groups, bias: c.bias, paddingMode: c.paddingMode)
        case let .convTranspose(c):
            return try ConvolutionLayer(rank: c.spatialRank, transposed: true, inChannels: c.inChannels, outChannels: c.outChannels,
                                        kernelSize: c.kernelSize, stride: c.stride, padding: c.padding, outputPadding: c.outputPadding,
                                        dilation: c.dilation, groups: c.groups, bias: c.bias, paddingMode: .zeros)
        case let .maxPool(p):
            return PoolingLayer {
                try PoolingPlan(maxPoolSpatialRank: p.spatialRank, inputShape: $0, kernelSize: p.kernelSize, stride: p.stride,
                                padding: p.padding, dilation: p.dilation, ceilMode: p.ceilMode)
            }
        case let .avgPool(p):
            return PoolingLayer {
                try PoolingPlan(avgPoolSpatialRank: p.spatialRank, inputShape: $0, kernelSize: p.kernelSize, stride: p.stride,
                                padding: p.padding, ceilMode: p.ceilMode, countIncludePad: p.countIncludePad,
                                divisorOverride: p.divisorOverride)
            }
        case let .adaptiveAvgPool(p):
            return AdaptivePool(spatialRank: p.spatialRank, max: false, outputSize: p.outputSize)
        case let .adaptiveMaxPool(p):
            return AdaptivePool(spatialRank: p.spatialRank, max: true, outputSize: p.outputSize)
        case let .batchNorm(b):
            return try BatchNormLayer(numFeatures: b.numFeatures, eps: Float(b.eps), momentum: b.momentum.map(Float.init),
                                      affine: b.affine, trackRunningStats: b.trackRunningStats)
        case let .activation(kind):
            return ActivationLayer(kind)
        case let .dropout(d):
            return try Dropout(p: Float(d.p), channelRank: d.featureRank)
        case let .flatten(f):
            return Flatten(startDim: f.startDim, endDim: f.endDim)
        case let .linear(l):
            return try Linear(inFeatures: l.inFeatures, outFeatures: l.outFeatures, bias: l.bias)
        case let .pad(p):
            return PadLayer(pad: p.pad, mode: p.mode, value: Float(p.value))
        case .upsample, .localResponseNorm:
            throw ConvKitError.invalidArgument(op: "\(path) (\(spec.typeName))",
                                               message: "\(spec.typeName) can be analysed (convkit summary) but not yet computed or trained")
        case let .residual(body, shortcut):
            return Residual(body: Sequential(try build(body, path: "\(path).body")),
                            shortcut: Sequential(try build(shortcut, path: "\(path).shortcut")))
        case let .parallel(merge, branches):
            return Parallel(branches: try branches.enumerated().map { Sequential(try build($0.element, path: "\(path).branches.\($0.offset)")) },
                            merge: merge == .concat ? .concat : .add)
        case let .sequential(layers):
            return Sequential(try build(layers, path: path))
        }
    }
}
