#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One zero-filled allocation for the buffers every inference sweeps through. When it is large, it is
/// aligned to 2 MB and, on Linux, marked `MADV_HUGEPAGE`, so that with transparent huge pages in `madvise` mode (the
/// usual default) the kernel backs it with 2 MB pages: the workspace's few MB then take a handful of TLB entries
/// instead of about a thousand 4 KB ones (1x g3, one thread: 1.41-1.43 -> 1.37-1.39 ms side by side).
final class HugePageArena: @unchecked Sendable {
    /// The zero-filled bytes; callers bind them to the element type they carve (`Float` or `UInt8`).
    let base: UnsafeMutableRawPointer
    let bytes: Int
    private static let hugePage = 2 << 20

    /// `hugePages: false` gives ordinary memory whatever the size: resident memory is then the bytes used, not
    /// whole 2 MB pages (the int8 recheck network's workspace, made on the first near tie, takes that).
    init(bytes: Int, hugePages: Bool = true) {
        self.bytes = max(bytes, 64)
        let large = hugePages && self.bytes >= Self.hugePage / 2
        let size = large ? (self.bytes + Self.hugePage - 1) / Self.hugePage * Self.hugePage : self.bytes
        base = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: large ? Self.hugePage : 64)
        #if os(Linux)
        // Only advice: if transparent huge pages are off, the arena is ordinary memory.
        if large { _ = madvise(base, size, MADV_HUGEPAGE) }
        #endif
        base.initializeMemory(as: UInt8.self, repeating: 0, count: self.bytes)
    }

    deinit { base.deallocate() }
}
