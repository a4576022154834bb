import Foundation
import ShuffleNet
import ShuffleNetEngine
import ShuffleNetImage

/// What the record handler wants after a record: go on, or stop the run (`--fail-fast`).
package enum BatchDecision: Sendable {
    case proceed
    case stop
}

/// Classifies a stream of files on several threads and hands the results back in input order (or, for
/// `shufflenet embed`, their pooled features: `Settings.product`).
///
/// Each worker thread takes the next input, reads, decodes and preprocesses it into its own buffer, runs
/// the network with its own `Workspace` and ranks the classes; with one worker per core, one core decodes
/// while the other runs the network and neither waits on the other (no lock is shared on the hot path: the
/// `ImageClassifier`'s own lock is bypassed). The engine gains nothing from batching images (it runs them
/// one at a time), so a separate decode stage feeding an inference stage would only add a hand-off. A
/// feeder thread walks the inputs and a bounded window keeps memory flat (see `BatchPipelineState`); the
/// calling thread writes results in input order as soon as each one's turn comes.
package final class BatchClassifier: Sendable {
    package struct Settings: Sendable {
        /// Worker threads (decode + network each); by default the CPUs this process may use (affinity mask
        /// and cgroup quota, `AvailableCPUs`), not the machine's cores.
        package var threads = AvailableCPUs.count
        package var topK = 5
        /// Most inputs between the walk and the output at once (default 8 per thread): each costs one
        /// decoded photo at most while in a worker, and a short record once done.
        package var window: Int?
        /// Where to write each input's 224x224 crop as PNG (`classify --save-crops`); nil: not kept.
        package var cropDirectory: String?
        /// Receives decoder warnings (recovered damage and the like), one line each, from any worker thread.
        package var warn: (@Sendable (String) -> Void)?
        /// What each record carries.
        package var product = Product.predictions
        package init() {}
    }

    /// The top-k classes (`classify`), or the pooled features, L2-normalised or not (`embed`).
    package enum Product: Sendable, Equatable {
        case predictions
        case features(normalized: Bool)
    }

    package let classifier: ImageClassifier
    package let settings: Settings

    /// The crop's file name: the input path with its separators flattened (`a/b/c.jpg` -> `a_b_c.jpg.png`),
    /// so inputs with the same base name in different folders do not overwrite each other.
    package static func cropFileName(for path: String) -> String {
        let trimmed = path.drop { $0 == "/" || $0 == "." }
        return (trimmed.isEmpty ? "input" : trimmed.replacingOccurrences(of: "/", with: "_")) + ".png"
    }

    package init(classifier: ImageClassifier, settings: Settings = Settings()) {
        self.classifier = classifier
        self.settings = settings
    }

    /// Classifies every item `next` yields (called on a feeder thread until it returns nil) and calls
    /// `handle` on the calling thread for each record, in input order. Returns when every record has been
    /// handled, when `handle` says `.stop`, or when it throws (the error is rethrown after the workers end).
    package func run<E: Error>(next: @escaping @Sendable () -> InputItem?,
                              handle: (BatchRecord) throws(E) -> BatchDecision) throws(E) -> BatchSummary {
        let threads = max(1, settings.threads)
        let state = BatchPipelineState(window: settings.window ?? 8 * threads)
        let timing = BatchTiming()
        let start = DispatchTime.now().uptimeNanoseconds
        let feeder = Thread {
            while let item = next() {
                guard state.feed(item) else { return }
            }
            state.finishFeeding()
        }
        feeder.start()
        let workers = DispatchGroup()
        for _ in 0..<threads {
            workers.enter()
            let thread = Thread { [self] in
                work(state: state, timing: timing)
                workers.leave()
            }
            // libjpeg and libpng keep sizeable structures on the stack; don't rely on a small default.
            thread.stackSize = 8 << 20
            thread.start()
        }
        var records = 0, failures = 0, stopped = false
        while let record = state.nextInOrder() {
            let decision: BatchDecision
            do {
                decision = try handle(record)
            } catch {
                state.cancel()
                workers.wait()
                throw error
            }
            state.written()
            records += 1
            if record.isFailure { failures += 1 }
            if decision == .stop {
                stopped = true
                state.cancel()
                break
            }
        }
        workers.wait()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return BatchSummary(records: records, failures: failures, stoppedEarly: stopped, seconds: seconds,
                            threads: threads, decodeSeconds: timing.decodeSeconds, inferenceSeconds: timing.inferenceSeconds)
    }

    /// One worker: its own input tensor, logits and workspace, reused for every image it takes.
    private func work(state: BatchPipelineState, timing: BatchTiming) {
        let model = classifier.model
        // Made when this worker gets its first image: with fewer images than workers (one photo), the idle
        // workers never pay for a workspace's pages.
        var workspace: Workspace?
        // The worker's own workspace for the fp32 recheck of int8 near ties (`Int8Recheck`), made on its first one.
        var recheckWorkspace: Workspace?
        var tensor: [Float] = []
        var logits = [Float](repeating: 0, count: model.configuration.numClasses)
        var pooled = [Float](repeating: 0, count: settings.product == .predictions ? 0 : model.plan.finalChannels)
        var decodeNanoseconds: UInt64 = 0, inferenceNanoseconds: UInt64 = 0
        defer { timing.add(decode: decodeNanoseconds, inference: inferenceNanoseconds) }
        while let (sequence, item) = state.take() {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let outcome: BatchOutcome
            if let problem = item.problem {
                outcome = .failure("\(item.path): \(problem)")
            } else {
                if tensor.isEmpty { tensor = [Float](repeating: 0, count: Preprocessor.tensorCount) }
                do {
                    let prepared = try tensor.withUnsafeMutableBufferPointer { buffer throws(ClassifierError) in
                        try classifier.writeInput(forImageAt: item.path, into: buffer)
                    }
                    prepared.warnings.forEach { settings.warn?($0) }
                    if let directory = settings.cropDirectory {
                        let file = (directory as NSString).appendingPathComponent(Self.cropFileName(for: item.path))
                        do { try PNGWriter.write(prepared.crop, to: file) } catch {
                            settings.warn?("\(item.path): crop not saved: \(error)")
                        }
                    }
                    let t1 = DispatchTime.now().uptimeNanoseconds
                    decodeNanoseconds += t1 - t0
                    let planned = workspace ?? model.makeWorkspace()
                    workspace = planned
                    tensor.withUnsafeBufferPointer { x in
                        logits.withUnsafeMutableBufferPointer { y in
                            pooled.withUnsafeMutableBufferPointer { f in
                                // An empty array's buffer may still have a base address: ask for features only when wanted.
                                let features = settings.product == .predictions ? nil : f.baseAddress
                                model.run(input: x.baseAddress!, logits: y.baseAddress!, workspace: planned, features: features)
                            }
                            // Features (`embed`) are the network's own; only answers are rechecked.
                            if settings.product == .predictions {
                                classifier.recheckNearTie(input: x.baseAddress!, logits: y, workspace: &recheckWorkspace)
                            }
                        }
                    }
                    switch settings.product {
                    case .predictions:
                        outcome = .predictions(ImageClassifier.topPredictions(logits: logits, labels: classifier.labels, k: settings.topK))
                    case .features(let normalized):
                        outcome = .features(normalized ? FeatureExtractor.normalized(pooled) : pooled)
                    }
                    inferenceNanoseconds += DispatchTime.now().uptimeNanoseconds - t1
                } catch {
                    outcome = .failure("\(error)")
                }
            }
            state.complete(BatchRecord(sequence: sequence, path: item.path, outcome: outcome))
        }
    }
}

