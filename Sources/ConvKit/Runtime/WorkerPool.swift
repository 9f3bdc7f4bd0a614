import CConvKitKernels
import Foundation

/// A persistent pool of worker threads for the fast kernels.
///
/// `run(chunks:threads:_:)` calls `body(c, scratch)` exactly once for every chunk `c < chunks`.
/// The chunks are dealt in contiguous runs, one per thread (the caller is thread 0), so that a
/// layer run again gives each thread the data it touched last time (still in its core's cache);
/// a thread that finishes its run takes chunks from the front of the others' runs, so a thread that
/// is descheduled (the machine is shared) delays the job by at most one chunk.
/// Which thread runs a chunk never changes what it computes: callers make every chunk's result
/// independent of the others (no reduction is split between chunks), so results are bitwise
/// identical for every thread count.
///
/// Workers spin briefly after a job (a short layer follows a short layer) and then sleep on a
/// condition variable; a worker that wakes after the job is done skips it. Every chunk runs with
/// flush-to-zero and denormals-are-zero set — the caller's chunks too (its previous mode is restored
/// afterwards) — so the arithmetic is the same whichever thread runs a chunk. A job submitted while
/// another is running (from another thread, or from inside a chunk) runs on the calling thread.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// The job being run.
    private final class Job {
        let chunks: Int
        let threads: Int
        let body: (Int, Scratch) -> Void
        init(chunks: Int, threads: Int, body: @escaping (Int, Scratch) -> Void) {
            self.chunks = chunks
            self.threads = threads
            self.body = body
        }
    }

    /// Shared counters (C atomics on stable memory).
    private let counters: UnsafeMutablePointer<Int>
    private var generation: UnsafeMutablePointer<Int> { counters }      // bumped per job
    private var completed: UnsafeMutablePointer<Int> { counters + 2 }  // chunks finished
    private var active: UnsafeMutablePointer<Int> { counters + 3 }      // workers inside the job
    private var closed: UnsafeMutablePointer<Int> { counters + 4 }      // generation of the last finished job
    private var busy: UnsafeMutablePointer<Int> { counters + 5 }        // a job is being submitted/run

    private let condition = NSCondition()
    private var sleepers = 0          // guarded by `condition`
    private var workerCount = 0       // changed only by the submitting thread while `busy`
    private var job: Job?             // written only while `busy` and no worker is `active`
    /// One scratch arena per thread: the caller's is `scratch[0]`, worker `w`'s is `scratch[w]`.
    private var scratch: [Scratch] = [Scratch()]

    /// How long an idle worker spins before sleeping.
    private static let spinNanoseconds: UInt64 = 200_000

    /// The next chunk of each thread's run, a cache line apart (`cursorStride` Ints); grown only
    /// while no job runs.
    private var cursors = UnsafeMutablePointer<Int>.allocate(capacity: cursorStride)
    private static let cursorStride = 8

    private init() {
        counters = .allocate(capacity: 8)
        counters.initialize(repeating: 0, count: 8)
    }

    /// The first chunk of thread `t`'s run when `threads` threads share `chunks`.
    private static func runStart(_ t: Int, chunks: Int, threads: Int) -> Int { t * chunks / threads }

    /// Runs the chunks of thread `t`'s run and then those left in the other threads' runs;
    /// returns how many it ran.
    private func takeChunks(thread t: Int, job: Job, scratch: Scratch) -> Int {
        var done = 0
        for k in 0..<job.threads {
            let owner = (t + k) % job.threads
            let end = Self.runStart(owner + 1, chunks: job.chunks, threads: job.threads)
            let cursor = cursors + owner * Self.cursorStride
            while true {
                let c = ck_atomic_add(cursor, 1) - 1
                if c >= end { break }
                job.body(c, scratch)
                done += 1
            }
        }
        return done
    }

    /// Runs `body(c, scratch)` for `c` in `0..<chunks` on up to `threads` threads.
    func run(chunks: Int, threads: Int, _ body: (Int, Scratch) -> Void) {
        guard chunks > 0 else { return }
        guard ck_atomic_compare_exchange(busy, 0, 1) != 0 else {
            // The pool is in use (another thread's job, or a job started from inside a chunk).
            let state = ck_enter_flush_denormals()
            let local = Scratch()
            for c in 0..<chunks { body(c, local) }
            ck_restore_fp_state(state)
            return
        }
        defer { ck_atomic_store(busy, 0) }
        let state = ck_enter_flush_denormals()
        defer { ck_restore_fp_state(state) }
        let helpers = min(threads, chunks) - 1
        for arena in scratch.prefix(max(helpers, 0) + 1) { arena.forget() }
        if helpers <= 0 {
            for c in 0..<chunks { body(c, scratch[0]) }
            return
        }
        ensureWorkers(helpers)
        withoutActuallyEscaping(body) { body in
            let job = Job(chunks: chunks, threads: helpers + 1, body: body)
            self.job = job
            for t in 0..<job.threads {
                ck_atomic_store(cursors + t * Self.cursorStride, Self.runStart(t, chunks: chunks, threads: job.threads))
            }
            ck_atomic_store(completed, 0)
            condition.lock()
            let current = ck_atomic_add(generation, 1)
            if sleepers > 0 { condition.broadcast() }
            condition.unlock()

            _ = ck_atomic_add(completed, takeChunks(thread: 0, job: job, scratch: scratch[0]))
            var spins = 0
            while ck_atomic_load(completed) < chunks {
                spins += 1
                if spins < 2048 { ck_cpu_relax() } else { sched_yield() }
            }
            // Late workers must not touch the job from here on.
            ck_atomic_store(closed, current)
            while ck_atomic_load(active) > 0 { ck_cpu_relax() }
            self.job = nil
        }
    }

    private func ensureWorkers(_ count: Int) {
        if workerCount < count {
            // No job runs and no worker is inside one: the cursors can move.
            let grown = UnsafeMutablePointer<Int>.allocate(capacity: (count + 1) * Self.cursorStride)
            cursors.deallocate()
            cursors = grown
        }
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
            _ = ck_atomic_add(active, 1)
            if ck_atomic_load(closed) != current, let job, index < job.threads {
                _ = ck_atomic_add(completed, takeChunks(thread: index, job: job, scratch: scratch))
            }
            _ = ck_atomic_add(active, -1)
        }
    }
}

