import Foundation
import Synchronization
import Testing
import ShuffleNetEngine

/// `WorkerPool.run(chunks:)`: every chunk runs exactly once per run, on a thread index the pool owns, whatever the
/// thread count, chunk count or order in which threads finish (each thread claims its own share from the front and
/// the others' from the back, so these are the cases where the two ends meet).
@Suite struct WorkerPoolTests {
    /// How many times each chunk ran, and which thread indices were seen.
    final class Tally: Sendable {
        let counts: Mutex<[Int]>
        let threads = Mutex<Set<Int>>([])
        init(chunks: Int) { counts = Mutex([Int](repeating: 0, count: chunks)) }
        func record(_ chunk: Int, _ thread: Int) {
            counts.withLock { $0[chunk] += 1 }
            threads.withLock { _ = $0.insert(thread) }
        }
    }

    static let chunkCounts = [0, 1, 2, 3, 4, 5, 7, 8, 13, 64, 257]

    @Test(arguments: [1, 2, 3, 4])
    func everyChunkRunsExactlyOnce(threads: Int) {
        let pool = WorkerPool(threads: threads)
        for chunks in Self.chunkCounts {
            for round in 0..<50 {
                let tally = Tally(chunks: chunks)
                pool.run(chunks: chunks) { chunk, thread in tally.record(chunk, thread) }
                let counts = tally.counts.withLock { $0 }
                #expect(counts.allSatisfy { $0 == 1 }, "threads \(threads), chunks \(chunks), round \(round): \(counts)")
                #expect(tally.threads.withLock { $0.allSatisfy { (0..<threads).contains($0) } })
            }
        }
    }

    /// Chunks that take very different times (one thread stalls in the middle of its share, as when the OS runs
    /// another process on its core): the others take over its leftovers and still run each chunk once.
    @Test(arguments: [2, 3])
    func unevenChunksStillRunExactlyOnce(threads: Int) {
        let pool = WorkerPool(threads: threads)
        for chunks in [2, 4, 6, 9, 32] {
            for stalled in [0, chunks / 2, chunks - 1] {
                let tally = Tally(chunks: chunks)
                pool.run(chunks: chunks) { chunk, thread in
                    if chunk == stalled { Thread.sleep(forTimeInterval: 0.002) }
                    tally.record(chunk, thread)
                }
                let counts = tally.counts.withLock { $0 }
                #expect(counts.allSatisfy { $0 == 1 }, "threads \(threads), chunks \(chunks), stalled \(stalled): \(counts)")
            }
        }
    }

    /// A thread stuck in its first chunk: its second chunk must be taken by the other thread (from the back of the
    /// stuck thread's share), not wait for it. On 2 threads the caller's share of 4 chunks is 0 and 1; when the caller
    /// runs chunk 0, it waits up to 5 s for chunk 1 to finish elsewhere, so without stealing the test fails after
    /// the wait instead of hanging.
    @Test func aStuckThreadsShareIsTakenOver() {
        let pool = WorkerPool(threads: 2)
        for round in 0..<20 {
            let secondDone = DispatchSemaphore(value: 0)
            let tally = Tally(chunks: 4)
            let callerWaited = Mutex<Bool?>(nil)  // nil: chunk 0 ran on the worker (it stole 1 and 0 first)
            pool.run(chunks: 4) { chunk, thread in
                if chunk == 0 && thread == 0 {
                    let done = secondDone.wait(timeout: .now() + 5) == .success
                    callerWaited.withLock { $0 = done }
                }
                tally.record(chunk, thread)
                if chunk == 1 { secondDone.signal() }
            }
            #expect(tally.counts.withLock { $0 } == [1, 1, 1, 1], "round \(round)")
            let waited = callerWaited.withLock { $0 }
            #expect(waited != false, "round \(round): chunk 1 was not taken over while the caller was stuck in chunk 0")
            if waited == false { break }
        }
    }

    /// Runs back to back with workers that may still be looking at the previous run's shares: a late worker must
    /// never take a chunk of the next run twice or skip one.
    @Test func backToBackRunsDoNotLeakChunks() {
        let pool = WorkerPool(threads: 2)
        let total = Atomic<Int>(0)
        var expected = 0
        for round in 0..<5_000 {
            let chunks = 1 + round % 9
            expected += chunks
            pool.run(chunks: chunks) { _, _ in total.add(1, ordering: .relaxed) }
            #expect(total.load(ordering: .relaxed) == expected, "after round \(round)")
            if total.load(ordering: .relaxed) != expected { break }
        }
    }
}
