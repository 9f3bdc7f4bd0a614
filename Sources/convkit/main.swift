import ConvKitCLI
import Foundation

#if os(Linux)
// ConvKit gives every layer's output fresh storage. By default glibc hands large freed blocks back
// to the kernel (blocks above the mmap threshold at once, the heap's top past the trim threshold),
// so the next forward pass faults the same pages in again: about 1,500 page faults per ResNet-18
// inference on this project's machines, a few milliseconds. Keeping freed memory for reuse avoids
// them; an application embedding ConvKit can do the same (or set GLIBC_TUNABLES). mallopt is
// looked up at run time (its header is not part of Swift's Glibc module, and other C libraries
// lack it); M_TRIM_THRESHOLD is -1 and M_MMAP_THRESHOLD -3 in glibc's ABI.
if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") {
    let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
    _ = mallopt(-3, 32 << 20)
    _ = mallopt(-1, 256 << 20)
}
#endif

exit(ConvKitCommand.run(arguments: Array(CommandLine.arguments.dropFirst())))
