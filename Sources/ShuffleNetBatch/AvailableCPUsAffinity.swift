#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension AvailableCPUs {
    /// CPUs in this process's affinity mask, or nil where `sched_getaffinity` is not available or fails.
    static func affinityCount() -> Int? {
        #if os(Linux)
        guard let getAffinity = schedGetAffinity else { return nil }
        // The mask is as large as the kernel's CPU count, which may exceed cpu_set_t's 1024 bits: grow until
        // the call stops failing with EINVAL.
        var byteCount = 128
        while byteCount <= 1 << 20 {
            let mask = UnsafeMutableRawBufferPointer.allocate(byteCount: byteCount, alignment: 8)
            defer { mask.deallocate() }
            mask.initializeMemory(as: UInt8.self, repeating: 0)
            if getAffinity(0, byteCount, mask.baseAddress) == 0 {
                let count = mask.reduce(0) { $0 + $1.nonzeroBitCount }
                return count > 0 ? count : nil
            }
            guard errno == EINVAL else { return nil }
            byteCount *= 2
        }
        return nil
        #else
        return nil
        #endif
    }

    #if os(Linux)
    private typealias SchedGetAffinity = @convention(c) (pid_t, Int, UnsafeMutableRawPointer?) -> Int32

    /// Swift's Glibc module leaves out `sched_getaffinity` (declared only under _GNU_SOURCE), so it is
    /// looked up in the C library already loaded rather than adding a C target for one call.
    private static let schedGetAffinity: SchedGetAffinity? = {
        guard let process = dlopen(nil, RTLD_NOW), let symbol = dlsym(process, "sched_getaffinity") else { return nil }
        return unsafeBitCast(symbol, to: SchedGetAffinity.self)
    }()
    #endif
}
