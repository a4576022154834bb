import Foundation
import ShuffleNet
import ShuffleNetBatch
import ShuffleNetEngine
import Testing

/// Rechecking int8 near ties: which logits count as a tie (hand-computed gaps), and that `ImageClassifier` and the
/// batch pipeline give the recheck network's answer exactly when a tie is seen, int8's otherwise, and never
/// recheck fp32 weights or int8 files without recheck weights. Random 0.5x g3 weights quantized on the two sample
/// photos (no shared data needed).
@Suite struct Int8RecheckTests {
    @Test func aNearTieIsATopTwoGapBelowTheMargin() {
        let recheck = Int8Recheck(margin: 0.2)
        func tie(_ logits: [Float], _ r: Int8Recheck = Int8Recheck(margin: 0.2)) -> Bool {
            logits.withUnsafeBufferPointer { r.isNearTie($0) }
        }
        #expect(tie([1, 0.81, -3]))          // gap 0.19
        #expect(!tie([1, 0.75, 0.5], Int8Recheck(margin: 0.25)))   // gap exactly 0.25: not below
        #expect(tie([1, Float(0.75).nextUp], Int8Recheck(margin: 0.25)))
        #expect(tie([-5, 2, 2]))             // an exact tie, wherever it is
        #expect(tie([0.5, 3, 2.9, 0]))       // the top two are found in any order
        #expect(!tie([7]))                   // one class: nothing to swap
        #expect(!tie([1, 0.99], .off))
        #expect(recheck.isEnabled && !Int8Recheck.off.isEnabled)
        for bad: Float in [-1, .nan, .infinity, 0] { #expect(!Int8Recheck(margin: bad).isEnabled, "\(bad)") }
        #expect(Int8Recheck.standard.margin == 0.2)
    }

    /// fp32 weights and the int8 file made from them (with or without recheck weights), in `directory`.
    static func weights(in directory: String) throws -> (fp32: String, int8: String, int8Plain: String) {
        let fp32 = try BatchTestSupport.randomWeightsFile(in: directory)
        let source = try ImageClassifier(weightsAt: fp32)
        var quantizer = Int8Quantizer(classifier: source, method: .minMax)
        quantizer.rounding = .nearest
        let photos = [BatchTestSupport.catJPEG, BatchTestSupport.cupPNG]
        let int8 = try quantizer.quantize(paths: photos).weights
        quantizer.recheckWeights = false
        let plain = try quantizer.quantize(paths: photos).weights
        #expect(int8.recheck != nil && plain.recheck == nil)
        try int8.safeTensors().write(to: directory + "/int8.safetensors")
        try plain.safeTensors().write(to: directory + "/plain.safetensors")
        return (fp32, directory + "/int8.safetensors", directory + "/plain.safetensors")
    }

    @Test func theClassifierAnswersWithTheRecheckNetworkExactlyOnNearTies() throws {
        let tmp = try BatchTestSupport.temporaryDirectory("recheck")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let files = try Self.weights(in: tmp)
        let always = try ImageClassifier(weightsAt: files.int8, int8Recheck: Int8Recheck(margin: .greatestFiniteMagnitude))
        let never = try ImageClassifier(weightsAt: files.int8, int8Recheck: .off)
        guard case .int8(let quantized) = always.weights else {
            Issue.record("not int8")
            return
        }
        #expect(always.rechecksNearTies && !never.rechecksNearTies)
        let int8Model = try ShuffleNetModel(quantized: quantized)
        let recheckModel = try #require(try ShuffleNetModel(rechecking: quantized))
        var input = [Float](repeating: 0, count: Preprocessor.tensorCount)
        _ = try input.withUnsafeMutableBufferPointer { try always.writeInput(forImageAt: BatchTestSupport.catJPEG, into: $0) }
        let int8Logits = try int8Model.logits(for: input), fp32Logits = try recheckModel.logits(for: input)
        #expect(int8Logits != fp32Logits)
        #expect(try always.logits(forInput: input) == fp32Logits)
        #expect(try never.logits(forInput: input) == int8Logits)
        #expect(always.recheckedCount == 1 && never.recheckedCount == 0)
        // The margin decides: just above this photo's int8 gap rechecks it, at the gap does not.
        let sorted = int8Logits.sorted(by: >)
        let gap = sorted[0] - sorted[1]
        let above = try ImageClassifier(weightsAt: files.int8, int8Recheck: Int8Recheck(margin: gap.nextUp))
        let at = try ImageClassifier(weightsAt: files.int8, int8Recheck: Int8Recheck(margin: gap))
        #expect(try above.logits(forInput: input) == fp32Logits)
        #expect(try at.logits(forInput: input) == int8Logits)
        // Nothing to recheck with: an int8 file without recheck weights, and fp32 weights.
        for path in [files.int8Plain, files.fp32] {
            let classifier = try ImageClassifier(weightsAt: path, int8Recheck: Int8Recheck(margin: .greatestFiniteMagnitude))
            #expect(!classifier.rechecksNearTies)
            _ = try classifier.logits(forInput: input)
            #expect(classifier.recheckedCount == 0)
        }
    }

    @Test(arguments: [1, 2])
    func theBatchPipelineRechecksAsTheClassifierDoes(threads: Int) throws {
        let tmp = try BatchTestSupport.temporaryDirectory("recheck-batch")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let files = try Self.weights(in: tmp)
        let photos = [BatchTestSupport.catJPEG, BatchTestSupport.cupPNG, BatchTestSupport.catJPEG]
        for margin: Float in [0, .greatestFiniteMagnitude] {
            let batch = try ImageClassifier(weightsAt: files.int8, int8Recheck: Int8Recheck(margin: margin))
            let single = try ImageClassifier(weightsAt: files.int8, int8Recheck: Int8Recheck(margin: margin))
            var settings = BatchClassifier.Settings()
            settings.threads = threads
            settings.topK = 5
            let inputs = BatchInputs(walker: InputWalker(sources: photos.map { .path($0) }, recursive: false, filter: try InputFilter()))
            var records: [BatchRecord] = []
            _ = BatchClassifier(classifier: batch, settings: settings).run(next: { inputs.next() }) { record in
                records.append(record)
                return .proceed
            }
            #expect(records.count == photos.count)
            for record in records {
                guard case .predictions(let got) = record.outcome else {
                    Issue.record("\(record.path): \(record.outcome)")
                    continue
                }
                #expect(got == (try single.classify(imageAt: record.path, topK: 5)), "margin \(margin) \(record.path)")
            }
            #expect(batch.recheckedCount == (margin > 0 ? photos.count : 0))
            #expect(single.recheckedCount == batch.recheckedCount)
        }
    }
}