/// A growable, reusable buffer of floats owned by one task of a job (never shared between threads
/// at the same time). Regions handed out are 64-byte aligned and valid until the task returns.
final class Scratch: @unchecked Sendable {
    /// What the arena holds, for a job whose chunks can reuse it: -1 at the start of every job; a
    /// job's body may set it after filling the arena (reserved the same way in each chunk, so it
    /// does not move) and skip refilling it while it matches.
    var memo = -1
    /// The rows of one image that a job's body has copied into the arena (``stage(image:rows:)``);
    /// none at the start of every job.
    private var staged = (image: -1, rows: 0..<0)
    private var base: UnsafeMutableRawPointer?
    private var capacity = 0   // bytes
    private var used = 0       // bytes handed out by `floats(_:)` since `reset()`

    deinit { base?.deallocate() }

    /// For a job's body that copies rows of an image into the arena, each at its place (in a region
    /// reserved the same way in each chunk): which of `rows` of `image` it still has to copy, after
    /// what it copied before in this job (a run of rows that `rows` starts inside or right after is
    /// kept and extended, so a thread's consecutive items copy their shared rows once); records them
    /// as copied.
    func stage(image: Int, rows: Range<Int>) -> Range<Int> {
        if image == staged.image, staged.rows.lowerBound <= rows.lowerBound, rows.lowerBound <= staged.rows.upperBound {
            let end = max(staged.rows.upperBound, rows.upperBound)
            defer { staged.rows = staged.rows.lowerBound..<end }
            return staged.rows.upperBound..<end
        }
        staged = (image, rows)
        return rows
    }

    /// Starts a job: nothing memoised or staged.
    func forget() {
        memo = -1
        staged = (-1, 0..<0)
    }

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

/// Runs `body(range, scratch)` over `0..<items` in contiguous chunks on the worker pool. The
/// chunks depend only on `items` and `grain`, never on the thread count, and callers make every
/// item's result independent of the chunk and thread that computes it.
///
/// - Parameter grain: the smallest number of items worth a chunk of its own (default 1). Jobs get
///   at most 64 chunks.
func parallelFor(_ items: Int, grain: Int = 1, threads: Int = Runtime.threadCount,
                 _ body: (Range<Int>, Scratch) -> Void) {
    guard items > 0 else { return }
    let chunks = max(1, min(64, items / max(grain, 1)))
    WorkerPool.shared.run(chunks: chunks, threads: threads) { c, scratch in
        let lower = c * items / chunks, upper = (c + 1) * items / chunks
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
        return (allocateLargeFloats(capacity), capacity)
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

/// `count` floats for a large, long-lived buffer (freed with `deallocate()`): from 2 MiB up,
/// aligned to 2 MiB and marked for transparent huge pages where the system has them (Linux's
/// `madvise` mode), so that streaming it (Winograd's transformed tiles, packed weights) does not
/// miss the TLB every 4 KiB page.
func allocateLargeFloats(_ count: Int) -> UnsafeMutablePointer<Float> {
    let bytes = count * MemoryLayout<Float>.stride, hugePage = 2 << 20
    guard bytes >= hugePage else { return .allocate(capacity: count) }
    let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: hugePage)
    #if os(Linux)
    _ = madvise(raw, bytes / hugePage * hugePage, MADV_HUGEPAGE)
    #endif
    return raw.bindMemory(to: Float.self, capacity: count)
}
