import CConvKitKernels

/// How a ``ConvolutionPlan`` computes. The plan picks one per layer (``ConvolutionPlan/algorithm``);
/// pass one to the plan's initialiser to force it.
public enum ConvAlgorithm: String, Sendable, CaseIterable, CustomStringConvertible {
    /// The reference loops: the correctness oracle; every rank, stride and padding.
    case reference
    /// Implicit im2col + GEMM: input panels are packed per tile of output positions and
    /// multiplied by the weight matrix with a register-tiled micro-kernel (any 1-D/2-D correlation).
    case gemm
    /// 1×1 convolution with stride 1 and no padding: a GEMM reading the input rows directly.
    case pointwise
    /// One input channel per group (depthwise, any channel multiplier): a direct sliding-window
    /// kernel per plane.
    case depthwise
    /// 3×3, stride 1, one group, padding a multiple of the dilation: Winograd F(4×4, 3×3) for the
    /// forward pass (4× fewer multiplies), or F(2×2, 3×3) on small maps such as 7×7 (2.25×), where
    /// 4×4 tiles would be too few to fill the GEMM; a dilated layer runs as one undilated layer per
    /// input phase; rounding within 2·10⁻⁴ of the reference. The GEMM paths serve the gradients.
    case winograd

    public var description: String { rawValue }
}

/// The fast path of one correlation (a ``ConvolutionPlan``'s prepare step picks it): forward and
/// both gradients on flat `Float` storage, computed on the worker pool.
struct FastConvolution: Sendable {
    let shape: ConvShape2D
    let algorithm: ConvAlgorithm

    /// Why a forced algorithm does not apply.
    struct Unsupported: Error { let reason: String }

    /// The algorithm for a correlation, or why a forced one does not apply.
    static func choose(_ shape: ConvShape2D?, forced: ConvAlgorithm?) -> Result<ConvAlgorithm, Unsupported> {
        guard let forced else {
            guard let shape else { return .success(.reference) }
            if shape.isDepthwise && shape.groups > 1 { return .success(.depthwise) }
            if shape.isPointwise { return .success(.pointwise) }
            if WinogradConvolution.isWorthwhile(shape) { return .success(.winograd) }
            return .success(.gemm)
        }
        switch forced {
        case .reference:
            return .success(.reference)
        case .gemm:
            return shape == nil ? .failure(Unsupported(reason: "algorithm 'gemm' supports 1-D and 2-D convolutions only")) : .success(.gemm)
        case .pointwise:
            guard let shape, shape.isPointwise else {
                return .failure(Unsupported(reason: "algorithm 'pointwise' needs a 1-D or 2-D 1×1 kernel with stride 1 and no padding"))
            }
            return .success(.pointwise)
        case .winograd:
            guard let shape, WinogradConvolution.applies(to: shape) else {
                return .failure(Unsupported(reason: "algorithm 'winograd' needs a 3×3 kernel with stride 1, groups 1 and padding a multiple of the dilation in a 1-D or 2-D convolution"))
            }
            return .success(.winograd)
        case .depthwise:
            guard let shape, shape.isDepthwise else {
                return .failure(Unsupported(reason: "algorithm 'depthwise' needs one input channel per group (groups == in_channels) in a 1-D or 2-D convolution"))
            }
            return .success(.depthwise)
        }
    }

