/// One spatial dimension of a sliding-window op, as a table: for every output index, the
/// kernel taps that land inside the input and the input positions they read.
///
/// Convolution, pooling, unfold/fold and their gradients all walk these tables, so the
/// border rules (padding, dilation, clipped windows) live in one place and the kernels need
/// no bounds checks.
struct WindowAxis: Sendable {
    let inputSize: Int
    let outputSize: Int
    /// Number of kernel taps (`k`); for adaptive windows, the largest window.
    let kernel: Int
    /// The window parameters (`stride` 0 for adaptive windows), for kernels that compute taps
    /// arithmetically instead of walking the tables.
    let stride: Int
    let dilation: Int
    let padLow: Int
    let padHigh: Int
    /// `taps[start[o]..<start[o + 1]]` are output `o`'s (tap, input position) pairs.
    private(set) var start: [Int]
    private(set) var tapIndex: [Int]
    private(set) var position: [Int]
    /// Per output, the window size that average pooling with `count_include_pad` divides by:
    /// the window clipped to the padded input `[−P_low, I + P_high)`.
    private(set) var paddedExtent: [Int]

    /// A strided, dilated window starting at `o·s − P_low`.
    init(input: Int, output: Int, kernel: Int, stride: Int, dilation: Int, padLow: Int, padHigh: Int) {
        inputSize = input
        outputSize = output
        self.kernel = kernel
        self.stride = stride
        self.dilation = dilation
        self.padLow = padLow
        self.padHigh = padHigh
        start = [0]
        tapIndex = []
        position = []
        paddedExtent = []
        // Every plan builds these tables: reserved once rather than grown (a plan's largest cost).
        start.reserveCapacity(output + 1)
        tapIndex.reserveCapacity(output * kernel)
        position.reserveCapacity(output * kernel)
        paddedExtent.reserveCapacity(output)
        for o in 0..<output {
            let first = o * stride - padLow
            for k in 0..<kernel {
                let p = first + k * dilation
                if p >= 0 && p < input {
                    tapIndex.append(k)
                    position.append(p)
                }
            }
            start.append(tapIndex.count)
            paddedExtent.append(min(first + kernel, input + padHigh) - first)
        }
    }

    /// An adaptive window: output `o` covers `[⌊o·I/O⌋, ⌈(o+1)·I/O⌉)`.
    init(adaptiveInput input: Int, output: Int) {
        inputSize = input
        outputSize = output
        stride = 0
        dilation = 1
        padLow = 0
        padHigh = 0
        start = [0]
        tapIndex = []
        position = []
        paddedExtent = []
        var widest = 0
        for o in 0..<output {
            let first = (o * input) / output
            let end = ((o + 1) * input + output - 1) / output
            for p in first..<end {
                tapIndex.append(p - first)
                position.append(p)
            }
            start.append(tapIndex.count)
            paddedExtent.append(end - first)
            widest = max(widest, end - first)
        }
        kernel = widest
    }

    /// A dimension of size 1 with a 1-tap kernel: how lower-rank ops are lifted to three dimensions.
    static let trivial = WindowAxis(input: 1, output: 1, kernel: 1, stride: 1, dilation: 1, padLow: 0, padHigh: 0)

    /// Output `o`'s taps as a range into `tapIndex` / `position`.
    @inline(__always) func taps(_ o: Int) -> Range<Int> { start[o]..<start[o + 1] }
}

/// The three (lifted) spatial axes of a window op: depth, height, width.
/// A 1-D op uses `[trivial, trivial, L]`, a 2-D op `[trivial, H, W]`.
struct Windows3D: Sendable {
    var axes: [WindowAxis]

    /// Lifts `rank` (1…3) axes to three.
    init(_ axes: [WindowAxis]) {
        self.axes = Array(repeating: .trivial, count: 3 - axes.count) + axes
    }

    var inputSizes: [Int] { axes.map(\.inputSize) }
    var outputSizes: [Int] { axes.map(\.outputSize) }
    var kernelSizes: [Int] { axes.map(\.kernel) }
    var inputPlane: Int { inputSizes.reduce(1, *) }
    var outputPlane: Int { outputSizes.reduce(1, *) }
    var kernelVolume: Int { kernelSizes.reduce(1, *) }
}
