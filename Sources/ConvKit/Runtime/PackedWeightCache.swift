import Foundation

/// Weights prepared for a kernel (packed GEMM panels, Winograd-transformed weights), cached by the
/// identity of the weight array so that repeated calls with the same weight tensor prepare it once.
///
/// An entry keeps a reference to the weight array it was built from. Swift arrays are
/// copy-on-write, so while the entry lives nobody can change that storage in place: a mutation
/// copies it first, and the copy has another address. Hence an array whose storage has the cached
/// address (and count) holds exactly the cached weights. (When a training step updates weights in
/// place, the cached reference makes that update copy the array once; the next call then packs
/// the new weights — the same work as not caching.)
///
/// The cache keeps the 64 most recently used entries (at most 128 MiB of prepared weights); entries
/// in use stay valid until released, even if evicted. A network's inference calls its layers in a
/// cycle, so with fewer entries than convolution layers every call would miss (ResNet-18 has 20:
/// at 8 entries its inference took twice as long). `Runtime.cachesPreparedWeights = false`
/// turns it off (training loops that update weights in place every step gain nothing from it).
final class PackedWeightCache: @unchecked Sendable {
    static let shared = PackedWeightCache()

    struct Key: Hashable {
        let address: UInt
        let count: Int
        /// What was prepared and how (kind, layout parameters, instruction set).
        let layout: [Int]
    }

    final class Entry: @unchecked Sendable {
        let key: Key
        let source: [Float]
        let pointer: UnsafeMutablePointer<Float>
        let count: Int
        init(key: Key, source: [Float], count: Int) {
            self.key = key
            self.source = source
            self.count = count
            pointer = allocateLargeFloats(max(count, 1))
        }
        deinit { pointer.deallocate() }
    }

    private let lock = NSLock()
    private var entries: [Entry] = []   // least recently used first
    private let capacity = 64
    private let maxBytes = 128 << 20

    /// The prepared form of `weights` for `layout`, built by `build` (into `count` floats) if absent.
    func prepared(_ weights: [Float], layout: [Int], count: Int,
                  build: (UnsafeMutablePointer<Float>) -> Void) -> Entry {
        let address = weights.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
        let key = Key(address: address, count: weights.count, layout: layout)
        lock.lock()
        if let index = entries.firstIndex(where: { $0.key == key }) {
            let entry = entries.remove(at: index)
            entries.append(entry)
            lock.unlock()
            return entry
        }
        lock.unlock()
        let entry = Entry(key: key, source: weights, count: count)
        build(entry.pointer)
        lock.lock()
        entries.removeAll { $0.key == key }
        entries.append(entry)
        var bytes = entries.reduce(0) { $0 + $1.count * MemoryLayout<Float>.stride }
        while entries.count > capacity || (bytes > maxBytes && entries.count > 1) {
            bytes -= entries.removeFirst().count * MemoryLayout<Float>.stride
        }
        lock.unlock()
        return entry
    }

    /// Drops every entry (tests).
    func removeAll() {
        lock.lock()
        entries.removeAll()
        lock.unlock()
    }
}
