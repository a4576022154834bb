import ShuffleNet
import Foundation

/// The inputs of one run after `--shard` and `--resume`: the walk's items that belong to this shard and
/// are not already in the output. Safe to call from the pipeline's feeder thread; the count of skipped
/// items can be read from any thread.
package final class BatchInputs: @unchecked Sendable {
    private let walker: InputWalker
    package let shard: ShardSelection?
    private let alreadyDone: Set<String>
    private let lock = NSLock()
    private var skipped = 0

    package init(walker: InputWalker, shard: ShardSelection? = nil, alreadyDone: Set<String> = []) {
        self.walker = walker
        self.shard = shard
        self.alreadyDone = alreadyDone
    }

    /// False when the walk reads stdin, which can be read only once.
    package var isRepeatable: Bool { walker.isRepeatable }

    package func next() -> InputItem? {
        while let item = walker.next() {
            if shard?.contains(item) == false { continue }
            if alreadyDone.contains(item.path) {
                lock.lock()
                skipped += 1
                lock.unlock()
                continue
            }
            return item
        }
        return nil
    }

    /// Empty entries of the stdin list, skipped (not inputs, but the summary says how many).
    package var emptyLinesSkipped: Int { walker.emptyLinesSkipped }

    /// Items of this shard skipped because the output already has them.
    package var skippedAsDone: Int {
        lock.lock()
        defer { lock.unlock() }
        return skipped
    }
}