    /// `y = x ⋆ w + bias` (bias per output channel, optional), then the fused `activation`, if any. `y` is overwritten. With
    /// `weightStorage` (the array `w` points into), the prepared weights are cached by its identity
    /// (``PackedWeightCache``): repeated calls with the same weight tensor prepare them once.
    func forward(input x: UnsafePointer<Float>, weight w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                 output y: UnsafeMutablePointer<Float>, weightStorage: [Float]? = nil, activation: FusedActivation? = nil) {
        let kernels = Runtime.kernels
        switch algorithm {
        case .depthwise:
            DepthwiseConvolution(shape: shape).forward(input: x, weight: w, bias: bias, output: y, kernels: kernels, activation: activation)
        case .pointwise:
            let problem = pointwiseProblem()
            if PositionRowsGemm.isWorthwhile(problem, kernels: kernels) {
                runPositionRows(PositionRowsGemm(problem: problem), w, weightStorage, src: x, dst: y, bias: bias, activation: activation, kernels: kernels)
                return
            }
            withPackedWeights(problem, w, weightStorage, kernels) { packed in
                problem.run(packedA: packed, src: x, dst: y, bias: bias, kernels: kernels, activation: activation)
            }
        case .winograd:
            WinogradConvolution(shape: shape).forward(input: x, weight: w, bias: bias, output: y, kernels: kernels,
                                                      weightStorage: weightStorage, activation: activation)
        default:
            let source = forwardSource(nr: kernels.nr)
            let problem = forwardProblem(source)
            if PositionRowsGemm.isWorthwhile(problem, kernels: kernels) {
                forwardPositionRows(x, w, weightStorage, y, bias: bias, activation: activation, kernels: kernels)
                return
            }
            BufferCache.shared.with(source.count(batch: shape.batch)) { buffer in
                source.fill(buffer, from: x, batch: shape.batch)
                withPackedWeights(problem, w, weightStorage, kernels) { packed in
                    problem.run(packedA: packed, src: buffer, dst: y, bias: bias, kernels: kernels, activation: activation)
                }
            }
        }
    }

    /// The forward correlation turned around (``PositionRowsGemm``). Its rows read the input planes
    /// unsplit, each position's taps starting `stride` columns and `stride` rows of the plane after its
    /// neighbours': in place when no tap reaches the padding, else from zero-padded rows that each
    /// item stages in its thread's scratch (``PositionRowsGemm/Staging``; plain padded rows are cheaper
    /// than splitting by stride phase, and save the copy when there is no padding; measured, 1 thread:
    /// 3×3 128 stride 2 at 56² 2.29 → 2.20 ms, 1×1 256→512 stride 2 at 28² 0.53 → 0.52 ms).
    private func forwardPositionRows(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ storage: [Float]?,
                                     _ y: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?,
                                     activation: FusedActivation?, kernels: KernelTable) {
        let s = shape
        let rows = (s.outH - 1) * s.strideH + (s.kH - 1) * s.dilationH + 1
        let pitch = (s.outW - 1) * s.strideW + (s.kW - 1) * s.dilationW + 1
        let inPlace = s.padTop == 0 && s.padLeft == 0 && rows <= s.inH && pitch <= s.inW
        let planes = PhaseSplitSource(channels: s.inChannels, srcH: s.inH, srcW: s.inW, sy: 1, sx: 1,
                                      top: s.padTop, left: s.padLeft, phaseY: [0], phaseX: [0],
                                      rows: inPlace ? s.inH : rows, pitch: inPlace ? s.inW : pitch, slack: 0)
        var turned = PositionRowsGemm(problem: forwardProblem(planes))
        turned.rowStep = s.strideH * planes.pitch
        turned.columnStep = s.strideW
        if !inPlace {
            turned.staging = PositionRowsGemm.Staging(planes: planes, rowStride: s.strideH,
                                                      windowRows: (s.kH - 1) * s.dilationH + 1, plane: s.inPlane)
            turned.problem.srcImageStride = s.inChannels * s.inPlane
        }
        runPositionRows(turned, w, storage, src: x, dst: y, bias: bias, activation: activation, kernels: kernels)
    }

    /// Runs a turned-around GEMM (``PositionRowsGemm``), its packed weights cached like A's.
    private func runPositionRows(_ turned: PositionRowsGemm, _ w: UnsafePointer<Float>, _ storage: [Float]?,
                                 src: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?,
                                 activation: FusedActivation?, kernels: KernelTable) {
        let problem = turned.problem
        let layout = [2, problem.m, problem.k, problem.lda, kernels.nr, kernels.isa.rawValue]
        withPrepared(count: turned.packedWeightCount(kernels), layout: layout, storage: storage,
                     build: { turned.packWeights(w, kernels: kernels, into: $0) }) { packed in
            turned.run(packedWeights: packed, src: src, dst: dst, bias: bias, activation: activation, kernels: kernels)
        }
    }

    /// Calls `body` with the problem's A (the weights) packed: from the cache when the weights'
    /// storage is known, else packed into a temporary buffer.
    private func withPackedWeights(_ problem: IndirectGemm, _ w: UnsafePointer<Float>, _ storage: [Float]?,
                                   _ kernels: KernelTable, _ body: (UnsafePointer<Float>) -> Void) {
        let layout = [0, problem.groups, problem.m, problem.k, problem.lda, problem.aGroupStride,
                      problem.rowBlock(kernels), kernels.mr, kernels.isa.rawValue]
        withPrepared(count: problem.groups * problem.m * problem.k, layout: layout, storage: storage,
                     build: { problem.packA(w, kernels: kernels, into: $0) }, body)
    }

