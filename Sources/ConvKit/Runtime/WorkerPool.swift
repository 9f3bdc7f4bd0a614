import CConvKitKernels
import Foundation

/// A persistent pool of worker threads for the fast kernels.
///
/// `run(tasks:_:)` calls `body(t)` once for every `t < tasks`: task 0 on the calling thread, task
/// `t` on worker `t`. Workers spin briefly after a job (a short layer follows a short layer) and
/// then sleep on a condition variable. Every task runs with flush-to-zero and denormals-are-zero
/// set, the caller's task included (its previous mode is restored afterwards), so the arithmetic
/// is the same whichever thread runs a task.
///
/// Work is split statically by the callers (``parallelFor(_:threads:_:)``): which thread computes
/// an element never changes how it is computed, so results are bitwise identical for every
/// thread count. A job submitted while another is running (from another thread, or from inside a
/// task) runs its tasks one after the other on the calling thread instead of waiting.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// The job being run: read by workers between the generation bump and their `pending` decrement.
    private final class Job {
        let tasks: Int
        let body: (Int, Scratch) -> Void
        init(tasks: Int, body: @escaping (Int, Scratch) -> Void) {
            self.tasks = tasks
            self.body = body
        }
    }

    /// Shared counters (C atomics on stable memory): [generation, pending, busy].
    private let counters: UnsafeMutablePointer<Int>
    private var generation: UnsafeMutablePointer<Int> { counters }
    private var pending: UnsafeMutablePointer<Int> { counters + 1 }
    private var busy: UnsafeMutablePointer<Int> { counters + 2 }

    private let condition = NSCondition()
    private var sleepers = 0          // guarded by `condition`
    private var workerCount = 0       // changed only by the submitting thread while `busy`
    private var job: Job?             // written only while `busy` and no worker reads it
    /// One scratch arena per task index; task `t` of a job owns `scratch[t]`.
    private var scratch: [Scratch] = [Scratch()]

    /// How long an idle worker spins before sleeping.
    private static let spinNanoseconds: UInt64 = 200_000

    private init() {
        counters = .allocate(capacity: 3)
        counters.initialize(repeating: 0, count: 3)
    }

    /// Runs `body(t, scratch)` for `t` in `0..<tasks`, each exactly once, and returns when all are done.
    func run(tasks: Int, _ body: (Int, Scratch) -> Void) {
        guard tasks > 0 else { return }
        guard ck_atomic_compare_exchange(busy, 0, 1) != 0 else {
            // The pool is in use (another thread's job, or a job started from inside a task):
            // run the tasks one after the other here, with their own scratch.
            let state = ck_enter_flush_denormals()
            let local = Scratch()
            for t in 0..<tasks { body(t, local) }
            ck_restore_fp_state(state)
            return
        }
        defer { ck_atomic_store(busy, 0) }
        if tasks == 1 {
            let state = ck_enter_flush_denormals()
            body(0, scratch[0])
            ck_restore_fp_state(state)
            return
        }
        ensureWorkers(tasks - 1)
        withoutActuallyEscaping(body) { body in
            job = Job(tasks: tasks, body: body)
            ck_atomic_store(pending, workerCount)
            condition.lock()
            _ = ck_atomic_add(generation, 1)
            if sleepers > 0 { condition.broadcast() }
            condition.unlock()

            let state = ck_enter_flush_denormals()
            body(0, scratch[0])
            ck_restore_fp_state(state)

            var spins = 0
            while ck_atomic_load(pending) > 0 {
                spins += 1
                if spins < 4096 { ck_cpu_relax() } else { sched_yield() }
            }
            job = nil
        }
    }

    private func ensureWorkers(_ count: Int) {
        while workerCount < count {
            workerCount += 1
            scratch.append(Scratch())
            let index = workerCount
            let arena = scratch[index]
            let seen = ck_atomic_load(generation)
            let thread = Thread { [unowned self] in self.workerLoop(index: index, scratch: arena, seen: seen) }
            thread.name = "ConvKit worker \(index)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    private func workerLoop(index: Int, scratch: Scratch, seen start: Int) {
        _ = ck_enter_flush_denormals()
        var seen = start
        while true {
            var current = ck_atomic_load(generation)
            if current == seen {
                let deadline = DispatchTime.now().uptimeNanoseconds + Self.spinNanoseconds
                var spins = 0
                while current == seen {
                    ck_cpu_relax()
                    spins += 1
                    if spins & 255 == 0, DispatchTime.now().uptimeNanoseconds > deadline {
                        condition.lock()
                        sleepers += 1
                        while ck_atomic_load(generation) == seen { condition.wait() }
                        sleepers -= 1
                        condition.unlock()
                    }
                    current = ck_atomic_load(generation)
                }
            }
            seen = current
            if let job, index < job.tasks { job.body(index, scratch) }
            _ = ck_atomic_add(pending, -1)
        }
    }
}

