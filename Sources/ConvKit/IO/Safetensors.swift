import Foundation

/// A tensor in a checkpoint: float32 values or int64 counters (as PyTorch stores `num_batches_tracked`).
public enum StateTensor: Equatable, Sendable {
    case float32(Tensor<Float>)
    case int64(Tensor<Int>)

    public var shape: [Int] {
        switch self {
        case let .float32(t): return t.shape
        case let .int64(t): return t.shape
        }
    }
}

/// The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
/// `{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, …}`, then the data.
public enum Safetensors {
    /// Encodes tensors (in the given order) as a safetensors file.
    public static func encode(_ tensors: [(name: String, tensor: StateTensor)], metadata: [String: String] = [:]) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var payload = Data()
        for (name, tensor) in tensors {
            let begin = payload.count
            switch tensor {
            case let .float32(t): Float.npyEncode(t.scalars, into: &payload)
            case let .int64(t): Int.npyEncode(t.scalars, into: &payload)
            }
            header[name] = ["dtype": tensor.dtypeName, "shape": tensor.shape, "data_offsets": [begin, payload.count]] as [String: Any]
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        json.append(contentsOf: Array(repeating: UInt8(ascii: " "), count: (8 - json.count % 8) % 8))
        var data = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        return data + json + payload
    }

    /// Writes a safetensors file atomically.
    public static func write(_ tensors: [(name: String, tensor: StateTensor)], to url: URL, metadata: [String: String] = [:]) throws {
        try AtomicFile.write([(url, try encode(tensors, metadata: metadata))])
    }

    /// Reads every tensor of a safetensors file (F32, F64 → float32; I64, I32 → int64).
    public static func read(_ url: URL) throws -> [String: StateTensor] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ConvKitError.file(path: url.path, message: "cannot read file (\(error.localizedDescription))")
        }
        return try decode(data, name: url.path)
    }

    public static func decode(_ data: Data, name: String = "safetensors data") throws -> [String: StateTensor] {
        func fail(_ message: String) -> ConvKitError { .file(path: name, message: message) }
        let bytes = [UInt8](data)
        guard bytes.count >= 8 else { throw fail("corrupt safetensors header: file shorter than 8 bytes") }
        let length = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << (8 * UInt64($1)) }
        guard length <= UInt64(bytes.count - 8) else {
            throw fail("corrupt safetensors header: announces \(length) header bytes, file has \(bytes.count - 8)")
        }
        let headerEnd = 8 + Int(length)
        guard let header = try? JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd])) as? [String: Any] else {
            throw fail("corrupt safetensors header: not a JSON object")
        }
        let payload = bytes[headerEnd...]
        var result: [String: StateTensor] = [:]
        for (key, entry) in header where key != "__metadata__" {
            guard let info = entry as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2,
                  shape.allSatisfy({ $0 >= 0 })
            else { throw fail("corrupt safetensors header: entry '\(key)' lacks dtype, shape or data_offsets") }
            let count = shape.reduce(1, *)
            let itemSize = ["F32": 4, "F64": 8, "I64": 8, "I32": 4][dtype]
            guard let itemSize else { throw fail("tensor '\(key)' has dtype \(dtype); F32, F64, I64 and I32 are supported") }
            guard offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= payload.count, offsets[1] - offsets[0] == count * itemSize else {
                throw fail("corrupt safetensors header: tensor '\(key)' of shape \(shape) (\(dtype)) has data_offsets \(offsets) but the data holds \(payload.count) bytes")
            }
            let tensor: StateTensor = Array(payload.dropFirst(offsets[0]).prefix(offsets[1] - offsets[0])).withUnsafeBytes { slice in
                switch dtype {
                case "F32", "F64":
                    let values = Float.npyDecode(descr: dtype == "F32" ? "<f4" : "<f8", bytes: slice, count: count) ?? []
                    return .float32(Tensor(uncheckedShape: shape, scalars: values))
                default:
                    let values = Int.npyDecode(descr: dtype == "I64" ? "<i8" : "<i4", bytes: slice, count: count) ?? []
                    return .int64(Tensor(uncheckedShape: shape, scalars: values))
                }
            }
            result[key] = tensor
        }
        return result
    }
}

extension StateTensor {
    var dtypeName: String {
        switch self {
        case .float32: return "F32"
        case .int64: return "I64"
        }
    }
}

extension Module {
    /// PyTorch's `state_dict()`: each module's parameters, then its buffers, then its children's,
    /// by dotted name.
    public func stateDict(prefix: String = "") -> [(name: String, tensor: StateTensor)] {
        parameters.map { (prefix + $0.name, .float32($0.variable.value)) }
            + buffers.map { name, buffer in
                (prefix + name, buffer.dtype == .int64
                    ? .int64(Tensor(uncheckedShape: buffer.variable.shape, scalars: buffer.variable.value.scalars.map { Int($0) }))
                    : .float32(buffer.variable.value))
            }
            + children.flatMap { $0.module.stateDict(prefix: prefix + $0.name + ".") }
    }

    /// PyTorch's strict `load_state_dict`: every key must be present with the right shape, and no other.
    public func loadStateDict(_ state: [String: StateTensor]) throws {
        var targets: [String: (Variable, Buffer.DType)] = [:]
        for (name, variable) in namedParameters() { targets[name] = (variable, .float32) }
        for (name, buffer) in namedBuffers() { targets[name] = (buffer.variable, buffer.dtype) }
        if let missing = targets.keys.sorted().first(where: { state[$0] == nil }) {
            throw ConvKitError.file(path: "state_dict", message: "missing key '\(missing)' (shape \(targets[missing]!.0.shape))")
        }
        if let unexpected = state.keys.sorted().first(where: { targets[$0] == nil }) {
            throw ConvKitError.file(path: "state_dict", message: "unexpected key '\(unexpected)' (shape \(state[unexpected]!.shape))")
        }
        for (name, (variable, _)) in targets {
            let tensor = state[name]!
            guard tensor.shape == variable.shape else {
                throw ConvKitError.file(path: "state_dict",
                                        message: "size mismatch for '\(name)': the checkpoint has shape \(tensor.shape), the model \(variable.shape)")
            }
        }
        for (name, (variable, _)) in targets {
            switch state[name]! {
            case let .float32(t): variable.value = t
            case let .int64(t): variable.value = Tensor(uncheckedShape: t.shape, scalars: t.scalars.map { Float($0) })
            }
        }
    }

    /// Saves `stateDict()` as safetensors (atomically).
    public func save(to url: URL) throws {
        try Safetensors.write(stateDict(), to: url, metadata: ["format": "pt"])
    }

    /// Loads a safetensors checkpoint strictly; errors name the file, the key and the shapes.
    public func load(from url: URL) throws {
        do { try loadStateDict(try Safetensors.read(url)) } catch let ConvKitError.file(_, message) {
            throw ConvKitError.file(path: url.path, message: message)
        }
    }
}
