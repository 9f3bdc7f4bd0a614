/// One layer of a ``ModelDescription``: a PyTorch `nn` module with its constructor arguments,
/// fully typed and with PyTorch's defaults filled in. Containers (`residual`, `parallel`,
/// `sequential`) hold further layers.
///
/// Parameter names follow PyTorch's `state_dict` so that weights can be exchanged: a layer at
/// path `4.body.1` owns `4.body.1.weight`, `4.body.1.running_mean`, …
public indirect enum LayerSpec: Equatable, Sendable {
    /// `nn.Conv1d` / `Conv2d` / `Conv3d`.
    case conv(ConvSpec)
    /// `nn.ConvTranspose1d` / `2d` / `3d`.
    case convTranspose(ConvTransposeSpec)
    /// `nn.MaxPool1d` / `2d` / `3d`.
    case maxPool(MaxPoolSpec)
    /// `nn.AvgPool1d` / `2d` / `3d`.
    case avgPool(AvgPoolSpec)
    /// `nn.AdaptiveAvgPool1d` / `2d` / `3d`.
    case adaptiveAvgPool(AdaptivePoolSpec)
    /// `nn.AdaptiveMaxPool1d` / `2d` / `3d`.
    case adaptiveMaxPool(AdaptivePoolSpec)
    /// `nn.BatchNorm1d` / `2d` / `3d`.
    case batchNorm(BatchNormSpec)
    /// An element-wise activation (`nn.ReLU`, `nn.GELU`, …, `nn.Identity`).
    case activation(Activation)
    /// `nn.Dropout` and `nn.Dropout1d` / `2d` / `3d`.
    case dropout(DropoutSpec)
    /// `nn.Flatten`.
    case flatten(FlattenSpec)
    /// `nn.Linear`.
    case linear(LinearSpec)
    /// `nn.Upsample` (shape only: nearest, linear, bilinear, bicubic, trilinear).
    case upsample(UpsampleSpec)
    /// `nn.ZeroPadNd`, `ConstantPadNd`, `ReflectionPadNd`, `ReplicationPadNd`, `CircularPadNd`.
    case pad(PadSpec)
    /// `nn.LocalResponseNorm` (across channels).
    case localResponseNorm(LocalResponseNormSpec)
    /// `body(x) + shortcut(x)`; an empty shortcut is the identity (so is an empty body).
    case residual(body: [LayerSpec], shortcut: [LayerSpec])
    /// Every branch reads the same input; their outputs are concatenated along the channels
    /// (dimension 1) or added.
    case parallel(merge: MergeMode, branches: [[LayerSpec]])
    /// `nn.Sequential`: the layers one after another.
    case sequential([LayerSpec])

    /// The PyTorch class name (`Conv2d`, `BatchNorm1d`, `Residual`, …), as in the JSON `type`.
    public var typeName: String {
        switch self {
        case let .conv(spec): return "Conv\(spec.spatialRank)d"
        case let .convTranspose(spec): return "ConvTranspose\(spec.spatialRank)d"
        case let .maxPool(spec): return "MaxPool\(spec.spatialRank)d"
        case let .avgPool(spec): return "AvgPool\(spec.spatialRank)d"
        case let .adaptiveAvgPool(spec): return "AdaptiveAvgPool\(spec.spatialRank)d"
        case let .adaptiveMaxPool(spec): return "AdaptiveMaxPool\(spec.spatialRank)d"
        case let .batchNorm(spec): return "BatchNorm\(spec.spatialRank)d"
        case let .activation(kind): return kind.typeName
        case let .dropout(spec): return spec.featureRank.map { "Dropout\($0)d" } ?? "Dropout"
        case .flatten: return "Flatten"
        case .linear: return "Linear"
        case .upsample: return "Upsample"
        case let .pad(spec): return "\(spec.typeBase)Pad\(spec.spatialRank)d"
        case .localResponseNorm: return "LocalResponseNorm"
        case .residual: return "Residual"
        case .parallel: return "Parallel"
        case .sequential: return "Sequential"
        }
    }
}