/// A growable, reusable buffer of floats owned by one task of a job (never shared between threads
/// at the same time). Regions handed out are 64-byte aligned and valid until the task returns.
final class Scratch: @unchecked Sendable {
    private var base: UnsafeMutableRawPointer?
    private var capacity = 0   // bytes
    private var used = 0       // bytes handed out by `floats(_:)` since `reset()`

    deinit { base?.deallocate() }

    /// Forgets earlier regions (call at the start of each task that uses scratch).
    func reset() { used = 0 }

    /// Reserves the whole arena up front so later `floats` calls do not move it.
    func reserve(floats count: Int) {
        let bytes = count * MemoryLayout<Float>.stride + 64 * 16
        guard bytes > capacity else { return }
        precondition(used == 0, "Scratch.reserve must precede floats(_:)")
        base?.deallocate()
        capacity = max(bytes, capacity * 3 / 2)
        base = .allocate(byteCount: capacity, alignment: 64)
    }

    /// A region of `count` floats (uninitialised), after those handed out since `reset()`.
    func floats(_ count: Int) -> UnsafeMutablePointer<Float> {
        let bytes = (count * MemoryLayout<Float>.stride + 63) & ~63
        precondition(used + bytes <= capacity, "Scratch: reserve(floats:) too small")
        let region = base! + used
        used += bytes
        return region.bindMemory(to: Float.self, capacity: count)
    }
}

/// Splits `items` into `threads` contiguous ranges (the first ranges one larger when uneven) and
/// runs `body(range, scratch)` for each non-empty range on the worker pool. The split depends only
/// on `items` and `threads`, and callers make every item's result independent of its range.
func parallelFor(_ items: Int, threads: Int = Runtime.threadCount, _ body: (Range<Int>, Scratch) -> Void) {
    guard items > 0 else { return }
    let tasks = max(1, min(threads, items))
    WorkerPool.shared.run(tasks: tasks) { t, scratch in
        let lower = t * items / tasks, upper = (t + 1) * items / tasks
        if lower < upper { body(lower..<upper, scratch) }
    }
}

/// Large temporary buffers (padded inputs, transposed gradients) reused across calls, so that a
/// layer run every step does not pay for fresh pages each time. Thread-safe; buffers are handed
/// out exclusively until returned. At most `keep` idle buffers are kept.
final class BufferCache: @unchecked Sendable {
    static let shared = BufferCache()
    private let lock = NSLock()
    private var idle: [(pointer: UnsafeMutablePointer<Float>, capacity: Int)] = []
    private let keep = 6

    /// A buffer of at least `count` floats (uninitialised).
    func acquire(_ count: Int) -> (pointer: UnsafeMutablePointer<Float>, capacity: Int) {
        lock.lock()
        defer { lock.unlock() }
        // The smallest idle buffer that fits.
        var best: Int?
        for (i, buffer) in idle.enumerated() where buffer.capacity >= count {
            if best == nil || buffer.capacity < idle[best!].capacity { best = i }
        }
        if let best { return idle.remove(at: best) }
        let capacity = max(count, 1024)
        return (UnsafeMutablePointer<Float>.allocate(capacity: capacity), capacity)
    }

    func release(_ buffer: (pointer: UnsafeMutablePointer<Float>, capacity: Int)) {
        lock.lock()
        defer { lock.unlock() }
        idle.append(buffer)
        if idle.count > keep {
            // Drop the smallest.
            let smallest = idle.indices.min { idle[$0].capacity < idle[$1].capacity }!
            idle.remove(at: smallest).pointer.deallocate()
        }
    }

    /// Runs `body` with a temporary buffer of `count` floats.
    func with<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        let buffer = acquire(count)
        defer { release(buffer) }
        return try body(buffer.pointer)
    }
}