/// How a run went, for the summary line.
package struct BatchSummary: Sendable {
    /// Records handled (written), errors included.
    package let records: Int
    package let failures: Int
    /// The handler stopped the run (`--fail-fast`) before the inputs ran out.
    package let stoppedEarly: Bool
    package let seconds: Double
    package let threads: Int
    /// Summed over the workers: reading + decoding + preprocessing, and network + ranking.
    package let decodeSeconds: Double
    package let inferenceSeconds: Double

    package var filesPerSecond: Double { seconds > 0 ? Double(records) / seconds : 0 }
    /// Per successfully classified file, on one thread.
    package var decodeMillisecondsPerFile: Double { perFile(decodeSeconds) }
    package var inferenceMillisecondsPerFile: Double { perFile(inferenceSeconds) }

    private func perFile(_ total: Double) -> Double {
        let classified = records - failures
        return classified > 0 ? 1000 * total / Double(classified) : 0
    }
}

/// The workers' stage times, added up as each worker ends.
final class BatchTiming: @unchecked Sendable {
    private let lock = NSLock()
    private var decode: UInt64 = 0
    private var inference: UInt64 = 0

    func add(decode d: UInt64, inference i: UInt64) {
        lock.lock()
        decode += d
        inference += i
        lock.unlock()
    }

    var decodeSeconds: Double { lock.lock(); defer { lock.unlock() }; return Double(decode) / 1e9 }
    var inferenceSeconds: Double { lock.lock(); defer { lock.unlock() }; return Double(inference) / 1e9 }
}
