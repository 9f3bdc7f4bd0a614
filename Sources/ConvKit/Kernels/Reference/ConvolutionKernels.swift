/// Channel bookkeeping of a grouped convolution (`groups == 1`: dense; `groups == C_in`: depthwise).
struct ConvChannels: Sendable {
    let batch: Int
    let inChannels: Int
    let outChannels: Int
    let groups: Int
    var inPerGroup: Int { inChannels / groups }
    var outPerGroup: Int { outChannels / groups }
}

/// Reference cross-correlation (PyTorch's "convolution") and its two gradients.
///
/// With input `x[N, C_in, D, H, W]`, weight `w[C_out, C_in/groups, kD, kH, kW]` and the
/// window tables of `windows`, channel `oc` of group `g = oc / (C_out/groups)` computes
///
///     y[n, oc, o] = Σ_{ic < C_in/groups} Σ_{(k, p) ∈ taps(o)} x[n, g·C_in/groups + ic, p] · w[oc, ic, k]
///
/// Every function visits exactly these (y, x, w) index triples, so the gradients are the
/// transposes of the forward pass by construction. Transposed convolution reuses them with
/// the roles of input and output exchanged.
enum ReferenceConvolution {
    /// Calls `body(outputIndex, inputIndex, weightIndex)` for every term of the sum above.
    @inline(__always)
    static func forEachTerm(_ c: ConvChannels, _ windows: Windows3D, _ body: (Int, Int, Int) -> Void) {
        let (a0, a1, a2) = (windows.axes[0], windows.axes[1], windows.axes[2])
        let inH = a1.inputSize, inW = a2.inputSize
        let kH = a1.kernel, kW = a2.kernel
        let inPlane = windows.inputPlane, outPlane = windows.outputPlane, kernelVolume = windows.kernelVolume
        for n in 0..<c.batch {
            for oc in 0..<c.outChannels {
                let group = oc / c.outPerGroup
                var outIndex = (n * c.outChannels + oc) * outPlane
                for od in 0..<a0.outputSize {
                    for oh in 0..<a1.outputSize {
                        for ow in 0..<a2.outputSize {
                            for icg in 0..<c.inPerGroup {
                                let xBase = (n * c.inChannels + group * c.inPerGroup + icg) * inPlane
                                let wBase = (oc * c.inPerGroup + icg) * kernelVolume
                                for td in a0.taps(od) {
                                    let xd = xBase + a0.position[td] * inH * inW, wd = wBase + a0.tapIndex[td] * kH * kW
                                    for th in a1.taps(oh) {
                                        let xh = xd + a1.position[th] * inW, wh = wd + a1.tapIndex[th] * kW
                                        for tw in a2.taps(ow) {
                                            body(outIndex, xh + a2.position[tw], wh + a2.tapIndex[tw])
                                        }
                                    }
                                }
                            }
                            outIndex += 1
                        }
                    }
                }
            }
        }
    }

    /// `y = x ⋆ w` (without bias). `output` is overwritten.
    static func forward<T: BinaryFloatingPoint>(
        _ c: ConvChannels, _ windows: Windows3D,
        input: UnsafeBufferPointer<T>, weight: UnsafeBufferPointer<T>, output: UnsafeMutableBufferPointer<T>
    ) {
        output.update(repeating: 0)
        forEachTerm(c, windows) { y, x, w in output[y] += input[x] * weight[w] }
    }

    /// `∂L/∂x = Σ ∂L/∂y · w` over the same terms. `gradInput` is overwritten.
    static func backwardInput<T: BinaryFloatingPoint>(
        _ c: ConvChannels, _ windows: Windows3D,
        gradOutput: UnsafeBufferPointer<T>, weight: UnsafeBufferPointer<T>, gradInput: UnsafeMutableBufferPointer<T>
    ) {
        gradInput.update(repeating: 0)
        forEachTerm(c, windows) { y, x, w in gradInput[x] += gradOutput[y] * weight[w] }
    }

    /// `∂L/∂w = Σ ∂L/∂y · x` over the same terms. `gradWeight` is overwritten.
    static func backwardWeight<T: BinaryFloatingPoint>(
        _ c: ConvChannels, _ windows: Windows3D,
        gradOutput: UnsafeBufferPointer<T>, input: UnsafeBufferPointer<T>, gradWeight: UnsafeMutableBufferPointer<T>
    ) {
        gradWeight.update(repeating: 0)
        forEachTerm(c, windows) { y, x, w in gradWeight[w] += gradOutput[y] * input[x] }
    }

    /// Adds `bias[c]` to every element of channel `c` of `[N, C, plane]` data.
    static func addBias<T: BinaryFloatingPoint>(_ bias: UnsafeBufferPointer<T>, to data: UnsafeMutableBufferPointer<T>,
                                                 batch: Int, channels: Int, plane: Int) {
        for n in 0..<batch {
            for ch in 0..<channels {
                let base = (n * channels + ch) * plane
                for i in 0..<plane { data[base + i] += bias[ch] }
            }
        }
    }

    /// `∂L/∂b[c] = Σ_{n, o} ∂L/∂y[n, c, o]`.
    static func biasGradient<T: BinaryFloatingPoint>(_ gradOutput: UnsafeBufferPointer<T>, into gradBias: UnsafeMutableBufferPointer<T>,
                                                      batch: Int, channels: Int, plane: Int) {
        gradBias.update(repeating: 0)
        for n in 0..<batch {
            for ch in 0..<channels {
                let base = (n * channels + ch) * plane
                var sum: T = 0
                for i in 0..<plane { sum += gradOutput[base + i] }
                gradBias[ch] += sum
            }
        }
    }
}
