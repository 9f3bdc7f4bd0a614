import Foundation

/// A decoded IDX file (the MNIST format): big-endian dimensions, then unsigned bytes.
public struct IDXFile: Sendable {
    public let dimensions: [Int]
    public let bytes: [UInt8]

    /// Reads a `.gz` or uncompressed IDX file of unsigned bytes (type code 0x08).
    public init(url: URL) throws {
        var data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ConvKitError.file(path: url.path, message: "cannot read file (\(error.localizedDescription))")
        }
        if data.starts(with: [0x1F, 0x8B]) { data = try Gzip.decompress(data, name: url.path) }
        try self.init(data: data, name: url.path)
    }

    public init(data: Data, name: String = "IDX data") throws {
        let bytes = [UInt8](data)
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0 else {
            throw ConvKitError.file(path: name, message: "not an IDX file (bad magic number)")
        }
        guard bytes[2] == 0x08 else {
            throw ConvKitError.file(path: name, message: "IDX element type 0x\(String(bytes[2], radix: 16)) is not supported (unsigned bytes, 0x08, are)")
        }
        let rank = Int(bytes[3])
        let headerSize = 4 + 4 * rank
        guard rank > 0, bytes.count >= headerSize else {
            throw ConvKitError.file(path: name, message: "truncated IDX header")
        }
        dimensions = (0..<rank).map { axis in
            (0..<4).reduce(0) { $0 << 8 | Int(bytes[4 + 4 * axis + $1]) }
        }
        let count = dimensions.reduce(1, *)
        guard bytes.count - headerSize >= count else {
            throw ConvKitError.file(path: name, message: "truncated IDX data: dimensions \(dimensions) need \(count) bytes, file has \(bytes.count - headerSize)")
        }
        self.bytes = Array(bytes[headerSize..<(headerSize + count)])
    }
}

/// The MNIST handwritten digits: 28×28 grey images with labels 0–9.
public struct MNIST: Sendable {
    /// The normalisation PyTorch's MNIST examples use.
    public static let mean: Float = 0.1307
    public static let std: Float = 0.3081

    public enum Split: String, Sendable { case train, test }

    /// Raw pixels (0–255), image after image.
    public let pixels: [UInt8]
    public let labels: [Int]
    public let rows: Int
    public let columns: Int
    public var count: Int { labels.count }

    /// Loads `train-*` or `t10k-*` `-images-idx3-ubyte(.gz)` and labels from `directory`.
    public init(directory: URL, split: Split) throws {
        let prefix = split == .train ? "train" : "t10k"
        func file(_ kind: String) -> URL {
            let plain = directory.appendingPathComponent("\(prefix)-\(kind)")
            let gz = plain.appendingPathExtension("gz")
            return FileManager.default.fileExists(atPath: gz.path) ? gz : plain
        }
        let images = try IDXFile(url: file("images-idx3-ubyte"))
        let labels = try IDXFile(url: file("labels-idx1-ubyte"))
        guard images.dimensions.count == 3, labels.dimensions.count == 1, images.dimensions[0] == labels.dimensions[0] else {
            throw ConvKitError.file(path: directory.path,
                                    message: "MNIST \(split.rawValue) images \(images.dimensions) and labels \(labels.dimensions) do not match")
        }
        guard labels.bytes.allSatisfy({ $0 < 10 }) else {
            throw ConvKitError.file(path: directory.path, message: "MNIST labels must be 0–9")
        }
        self.init(pixels: images.bytes, labels: labels.bytes.map(Int.init), rows: images.dimensions[1], columns: images.dimensions[2])
    }

    public init(pixels: [UInt8], labels: [Int], rows: Int, columns: Int) {
        self.pixels = pixels
        self.labels = labels
        self.rows = rows
        self.columns = columns
    }

    /// The first `count` examples.
    public func prefix(_ count: Int) -> MNIST {
        let n = min(count, self.count)
        return MNIST(pixels: Array(pixels[0..<(n * rows * columns)]), labels: Array(labels[0..<n]), rows: rows, columns: columns)
    }

    /// Images `indices` as a normalised `[B, 1, rows, columns]` tensor, `(x / 255 − mean) / std`, and their labels.
    public func batch(_ indices: some Collection<Int>) -> (images: Tensor<Float>, labels: [Int]) {
        let plane = rows * columns
        var values = [Float](repeating: 0, count: indices.count * plane)
        var batchLabels: [Int] = []
        batchLabels.reserveCapacity(indices.count)
        for (slot, index) in indices.enumerated() {
            for p in 0..<plane {
                values[slot * plane + p] = (Float(pixels[index * plane + p]) / 255 - MNIST.mean) / MNIST.std
            }
            batchLabels.append(labels[index])
        }
        return (Tensor(uncheckedShape: [indices.count, 1, rows, columns], scalars: values), batchLabels)
    }

    /// Index batches of `batchSize` (the last may be smaller), shuffled by `generator` if given.
    public func batches(size batchSize: Int, shuffledWith generator: inout RandomGenerator?) -> [ArraySlice<Int>] {
        var order = Array(0..<count)
        if generator != nil { order.shuffle(using: &generator!) }
        return stride(from: 0, to: count, by: max(batchSize, 1)).map { order[$0..<min($0 + batchSize, count)] }
    }
}
