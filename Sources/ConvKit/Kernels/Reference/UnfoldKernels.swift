/// Reference im2col (`unfold`) and col2im (`fold`), adjoint to each other.
///
/// For input `x[N, C, D, H, W]` and column matrix `col[N, C·K, L]` (`K` kernel taps, `L` output
/// positions), `col[n, c·K + k, l] = x[n, c, p]` for every in-bounds tap `(k, p)` of position `l`
/// and 0 elsewhere.
enum ReferenceUnfold {
    /// Calls `body(columnIndex, inputIndex)` for every in-bounds tap.
    @inline(__always)
    static func forEachTerm(batch: Int, channels: Int, _ windows: Windows3D, _ body: (Int, Int) -> Void) {
        let (a0, a1, a2) = (windows.axes[0], windows.axes[1], windows.axes[2])
        let taps = windows.kernelVolume, positions = windows.outputPlane, inPlane = windows.inputPlane
        for plane in 0..<(batch * channels) {
            var l = 0
            for od in 0..<a0.outputSize {
                for oh in 0..<a1.outputSize {
                    for ow in 0..<a2.outputSize {
                        for td in a0.taps(od) {
                            for th in a1.taps(oh) {
                                for tw in a2.taps(ow) {
                                    let k = (a0.tapIndex[td] * a1.kernel + a1.tapIndex[th]) * a2.kernel + a2.tapIndex[tw]
                                    let p = (a0.position[td] * a1.inputSize + a1.position[th]) * a2.inputSize + a2.position[tw]
                                    body((plane * taps + k) * positions + l, plane * inPlane + p)
                                }
                            }
                        }
                        l += 1
                    }
                }
            }
        }
    }

    /// im2col. `columns` is overwritten.
    static func unfold<T: BinaryFloatingPoint>(batch: Int, channels: Int, _ windows: Windows3D,
                                               input: UnsafeBufferPointer<T>, columns: UnsafeMutableBufferPointer<T>) {
        columns.update(repeating: 0)
        forEachTerm(batch: batch, channels: channels, windows) { col, x in columns[col] = input[x] }
    }

    /// col2im: overlapping taps are summed. `output` is overwritten.
    static func fold<T: BinaryFloatingPoint>(batch: Int, channels: Int, _ windows: Windows3D,
                                             columns: UnsafeBufferPointer<T>, output: UnsafeMutableBufferPointer<T>) {
        output.update(repeating: 0)
        forEachTerm(batch: batch, channels: channels, windows) { col, x in output[x] += columns[col] }
    }
}
