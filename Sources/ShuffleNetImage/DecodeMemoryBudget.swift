import CImageCodecs
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Memory that decoding may hold at once, shared by every thread that decodes: the file's bytes, the
/// decoder library's buffers and the pixels kept for the crop, reserved before they are allocated.
///
/// A thread whose next image needs more than is left waits until enough is returned; requests are
/// served in arrival order, so a large image is not overtaken for ever by small ones. An image that
/// needs more than the whole budget is refused (see `ImageDecoder.withSampledDecode`). So however many
/// threads decode, what decoding holds never exceeds `capacity`: peak memory is the process's baseline
/// plus this budget.
public final class DecodeMemoryBudget: @unchecked Sendable {
    /// `classify --memory-limit`'s default: room for a few large photos at once, and far inside the
    /// 1 GiB a cluster pod is commonly given.
    public static let defaultBytes = 512 << 20

    /// The budget in bytes: what all decoding through it may hold at once.
    public let capacity: Int
    private var used = 0
    private var peak = 0
    /// Tickets make waiting first come, first served: `serving` is the only ticket that may take memory.
    private var nextTicket = 0
    private var serving = 0
    /// Heap-allocated: pthread objects must not move, which a class's stored properties may.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    /// A budget of `bytes` (at least 1).
    public init(bytes: Int = DecodeMemoryBudget.defaultBytes) {
        capacity = max(1, bytes)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(changed, nil)
    }

    deinit {
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(mutex)
        changed.deallocate()
        mutex.deallocate()
    }

    /// Bytes reserved right now.
    public var inUse: Int { locked { used } }
    /// The most ever reserved at once.
    public var peakInUse: Int { locked { peak } }

    /// Waits until `bytes` fit, then reserves them. False (nothing reserved) when they exceed `capacity`,
    /// since waiting could never help. Call it holding no reservation, or two threads could each hold
    /// part of the budget while waiting for the rest.
    public func acquire(_ bytes: Int) -> Bool {
        guard bytes <= capacity else { return false }
        return locked {
            let ticket = nextTicket
            nextTicket += 1
            while ticket != serving || used + bytes > capacity {
                pthread_cond_wait(changed, mutex)
            }
            take(bytes)
            serving += 1
            pthread_cond_broadcast(changed)  // the next ticket may fit too
            return true
        }
    }

    /// Reserves `bytes` only if that needs no waiting and nobody is already waiting (who would be
    /// overtaken).
    public func tryAcquire(_ bytes: Int) -> Bool {
        locked {
            guard nextTicket == serving, used + bytes <= capacity else { return false }
            take(bytes)
            return true
        }
    }

    /// Returns `bytes` reserved by `acquire` or `tryAcquire`, waking the threads waiting for room.
    public func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        locked {
            used -= bytes
            pthread_cond_broadcast(changed)
        }
    }

    private func take(_ bytes: Int) {
        used += bytes
        peak = max(peak, used)
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }
}

extension DecodeMemoryBudget {
    /// Makes glibc's malloc hand large freed blocks (a file's bytes, coefficient buffers) back to the system at
    /// once, so that the process's resident memory follows what the budget has reserved.
    ///
    /// By default glibc raises its mmap threshold to the size of the largest block freed so far (up to 32 MiB)
    /// and keeps up to twice that free in every thread's arena without trimming: with 8 threads decoding 19 MB
    /// files, 300 MB of freed memory stayed resident (60 MP progressive JPEGs under a 256 MiB budget peaked at
    /// 445 MB, 228 MB after this call). Setting the threshold fixes it (and turns the adjustment off): blocks of
    /// 4 MiB and more are mapped and unmapped on their own. It is process-wide, so the library never does it
    /// by itself: `shufflenet classify` calls it; an embedding program decides. Does nothing off glibc.
    public static func returnFreedMemoryPromptly() {
        image_codecs_return_freed_memory_promptly()
    }

    /// Hands the whole free pages of glibc's heaps back to the system now (`malloc_trim`): the holes left by
    /// blocks under the mmap threshold, such as a weights file's bytes once parsed. Process-wide, so the library
    /// never does it by itself: `shufflenet classify` calls it after loading the weights. Does nothing off glibc.
    public static func releaseFreedMemory() {
        image_codecs_release_free_memory()
    }
}
