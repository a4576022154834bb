import Foundation
import ShuffleNet
import ShuffleNetBatch
import ShuffleNetEngine
import Testing

/// The pipeline against the plain, locked `ImageClassifier.classify`: same rows, in input order, whatever
/// the threads and window; failures as rows; --fail-fast stops at the first.
@Suite struct BatchClassifierTests {
    static func classifier(_ tmp: String) throws -> ImageClassifier {
        try ImageClassifier(weightsAt: try BatchTestSupport.randomWeightsFile(in: tmp))
    }

    @Test(arguments: [(1, 1), (2, 2), (3, 64)])
    func rowsMatchOneByOneClassificationInInputOrder(threads: Int, window: Int) throws {
        let tmp = try BatchTestSupport.temporaryDirectory("pipeline")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let (root, expected) = try BatchTestSupport.makeJudgedTree(in: tmp)
        let classifier = try Self.classifier(tmp)
        var settings = BatchClassifier.Settings()
        settings.threads = threads
        settings.window = window
        settings.topK = 3
        let inputs = BatchInputs(walker: InputWalker(sources: [.path(root)], recursive: true, filter: try InputFilter()))
        var records: [BatchRecord] = []
        let summary = BatchClassifier(classifier: classifier, settings: settings).run(next: { inputs.next() }) { record in
            records.append(record)
            return .proceed
        }
        #expect(records.map(\.path) == expected.map { root + "/" + $0.path })
        #expect(records.map(\.sequence) == Array(0..<expected.count))
        #expect(records.map(\.isFailure) == expected.map(\.bad))
        for record in records {
            switch (record.outcome, Result { try classifier.classify(imageAt: record.path, topK: 3) }) {
            case (.predictions(let got), .success(let reference)): #expect(got == reference, "\(record.path)")
            case (.failure(let message), .failure(let error)): #expect(message == "\(error)")
            default: Issue.record("\(record.path): pipeline and classifier disagree on failure")
            }
        }
        #expect(summary.records == expected.count && summary.failures == 4 && !summary.stoppedEarly)
    }

    @Test func stoppingAtTheFirstFailureWritesNothingAfterIt() throws {
        let tmp = try BatchTestSupport.temporaryDirectory("failfast")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let (root, expected) = try BatchTestSupport.makeJudgedTree(in: tmp)
        let inputs = BatchInputs(walker: InputWalker(sources: [.path(root)], recursive: true, filter: try InputFilter()))
        var paths: [String] = []
        let summary = BatchClassifier(classifier: try Self.classifier(tmp)).run(next: { inputs.next() }) { record in
            paths.append(record.path)
            return record.isFailure ? .stop : .proceed
        }
        let firstBad = try #require(expected.firstIndex { $0.bad })
        #expect(paths == expected.prefix(firstBad + 1).map { root + "/" + $0.path })
        #expect(summary.stoppedEarly && summary.failures == 1)
    }

    @Test func aThrowingHandlerEndsTheRun() throws {
        struct Full: Error {}
        let tmp = try BatchTestSupport.temporaryDirectory("throw")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let (root, _) = try BatchTestSupport.makeJudgedTree(in: tmp)
        let inputs = BatchInputs(walker: InputWalker(sources: [.path(root)], recursive: true, filter: try InputFilter()))
        var calls = 0
        #expect(throws: Full.self) {
            _ = try BatchClassifier(classifier: try Self.classifier(tmp)).run(next: { inputs.next() }) { (_: BatchRecord) throws(Full) -> BatchDecision in
                calls += 1
                throw Full()
            }
        }
        #expect(calls == 1)
    }
}