/// How ``LayerSpec/parallel(merge:branches:)`` joins its branches.
public enum MergeMode: String, Equatable, Sendable, CaseIterable {
    /// `torch.cat(outputs, dim=1)`: channels add up, every other dimension must agree.
    case concat
    /// `sum(outputs)`: every shape must be equal.
    case add
}

/// `nn.ConvNd(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
/// bias=True, padding_mode='zeros')`. Weight `[C_out, C_in / groups, k…]`, bias `[C_out]`.
///
/// Output size per dimension: `O = ⌊(I + P_low + P_high − d·(k − 1) − 1) / s⌋ + 1`.
public struct ConvSpec: Equatable, Sendable {
    /// 1, 2 or 3 (`Conv1d`, `Conv2d`, `Conv3d`).
    public var spatialRank: Int
    /// `in_channels`: C_in.
    public var inChannels: Int
    /// `out_channels`: C_out.
    public var outChannels: Int
    /// `kernel_size` k, one value per spatial dimension.
    public var kernelSize: Dims
    /// `stride` s, one value per spatial dimension.
    public var stride: Dims
    /// Integers, `(low, high)` pairs, `'same'` (any stride: TensorFlow's rule beyond 1),
    /// `'valid'`, `'full'`, or `'causal'` (`Conv1d`).
    public var padding: Padding
    /// `dilation` d: the kernel spans d·(k − 1) + 1 positions.
    public var dilation: Dims
    /// `groups`: each group of C_in/groups input channels feeds C_out/groups outputs.
    public var groups: Int
    /// `bias`: whether the layer has a bias of C_out (out_features) values.
    public var bias: Bool
    /// `padding_mode`: how the padding is filled.
    public var paddingMode: PaddingMode

    /// With PyTorch's defaults for everything but the required arguments.
    public init(spatialRank: Int, inChannels: Int, outChannels: Int, kernelSize: Dims, stride: Dims = 1, padding: Padding = 0,
                dilation: Dims = 1, groups: Int = 1, bias: Bool = true, paddingMode: PaddingMode = .zeros) {
        self.spatialRank = spatialRank
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        self.bias = bias
        self.paddingMode = paddingMode
    }

    /// `[C_out, C_in / groups, k…]`.
    public var weightShape: [Int] {
        [outChannels, inChannels / max(groups, 1)] + kernelSize.repeated(to: spatialRank)
    }
}

/// `nn.ConvTransposeNd(in_channels, out_channels, kernel_size, stride=1, padding=0,
/// output_padding=0, groups=1, bias=True, dilation=1)`. Weight `[C_in, C_out / groups, k…]`.
///
/// Output size per dimension: `O = (I − 1)·s − P_low − P_high + d·(k − 1) + output_padding + 1`.
public struct ConvTransposeSpec: Equatable, Sendable {
    /// Spatial dimensions: 1, 2 or 3 (the `Nd` of the class name).
    public var spatialRank: Int
    /// `in_channels`: C_in.
    public var inChannels: Int
    /// `out_channels`: C_out.
    public var outChannels: Int
    /// `kernel_size` k, one value per spatial dimension.
    public var kernelSize: Dims
    /// `stride` s, one value per spatial dimension.
    public var stride: Dims
    /// Integers or `(low, high)` pairs.
    public var padding: Padding
    /// `output_padding`: extra outputs at the high end, each < max(stride, dilation).
    public var outputPadding: Dims
    /// `groups`: each group of C_in/groups input channels feeds C_out/groups outputs.
    public var groups: Int
    /// `bias`: whether the layer has a bias of C_out (out_features) values.
    public var bias: Bool
    /// `dilation` d: the kernel spans d·(k − 1) + 1 positions.
    public var dilation: Dims

    /// With PyTorch's defaults for everything but the required arguments.
    public init(spatialRank: Int, inChannels: Int, outChannels: Int, kernelSize: Dims, stride: Dims = 1, padding: Padding = 0,
                outputPadding: Dims = 0, groups: Int = 1, bias: Bool = true, dilation: Dims = 1) {
        self.spatialRank = spatialRank
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
        self.groups = groups
        self.bias = bias
        self.dilation = dilation
    }

