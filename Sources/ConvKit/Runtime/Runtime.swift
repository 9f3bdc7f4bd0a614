import CConvKitKernels
import Foundation

/// Process-wide settings of ConvKit's fast CPU kernels.
///
/// Results do not depend on ``threadCount``: work is split statically over output elements and no
/// reduction is split between threads, so any thread count gives bitwise-identical results.
/// They may differ in the last bits between instruction sets (fused vs unfused multiply-add).
public enum Runtime {
    /// [threadCount, instructionSet, cachesPreparedWeights], read and written only through C atomics.
    nonisolated(unsafe) private static let settings: UnsafeMutablePointer<Int> = {
        let p = UnsafeMutablePointer<Int>.allocate(capacity: 3)
        p[0] = max(1, ProcessInfo.processInfo.activeProcessorCount)
        p[1] = Int(ck_best_isa())
        p[2] = 1
        return p
    }()

    /// Per-task settings that take precedence over the process-wide ones (tests run suites in
    /// parallel and must not change each other's settings).
    struct Override: Sendable {
        var threadCount: Int?
        var instructionSet: InstructionSet?
    }
    @TaskLocal static var override: Override?

    /// Threads the fast kernels use (default: the number of active processors). At least 1.
    public static var threadCount: Int {
        get { override?.threadCount ?? ck_atomic_load(settings) }
        set { ck_atomic_store(settings, max(1, newValue)) }
    }

    /// The instruction-set level the fast kernels use: by default the best one this CPU supports.
    /// Setting a level the CPU lacks selects the best available one below it.
    public static var instructionSet: InstructionSet {
        get { override?.instructionSet ?? InstructionSet(rawValue: ck_atomic_load(settings + 1)) ?? .portable }
        set {
            let best = availableInstructionSets.last(where: { $0 <= newValue }) ?? .portable
            ck_atomic_store(settings + 1, best.rawValue)
        }
    }

    /// Whether weights prepared for a kernel (packed GEMM panels, Winograd-transformed weights) are
    /// cached by the identity of the weight tensor's storage (default `true`), so that repeated calls
    /// with the same weights — inference — prepare them once. The cache holds a reference to the
    /// weights, so an in-place update of a cached weight tensor copies it first (copy-on-write);
    /// a training loop that updates weights every step can turn caching off to avoid that copy.
    public static var cachesPreparedWeights: Bool {
        get { ck_atomic_load(settings + 2) != 0 }
        set {
            ck_atomic_store(settings + 2, newValue ? 1 : 0)
            if !newValue { PackedWeightCache.shared.removeAll() }
        }
    }

    /// The levels this build can use on this CPU, worst first.
    public static let availableInstructionSets: [InstructionSet] =
        InstructionSet.allCases.filter { ck_kernels_for(Int32($0.rawValue)) != nil }

    /// The kernel table of the current level.
    static var kernels: KernelTable { KernelTable(instructionSet) }
}

/// Instruction-set levels of the fast kernels (runtime CPU dispatch).
public enum InstructionSet: Int, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    /// Plain clang vectors for the baseline target (SSE2 on x86-64); runs anywhere.
    case portable = 0
    /// AArch64 Advanced SIMD.
    case neon = 1
    /// x86-64 AVX2 with FMA3.
    case avx2 = 2
    /// x86-64 AVX-512F.
    case avx512 = 3

    public static func < (a: InstructionSet, b: InstructionSet) -> Bool { a.rawValue < b.rawValue }
    public var description: String {
        switch self {
        case .portable: return "portable"
        case .neon: return "neon"
        case .avx2: return "avx2"
        case .avx512: return "avx512"
        }
    }
}

/// One level's C kernels and register tile.
struct KernelTable {
    let table: UnsafePointer<ck_kernels>

    init(_ isa: InstructionSet) {
        table = ck_kernels_for(Int32(isa.rawValue)) ?? ck_kernels_for(Int32(CK_ISA_PORTABLE.rawValue))!
    }

    var isa: InstructionSet { InstructionSet(rawValue: Int(table.pointee.isa)) ?? .portable }

    /// The first of this level and the available ones below it (best first) that `fits`: for rows
    /// too short for this level's vectors, a narrower level's kernels (the same results for the max
    /// kernels; the depthwise sums in the order their kernel documents: tap order along rows, column
    /// sums on planes read as one run).
    func firstLevel(where fits: (KernelTable) -> Bool) -> KernelTable? {
        if fits(self) { return self }
        for level in Runtime.availableInstructionSets.reversed() where level < isa {
            let table = KernelTable(level)
            if fits(table) { return table }
        }
        return nil
    }

    /// The first level from `kernels` down whose vectors hold at most `count` floats (the
    /// portable level's if none does).
    static func widest(atMost count: Int, below kernels: KernelTable) -> KernelTable {
        kernels.firstLevel { $0.vw <= count } ?? KernelTable(.portable)
    }
    /// GEMM tile rows (A) and columns (B), and floats per vector.
    var mr: Int { table.pointee.mr }
    var nr: Int { table.pointee.nr }
    var vw: Int { table.pointee.vw }
    var gemm: ck_gemm_fn { table.pointee.gemm }
    var gemmPacked: ck_gemm_packed_fn { table.pointee.gemm_packed }
    var gatherRows: ck_gather_rows_fn { table.pointee.gather_rows }
    var gemmTaps: ck_gemm_taps_fn { table.pointee.gemm_taps }
    var transposeOut: ck_transpose_out_fn { table.pointee.transpose_out }
    var padPlane: ck_pad_plane_fn { table.pointee.pad_plane }
    var split4Rows: ck_split4_rows_fn { table.pointee.split4_rows }
    var windowSum: ck_window_sum_fn { table.pointee.window_sum }
    var depthwise3x3: ck_depthwise3x3_fn { table.pointee.depthwise3x3 }
    var max3x3: ck_max3x3_fn { table.pointee.max3x3 }
    var max2x2: ck_max2x2_fn { table.pointee.max2x2 }
    var windowDot: ck_window_dot_fn { table.pointee.window_dot }
    var maxPool: ck_max_pool_fn { table.pointee.max_pool }
    var winogradWeights: ck_winograd_weights_fn { table.pointee.winograd_weights }
    var winogradInput: ck_winograd_input_fn { table.pointee.winograd_input }
    var winogradOutput: ck_winograd_output_fn { table.pointee.winograd_output }
}