    /// Calls `body` with weights prepared by `build` (into `count` floats): cached under `layout`
    /// by the identity of `storage` when it is known, else built into a temporary buffer.
    private func withPrepared(count: Int, layout: [Int], storage: [Float]?, build: (UnsafeMutablePointer<Float>) -> Void,
                              _ body: (UnsafePointer<Float>) -> Void) {
        guard let storage else {
            BufferCache.shared.with(max(count, 1)) { packed in
                build(packed)
                body(packed)
            }
            return
        }
        let entry = PackedWeightCache.shared.prepared(storage, layout: layout, count: max(count, 1), build: build)
        withExtendedLifetime(entry) { body(entry.pointer) }
    }

    /// `∂L/∂x` of the correlation. `gradInput` is overwritten.
    func backwardInput(gradOutput gy: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                       gradInput gx: UnsafeMutablePointer<Float>) {
        let kernels = Runtime.kernels
        switch algorithm {
        case .depthwise:
            DepthwiseConvolution(shape: shape).backwardInput(gradOutput: gy, weight: w, gradInput: gx, kernels: kernels)
        default:
            if let adjoint = winogradAdjoint, WinogradConvolution.isWorthwhile(adjoint, weightsReused: false) {
                // ∂L/∂x = ∂L/∂y ⋆ (weights transposed and flipped), a 3×3 stride-1 correlation too.
                let s = shape, area = s.kernelArea
                BufferCache.shared.with(s.outChannels * s.inChannels * area) { flipped in
                    parallelFor(s.inChannels) { range, _ in
                        for ci in range {
                            for co in 0..<s.outChannels {
                                for t in 0..<area { flipped[(ci * s.outChannels + co) * area + t] = w[(co * s.inChannels + ci) * area + area - 1 - t] }
                            }
                        }
                    }
                    WinogradConvolution(shape: adjoint).forward(input: gy, weight: flipped, bias: nil, output: gx, kernels: kernels)
                }
                return
            }
            GemmGradients(shape: shape).backwardInput(gradOutput: gy, weight: w, gradInput: gx, kernels: kernels)
        }
    }

    /// The input gradient of a 3×3 stride-1 undilated single-group correlation as a correlation
    /// of the output gradient (padding 2 − p on each side), if that is one Winograd computes.
    var winogradAdjoint: ConvShape2D? {
        let s = shape
        guard s.kH == 3, s.kW == 3, s.strideH == 1, s.strideW == 1, s.dilationH == 1, s.dilationW == 1, s.groups == 1,
              s.padTop <= 2, s.padLeft <= 2 else { return nil }
        let adjoint = ConvShape2D(batch: s.batch, inChannels: s.outChannels, outChannels: s.inChannels, groups: 1,
                                  inH: s.outH, inW: s.outW, outH: s.inH, outW: s.inW, kH: 3, kW: 3, strideH: 1, strideW: 1,
                                  dilationH: 1, dilationW: 1, padTop: 2 - s.padTop, padLeft: 2 - s.padLeft)
        return WinogradConvolution.applies(to: adjoint) ? adjoint : nil
    }

    /// `∂L/∂w` of the correlation. `gradWeight` is overwritten.
    func backwardWeight(gradOutput gy: UnsafePointer<Float>, input x: UnsafePointer<Float>,
                        gradWeight gw: UnsafeMutablePointer<Float>) {
        let kernels = Runtime.kernels
        switch algorithm {
        case .depthwise:
            DepthwiseConvolution(shape: shape).backwardWeight(gradOutput: gy, input: x, gradWeight: gw, kernels: kernels)
        default:
            GemmGradients(shape: shape).backwardWeight(gradOutput: gy, input: x, gradWeight: gw, kernels: kernels)
        }
    }