    /// `[C_in, C_out / groups, k…]`.
    public var weightShape: [Int] {
        [inChannels, outChannels / max(groups, 1)] + kernelSize.repeated(to: spatialRank)
    }
}

/// `nn.MaxPoolNd(kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False)`;
/// `stride` defaults to `kernel_size`. (`return_indices=True` is not allowed in a layer list.)
public struct MaxPoolSpec: Equatable, Sendable {
    /// Spatial dimensions: 1, 2 or 3 (the `Nd` of the class name).
    public var spatialRank: Int
    /// `kernel_size` k, one value per spatial dimension.
    public var kernelSize: Dims
    /// `stride` s, one value per spatial dimension.
    public var stride: Dims
    /// `padding`: integers, `(low, high)` pairs or a named mode.
    public var padding: Padding
    /// `dilation` d: the kernel spans d·(k − 1) + 1 positions.
    public var dilation: Dims
    /// `ceil_mode`: round the output size up (PyTorch drops a last window starting in the padding).
    public var ceilMode: Bool

    /// With PyTorch's defaults for everything but the required arguments.
    public init(spatialRank: Int, kernelSize: Dims, stride: Dims? = nil, padding: Padding = 0, dilation: Dims = 1,
                ceilMode: Bool = false) {
        self.spatialRank = spatialRank
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        self.dilation = dilation
        self.ceilMode = ceilMode
    }
}

/// `nn.AvgPoolNd(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
/// divisor_override=None)`; `stride` defaults to `kernel_size` (`AvgPool1d` has no divisor_override).
public struct AvgPoolSpec: Equatable, Sendable {
    /// Spatial dimensions: 1, 2 or 3 (the `Nd` of the class name).
    public var spatialRank: Int
    /// `kernel_size` k, one value per spatial dimension.
    public var kernelSize: Dims
    /// `stride` s, one value per spatial dimension.
    public var stride: Dims
    /// `padding`: integers, `(low, high)` pairs or a named mode.
    public var padding: Padding
    /// `ceil_mode`: round the output size up (PyTorch drops a last window starting in the padding).
    public var ceilMode: Bool
    /// `count_include_pad`: divide by the window size including padding.
    public var countIncludePad: Bool
    /// `divisor_override`: divide every window by this instead.
    public var divisorOverride: Int?

    /// With PyTorch's defaults for everything but the required arguments.
    public init(spatialRank: Int, kernelSize: Dims, stride: Dims? = nil, padding: Padding = 0, ceilMode: Bool = false,
                countIncludePad: Bool = true, divisorOverride: Int? = nil) {
        self.spatialRank = spatialRank
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        self.ceilMode = ceilMode
        self.countIncludePad = countIncludePad
        self.divisorOverride = divisorOverride
    }
}

/// `nn.AdaptiveAvgPoolNd(output_size)` / `nn.AdaptiveMaxPoolNd(output_size)`: one size per
/// spatial dimension, `nil` (`None`) keeping that dimension's input size.
public struct AdaptivePoolSpec: Equatable, Sendable {
    /// Spatial dimensions: 1, 2 or 3 (the `Nd` of the class name).
    public var spatialRank: Int
    /// `output_size` per spatial dimension; `nil` keeps the input size.
    public var outputSize: [Int?]

    /// With PyTorch's defaults for everything but the required arguments.
    public init(spatialRank: Int, outputSize: [Int?]) {
        self.spatialRank = spatialRank
        self.outputSize = outputSize.count == 1 ? Array(repeating: outputSize[0], count: spatialRank) : outputSize
    }
}

/// `nn.BatchNormNd(num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True)`.
/// Parameters `weight`, `bias` (when affine); buffers `running_mean`, `running_var`,
/// `num_batches_tracked` (when tracking).
public struct BatchNormSpec: Equatable, Sendable {
    /// 1, 2 or 3: `BatchNorm1d` takes `[N, C]` or `[N, C, L]`, `2d` `[N, C, H, W]`, `3d` `[N, C, D, H, W]`.
    public var spatialRank: Int
    /// `num_features`: C, the channels normalised.
    public var numFeatures: Int
    /// `eps`: added to the variance.
    public var eps: Double
    /// `nil` is PyTorch's `None` (a cumulative average).
    public var momentum: Double?
    /// `affine`: learnable `weight` and `bias` (2·C parameters).
    public var affine: Bool
    /// `track_running_stats`: keep `running_mean`, `running_var` and `num_batches_tracked`.
    public var trackRunningStats: Bool

