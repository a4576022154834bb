import ShuffleNet
import Foundation

/// The shared state of one `BatchClassifier.run`, behind one condition variable: the queue of numbered
/// inputs waiting for a worker, the finished records waiting for their turn to be written, and the window
/// that bounds both.
///
/// The feeder may only number input `n` once `n < nextToWrite + window`, so at most `window` inputs are
/// anywhere between the walk and the output at once, however large the tree and however slow one image
/// is: that is the memory bound, and the reorder buffer can never grow past it.
final class BatchPipelineState: @unchecked Sendable {
    private let condition = NSCondition()
    private let window: Int
    private var pending: [(sequence: Int, item: InputItem)] = []
    private var finished: [Int: BatchRecord] = [:]
    private var nextToWrite = 0
    private var fed = 0
    private var feedingDone = false
    private(set) var cancelled = false

    init(window: Int) { self.window = max(1, window) }

    /// Feeder: waits for room in the window, then queues the item. False once the run is cancelled.
    func feed(_ item: InputItem) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !cancelled, fed - nextToWrite >= window { condition.wait() }
        guard !cancelled else { return false }
        pending.append((fed, item))
        fed += 1
        condition.broadcast()
        return true
    }

    func finishFeeding() {
        condition.lock()
        feedingDone = true
        condition.broadcast()
        condition.unlock()
    }

    /// Worker: the oldest queued input, or nil when there will be no more (or the run was cancelled).
    func take() -> (sequence: Int, item: InputItem)? {
        condition.lock()
        defer { condition.unlock() }
        while pending.isEmpty, !feedingDone, !cancelled { condition.wait() }
        guard !cancelled, !pending.isEmpty else { return nil }
        return pending.removeFirst()
    }

    func complete(_ record: BatchRecord) {
        condition.lock()
        finished[record.sequence] = record
        condition.broadcast()
        condition.unlock()
    }

    /// Writer: the record that comes next in input order, once it is finished; nil after the last one.
    func nextInOrder() -> BatchRecord? {
        condition.lock()
        defer { condition.unlock() }
        while finished[nextToWrite] == nil, !cancelled, !(feedingDone && nextToWrite == fed) { condition.wait() }
        guard !cancelled else { return nil }
        return finished.removeValue(forKey: nextToWrite)
    }

    /// Writer: the record returned by `nextInOrder` is written; its slot in the window is free.
    func written() {
        condition.lock()
        nextToWrite += 1
        condition.broadcast()
        condition.unlock()
    }

    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}
