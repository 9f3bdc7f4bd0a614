/// Ready-made networks.
public enum ModelZoo {
    /// The seeds' MNIST pipeline: Conv 1→32 3×3, ReLU, MaxPool 2, Conv 32→64 3×3, ReLU, MaxPool 2,
    /// Flatten, Linear 1600→10 (34,826 parameters).
    public static func mnistCNN() throws -> Sequential {
        Sequential([
            try Conv2d(inChannels: 1, outChannels: 32, kernelSize: 3), ActivationLayer(.relu), MaxPool2d(kernelSize: 2),
            try Conv2d(inChannels: 32, outChannels: 64, kernelSize: 3), ActivationLayer(.relu), MaxPool2d(kernelSize: 2),
            Flatten(), try Linear(inFeatures: 1600, outFeatures: 10),
        ])
    }
}