    /// With PyTorch's defaults for everything but the required arguments.
    public init(spatialRank: Int, numFeatures: Int, eps: Double = 1e-5, momentum: Double? = 0.1, affine: Bool = true,
                trackRunningStats: Bool = true) {
        self.spatialRank = spatialRank
        self.numFeatures = numFeatures
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.trackRunningStats = trackRunningStats
    }
}

/// Element-wise activations (no parameters, shape unchanged).
public enum Activation: Equatable, Sendable {
    case relu
    case relu6
    /// `nn.LeakyReLU(negative_slope=0.01)`.
    case leakyReLU(negativeSlope: Double)
    /// `nn.ELU(alpha=1.0)`.
    case elu(alpha: Double)
    /// `nn.GELU(approximate='none')`; `tanh: true` is `approximate='tanh'`.
    case gelu(tanh: Bool)
    case sigmoid
    case tanh
    /// `nn.SiLU` (swish).
    case silu
    case mish
    case hardswish
    case hardsigmoid
    /// `nn.Softmax(dim=None)`; `nil` is PyTorch's legacy choice (dimension 0 for 0-, 1- and 3-D inputs, else 1).
    case softmax(dim: Int?)
    /// `nn.LogSoftmax(dim=None)`.
    case logSoftmax(dim: Int?)
    case identity

    /// The PyTorch class name.
    public var typeName: String {
        switch self {
        case .relu: return "ReLU"
        case .relu6: return "ReLU6"
        case .leakyReLU: return "LeakyReLU"
        case .elu: return "ELU"
        case .gelu: return "GELU"
        case .sigmoid: return "Sigmoid"
        case .tanh: return "Tanh"
        case .silu: return "SiLU"
        case .mish: return "Mish"
        case .hardswish: return "Hardswish"
        case .hardsigmoid: return "Hardsigmoid"
        case .softmax: return "Softmax"
        case .logSoftmax: return "LogSoftmax"
        case .identity: return "Identity"
        }
    }
}

/// `nn.Dropout(p=0.5)` (any shape) or `nn.Dropout1d/2d/3d(p=0.5)` (whole channels).
public struct DropoutSpec: Equatable, Sendable {
    /// `p`: the probability of zeroing an element (or a channel).
    public var p: Double
    /// `nil` for `nn.Dropout`, 1–3 for `nn.DropoutNd`.
    public var featureRank: Int?

    /// With PyTorch's defaults for everything but the required arguments.
    public init(p: Double = 0.5, featureRank: Int? = nil) {
        self.p = p
        self.featureRank = featureRank
    }
}

/// `nn.Flatten(start_dim=1, end_dim=-1)`.
public struct FlattenSpec: Equatable, Sendable {
    /// `start_dim`: the first dimension flattened (negative counts from the end).
    public var startDim: Int
    /// `end_dim`: the last dimension flattened (negative counts from the end).
    public var endDim: Int

    /// With PyTorch's defaults for everything but the required arguments.
    public init(startDim: Int = 1, endDim: Int = -1) {
        self.startDim = startDim
        self.endDim = endDim
    }
}

/// `nn.Linear(in_features, out_features, bias=True)` on the last dimension. Weight `[out, in]`.
public struct LinearSpec: Equatable, Sendable {
    /// `in_features`: the size of the input's last dimension.
    public var inFeatures: Int
    /// `out_features`: the size of the output's last dimension.
    public var outFeatures: Int
    /// `bias`: whether the layer has a bias of C_out (out_features) values.
    public var bias: Bool

    /// With PyTorch's defaults for everything but the required arguments.
    public init(inFeatures: Int, outFeatures: Int, bias: Bool = true) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.bias = bias
    }
}

