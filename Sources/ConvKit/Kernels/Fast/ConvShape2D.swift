/// The geometry of a 2-D cross-correlation as the fast kernels need it: sizes, stride, dilation
/// and the low padding per axis (the high padding is implied by the output size). 1-D
/// correlations are lifted to `H = 1`; a 3-D one (non-trivial depth) has no `ConvShape2D`.
struct ConvShape2D: Sendable, Equatable {
    let batch: Int
    let inChannels: Int
    let outChannels: Int
    let groups: Int
    let inH: Int, inW: Int
    let outH: Int, outW: Int
    let kH: Int, kW: Int
    let strideH: Int, strideW: Int
    let dilationH: Int, dilationW: Int
    let padTop: Int, padLeft: Int

    init?(_ c: ConvChannels, _ windows: Windows3D) {
        let (d, h, w) = (windows.axes[0], windows.axes[1], windows.axes[2])
        guard d.inputSize == 1, d.outputSize == 1, d.kernel == 1, d.padLow == 0,
              h.stride > 0, w.stride > 0, c.groups > 0 else { return nil }
        batch = c.batch
        inChannels = c.inChannels
        outChannels = c.outChannels
        groups = c.groups
        inH = h.inputSize; inW = w.inputSize
        outH = h.outputSize; outW = w.outputSize
        kH = h.kernel; kW = w.kernel
        strideH = h.stride; strideW = w.stride
        dilationH = h.dilation; dilationW = w.dilation
        padTop = h.padLow; padLeft = w.padLow
    }

    init(batch: Int, inChannels: Int, outChannels: Int, groups: Int, inH: Int, inW: Int, outH: Int, outW: Int,
         kH: Int, kW: Int, strideH: Int, strideW: Int, dilationH: Int, dilationW: Int, padTop: Int, padLeft: Int) {
        self.batch = batch; self.inChannels = inChannels; self.outChannels = outChannels; self.groups = groups
        self.inH = inH; self.inW = inW; self.outH = outH; self.outW = outW; self.kH = kH; self.kW = kW
        self.strideH = strideH; self.strideW = strideW; self.dilationH = dilationH; self.dilationW = dilationW
        self.padTop = padTop; self.padLeft = padLeft
    }

    var inPerGroup: Int { inChannels / groups }
    var outPerGroup: Int { outChannels / groups }
    var inPlane: Int { inH * inW }
    var outPlane: Int { outH * outW }
    var kernelArea: Int { kH * kW }
    /// Multiply-adds of the forward pass.
    var macs: Int { batch * outChannels * outPlane * inPerGroup * kernelArea }
    var isEmpty: Bool { batch == 0 || inChannels == 0 || outChannels == 0 || outPlane == 0 || inPlane == 0 }
    var isPointwise: Bool {
        kH == 1 && kW == 1 && strideH == 1 && strideW == 1 && padTop == 0 && padLeft == 0 && outH == inH && outW == inW
    }
    var isDepthwise: Bool { inPerGroup == 1 }
}
