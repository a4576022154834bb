import Foundation
import Synchronization

/// Persistent threads that split one layer's work with the calling thread: in `run(chunks:)` each thread takes
/// the chunks of its own share one at a time (the same share in every layer, so the data stays in its core's
/// cache), then what is left of the others' shares, so if a core is busy with something else the other threads
/// simply take more chunks instead of waiting for a fixed share. Workers spin briefly between layers (a layer takes
/// microseconds), then yield, then sleep, so an idle pool costs no CPU. A thread that waits long for a chunk
/// held by another yields its core: when another process keeps a core busy, the OS may have preempted the
/// holder, and yielding lets it finish here (measured with a second core kept busy, 0.5x g3 on 2 threads: p90
/// 4.9 ms before, 0.61 ms after; one thread alone takes 0.52 ms).
package final class WorkerPool: @unchecked Sendable {
    package let threadCount: Int
    private let state: SharedState

    package init(threads: Int) {
        threadCount = max(1, threads)
        state = SharedState(threads: threadCount)
        for index in 1..<threadCount {
            // Workers keep the shared state alive, not the pool, so dropping the pool stops them.
            let state = self.state
            let thread = Thread { state.workerLoop(index: index) }
            thread.name = "shufflenet-worker-\(index)"
            thread.start()
        }
    }

    deinit { state.stop(workers: threadCount - 1) }

    /// Calls `body(chunk, thread)` once for every chunk in `0..<chunks`, spread over the pool's threads and
    /// the caller; `thread` (0 = the caller) selects per-thread scratch. Returns when all chunks are done.
    package func run(chunks: Int, _ body: (_ chunk: Int, _ thread: Int) -> Void) {
        if threadCount == 1 || chunks <= 1 {
            for c in 0..<chunks { body(c, 0) }
            return
        }
        withoutActuallyEscaping(body) { body in
            // The ticket has room for 2^20 - 1 chunks per run; larger counts go in slices.
            var start = 0
            while start < chunks {
                let count = min(chunks - start, 0xF_FFFF), offset = start
                state.run(chunks: count, workers: threadCount - 1) { chunk, thread in body(offset + chunk, thread) }
                start += count
            }
        }
    }
}

/// What the caller and the workers share. Each thread has a home range of every run's chunks (thread t of T:
/// chunks t * n / T ..< (t + 1) * n / T), held in one 64-bit word (run number: 24 bits, first unclaimed chunk: 20
/// bits, end: 20 bits). A thread claims its own range from the front, then takes what is left of the others' from
/// their backs. The run number in every word means a worker that wakes late can never claim a chunk of a later
/// run, and nothing but the words is read before a chunk is claimed.
///
/// Why home ranges rather than one shared ticket: chunk i of a layer is the same channels in every layer of a
/// stage, so with a fixed owner the residual stream and each unit's activations stay in the cache of the core that
/// wrote them, instead of half of them moving between cores at every layer (0.5x g3 fp32, batch 1, 2 threads: p50
/// 0.62 ms with one ticket, 0.55 ms with fixed halves). Taking the others' leftovers keeps what the single ticket
/// gave: when another process holds a core, the free thread does that core's chunks.
private final class SharedState: @unchecked Sendable {
    private let ranges: [ChunkRange]
    private let finished = Atomic<Int>(0)
    private let generation = Atomic<UInt64>(0)
    private let sleepers = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)
    private var body: ((_ chunk: Int, _ thread: Int) -> Void)?

    /// How long a worker spins for the next layer before it starts yielding its core, and how many times it
    /// yields before sleeping.
    private static let spinIterations = 20_000
    private static let yieldIterations = 200
    /// How long the caller spins for the last chunks before it starts yielding.
    private static let waitSpins = 20_000

    init(threads: Int) {
        ranges = (0..<threads).map { _ in ChunkRange() }
    }

    /// `chunks` must be below 2^20 (`WorkerPool.run` slices larger counts).
    func run(chunks: Int, workers: Int, body: @escaping (_ chunk: Int, _ thread: Int) -> Void) {
        self.body = body
        finished.store(0, ordering: .relaxed)
        let run = (generation.load(ordering: .relaxed) &+ 1) & 0xFF_FFFF
        let threads = ranges.count
        for (t, range) in ranges.enumerated() {
            let begin = UInt64(t * chunks / threads), end = UInt64((t + 1) * chunks / threads)
            range.word.store(run << 40 | begin << 20 | end, ordering: .releasing)
        }
        generation.store(run, ordering: .releasing)
        if sleepers.load(ordering: .acquiring) > 0 {
            for _ in 0..<workers { wake.signal() }
        }
        work(run: run, thread: 0)
        // A chunk still running elsewhere may belong to a worker the OS has preempted (another process wants the
        // core): after a short spin, yielding lets that worker run on this core instead of waiting out its turn.
        var spins = 0
        while finished.load(ordering: .acquiring) < chunks {
            spins += 1
            if spins > Self.waitSpins { sched_yield() }
        }
        self.body = nil
    }

    func stop(workers: Int) {
        stopping.store(true, ordering: .releasing)
        for _ in 0..<workers { wake.signal() }
    }

    /// The thread's own range from the front, then each other range from the back.
    private func work(run: UInt64, thread: Int) {
        for offset in 0..<ranges.count {
            let range = ranges[(thread + offset) % ranges.count]
            while let chunk = range.claim(run: run, fromFront: offset == 0) {
                body?(chunk, thread)
                finished.add(1, ordering: .releasing)
            }
        }
    }

    func workerLoop(index: Int) {
        var seen: UInt64 = 0
        while true {
            var spins = 0
            var run = generation.load(ordering: .acquiring)
            while run == seen {
                if stopping.load(ordering: .acquiring) { return }
                spins += 1
                if spins > Self.spinIterations {
                    // Yield rather than burn a core another thread (the caller, another process) could use.
                    sched_yield()
                }
                if spins >= Self.spinIterations + Self.yieldIterations {
                    sleepers.add(1, ordering: .acquiringAndReleasing)
                    if generation.load(ordering: .acquiring) == seen && !stopping.load(ordering: .acquiring) { wake.wait() }
                    sleepers.subtract(1, ordering: .acquiringAndReleasing)
                    spins = 0
                }
                run = generation.load(ordering: .acquiring)
            }
            seen = run
            work(run: run, thread: index)
        }
    }
}

/// One thread's home range of the current run's chunks: the unclaimed chunks are `front ..< back`, claimed by the
/// owner from the front and by the other threads from the back. Padded so that two ranges' words do not share a
/// cache line (each owner writes its own once per chunk).
private final class ChunkRange: @unchecked Sendable {
    /// run number (24 bits) | front (20 bits) | back (20 bits)
    let word = Atomic<UInt64>(0)
    private let padding: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                          UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

    /// The chunk claimed from the front (`fromFront`) or the back of the range, or nil once the range is empty or
    /// holds another run.
    func claim(run: UInt64, fromFront: Bool) -> Int? {
        while true {
            let current = word.load(ordering: .acquiring)
            let front = Int((current >> 20) & 0xF_FFFF), back = Int(current & 0xF_FFFF)
            guard current >> 40 == run, front < back else { return nil }
            let desired = fromFront ? current + (1 << 20) : current - 1
            if word.compareExchange(expected: current, desired: desired, ordering: .acquiringAndReleasing).exchanged {
                return fromFront ? front : back - 1
            }
        }
    }
}