    /// The input, zero-padded and split by stride phase so that each tap reads one contiguous run.
    func forwardSource(nr: Int) -> PhaseSplitSource {
        let s = shape
        let maxDy = (s.kH - 1) * s.dilationH, maxDx = (s.kW - 1) * s.dilationW
        let phaseY = Array(Set((0..<s.kH).map { $0 * s.dilationH % s.strideH })).sorted()
        let phaseX = Array(Set((0..<s.kW).map { $0 * s.dilationW % s.strideW })).sorted()
        let pitch = s.outW + maxDx / s.strideW
        return PhaseSplitSource(channels: s.inChannels, srcH: s.inH, srcW: s.inW, sy: s.strideH, sx: s.strideW,
                                top: s.padTop, left: s.padLeft, phaseY: phaseY, phaseX: phaseX,
                                rows: s.outH + maxDy / s.strideH, pitch: pitch, slack: pitch + 2 * nr)
    }

    /// The forward correlation over `source`: A = weights `[C_out/g, C_in/g·kH·kW]` per group,
    /// taps = (input channel, kh, kw).
    func forwardProblem(_ source: PhaseSplitSource) -> IndirectGemm {
        let s = shape
        var p = IndirectGemm()
        p.batch = s.batch
        p.groups = s.groups
        p.m = s.outPerGroup
        p.k = s.inPerGroup * s.kernelArea
        p.aGroupStride = p.m * p.k
        p.lda = p.k
        p.bOffset.reserveCapacity(p.k)
        for c in 0..<s.inPerGroup {
            for kh in 0..<s.kH {
                for kw in 0..<s.kW {
                    p.bOffset.append(source.offset(channel: c, dyRaw: kh * s.dilationH, dxRaw: kw * s.dilationW))
                }
            }
        }
        p.srcImageStride = source.imageStride
        p.srcGroupStride = s.inPerGroup * source.channelStride
        p.gridH = s.outH
        p.pitch = source.pitch
        p.validW = s.outW
        p.dstImageStride = s.outChannels * s.outPlane
        p.dstGroupStride = s.outPerGroup * s.outPlane
        p.dstRowStride = s.outPlane
        p.dstY = s.outW
        p.dstX = 1
        return p
    }

    /// A 1×1 stride-1 unpadded correlation reads the input planes in place.
    func pointwiseProblem() -> IndirectGemm {
        let s = shape
        var p = IndirectGemm()
        p.batch = s.batch
        p.groups = s.groups
        p.m = s.outPerGroup
        p.k = s.inPerGroup
        p.aGroupStride = p.m * p.k
        p.lda = p.k
        p.bOffset = (0..<p.k).map { $0 * s.inPlane }
        p.srcImageStride = s.inChannels * s.inPlane
        p.srcGroupStride = s.inPerGroup * s.inPlane
        p.gridH = s.outH
        p.pitch = s.outW
        p.validW = s.outW
        p.dstImageStride = s.outChannels * s.outPlane
        p.dstGroupStride = s.outPerGroup * s.outPlane
        p.dstRowStride = s.outPlane
        p.dstY = s.outW
        p.dstX = 1
        p.sourceHasNoSlack = true
        return p
    }
}

/// Adds `bias[c]` to every element of channel `c` of `[N, C, plane]` data, in parallel.
func addBiasFast(_ bias: UnsafePointer<Float>, to data: UnsafeMutablePointer<Float>, batch: Int, channels: Int, plane: Int) {
    parallelFor(batch * channels) { range, _ in
        for item in range {
            let b = bias[item % channels]
            let row = data + item * plane
            for i in 0..<plane { row[i] += b }
        }
    }
}

/// `∂L/∂b[c] = Σ_{n, o} ∂L/∂y[n, c, o]`, in parallel over channels (each sum in a fixed order).
func biasGradientFast(_ gradOutput: UnsafePointer<Float>, into gradBias: UnsafeMutablePointer<Float>,
                      batch: Int, channels: Int, plane: Int) {
    parallelFor(channels) { range, _ in
        for c in range {
            var total: Float = 0
            for n in 0..<batch {
                let row = gradOutput + (n * channels + c) * plane
                var lanes = SIMD8<Float>()
                var i = 0
                while i + 8 <= plane {
                    lanes += UnsafeRawPointer(row + i).loadUnaligned(as: SIMD8<Float>.self)
                    i += 8
                }
                var sum = lanes.sum()
                while i < plane { sum += row[i]; i += 1 }
                total += sum
            }
            gradBias[c] = total
        }
    }
}