/// `nn.Upsample(size=None, scale_factor=None, mode='nearest', align_corners=None)`: exactly one
/// of `size` and `scaleFactor`; output size `size`, or `⌊I · scale_factor⌋`.
public struct UpsampleSpec: Equatable, Sendable {
    /// `mode` of `nn.Upsample`.
    public enum Mode: String, Equatable, Sendable, CaseIterable {
        case nearest, linear, bilinear, bicubic, trilinear
        case nearestExact = "nearest-exact"

        /// The input rank (`[N, C, …]`) the mode requires, if it requires one.
        var requiredSpatialRank: Int? {
            switch self {
            case .linear: return 1
            case .bilinear, .bicubic: return 2
            case .trilinear: return 3
            case .nearest, .nearestExact: return nil
            }
        }
    }

    /// One size for every spatial dimension, or one each.
    public var size: [Int]?
    /// One factor for every spatial dimension, or one each.
    public var scaleFactor: [Double]?
    /// `mode`: the interpolation.
    public var mode: Mode
    /// `align_corners` (interpolating modes only).
    public var alignCorners: Bool?

    /// With PyTorch's defaults for everything but the required arguments.
    public init(size: [Int]? = nil, scaleFactor: [Double]? = nil, mode: Mode = .nearest, alignCorners: Bool? = nil) {
        self.size = size
        self.scaleFactor = scaleFactor
        self.mode = mode
        self.alignCorners = alignCorners
    }
}

/// `nn.ZeroPadNd(padding)`, `nn.ConstantPadNd(padding, value)`, `nn.ReflectionPadNd(padding)`,
/// `nn.ReplicationPadNd(padding)`, `nn.CircularPadNd(padding)`: ``pad(_:_:mode:value:)`` on the
/// spatial dimensions; negative amounts crop (constant mode).
public struct PadSpec: Equatable, Sendable {
    /// Spatial dimensions: 1, 2 or 3 (the `Nd` of the class name).
    public var spatialRank: Int
    /// `F.pad`'s list, last dimension first: `[left, right]`, `[left, right, top, bottom]`, …
    /// (2 × `spatialRank` entries).
    public var pad: [Int]
    /// How the border is filled.
    public var mode: PadMode
    /// The fill value of constant padding (`ZeroPadNd`: 0).
    public var value: Double

    /// With PyTorch's defaults for everything but the required arguments.
    public init(spatialRank: Int, pad: [Int], mode: PadMode = .constant, value: Double = 0) {
        self.spatialRank = spatialRank
        self.pad = pad.count == 1 ? Array(repeating: pad[0], count: 2 * spatialRank) : pad
        self.mode = mode
        self.value = value
    }

    /// The padding before each spatial dimension, in dimension order.
    public var low: [Int] {
        (0..<spatialRank).map { dimension in
            let index = 2 * (spatialRank - 1 - dimension)
            return pad.indices.contains(index) ? pad[index] : 0
        }
    }

    /// `Zero`, `Constant`, `Reflection`, `Replication` or `Circular`.
    var typeBase: String {
        switch mode {
        case .constant: return value == 0 ? "Zero" : "Constant"
        case .reflect: return "Reflection"
        case .replicate: return "Replication"
        case .circular: return "Circular"
        }
    }
}

/// `nn.LocalResponseNorm(size, alpha=1e-4, beta=0.75, k=1.0)`: normalises each element by its
/// `size` neighbouring channels.
public struct LocalResponseNormSpec: Equatable, Sendable {
    /// `size`: the number of neighbouring channels.
    public var size: Int
    /// `alpha`: the multiplicative factor.
    public var alpha: Double
    /// `beta`: the exponent.
    public var beta: Double
    /// `k`: the additive factor.
    public var k: Double

    /// With PyTorch's defaults for everything but the required arguments.
    public init(size: Int, alpha: Double = 1e-4, beta: Double = 0.75, k: Double = 1) {
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k
    }
}

extension Dims {
    /// The values for `rank` dimensions (a single value repeated; other counts unchanged).
    func repeated(to rank: Int) -> [Int] {
        values.count == 1 ? Array(repeating: values[0], count: rank) : values
    }
}
