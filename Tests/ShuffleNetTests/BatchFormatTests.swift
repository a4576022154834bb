import Foundation
import ShuffleNet
import ShuffleNetBatch
import Testing

/// Output rows byte for byte (expected strings written by hand from RFC 4180 / RFC 8259), and reading them
/// back for --resume, torn rows included.
@Suite struct BatchFormatTests {
    // Prediction's initialiser is internal; it is Codable, so the tests make them the way a client would.
    static let predictions = try! JSONDecoder().decode([Prediction].self, from: Data(#"[{"index":285,"label":"Egyptian cat","probability":0.5},{"index":281,"label":"tabby, tabby cat","probability":0.25}]"#.utf8))
    static let ok = BatchRecord(sequence: 0, path: "dir/a \"b\",c.jpg", outcome: .predictions(predictions))
    static let bad = BatchRecord(sequence: 1, path: "x\ny.png", outcome: .failure("x\ny.png: empty file (0 bytes)"))

    @Test func csvRowsQuoteOnlyWhatNeedsIt() {
        let encoder = BatchRecordEncoder(format: .csv, topK: 2)
        #expect(encoder.header == "path,top1_index,top1_label,top1_probability,error,top2_index,top2_label,top2_probability\n")
        #expect(encoder.encode(Self.ok, first: true) == "\"dir/a \"\"b\"\",c.jpg\",285,Egyptian cat,0.5,,281,\"tabby, tabby cat\",0.25\n")
        #expect(encoder.encode(Self.bad, first: false) == "\"x\ny.png\",,,,\"x\ny.png: empty file (0 bytes)\",,,\n")
    }

    @Test func jsonlAndJSONRows() {
        let jsonl = BatchRecordEncoder(format: .jsonl, topK: 2)
        #expect(jsonl.encode(Self.ok, first: true) == #"{"path":"dir/a \"b\",c.jpg","predictions":[{"index":285,"label":"Egyptian cat","probability":0.5},{"index":281,"label":"tabby, tabby cat","probability":0.25}]}"# + "\n")
        #expect(jsonl.encode(Self.bad, first: false) == #"{"path":"x\ny.png","error":"x\ny.png: empty file (0 bytes)"}"# + "\n")
        let json = BatchRecordEncoder(format: .json, topK: 2)
        let whole = json.header + json.encode(Self.bad, first: true) + json.encode(Self.bad, first: false) + json.footer(wroteRecords: true)
        let parsed = try? JSONSerialization.jsonObject(with: Data(whole.utf8)) as? [[String: String]]
        #expect(parsed?.count == 2 && parsed?[0]["path"] == "x\ny.png")
        #expect(json.header + json.footer(wroteRecords: false) == "[]\n")
        #expect(BatchTextEscaping.json("\u{1}\t") == #""\u0001\t""#)
    }

    @Test func textRowsForPeople() {
        let text = BatchRecordEncoder(format: .text, topK: 2)
        #expect(text.encode(Self.ok, first: true) == "dir/a \"b\",c.jpg\n   50.000%  Egyptian cat (285)\n   25.000%  tabby, tabby cat (281)\n")
        #expect(text.encode(Self.bad, first: true) == "x\ny.png\n  error: x\ny.png: empty file (0 bytes)\n")
    }

    func write(_ text: String, in directory: String) -> String { write(Array(text.utf8), in: directory) }

    func write(_ bytes: [UInt8], in directory: String) -> String {
        let path = directory + "/out"
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    @Test(arguments: [BatchOutputFormat.jsonl, .csv])
    func resumeReadsCompleteRowsAndCutsATornOne(format: BatchOutputFormat) throws {
        let tmp = try BatchTestSupport.temporaryDirectory("resume")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let encoder = BatchRecordEncoder(format: format, topK: 2)
        let complete = encoder.header + encoder.encode(Self.ok, first: true) + encoder.encode(Self.bad, first: false)
        let third = encoder.encode(BatchRecord(sequence: 2, path: "é/ü.jpg", outcome: .predictions(Self.predictions)), first: false)
        for cut in [0, 1, 5, third.utf8.count - 1] {
            // Cut bytes, not characters: a kill can land inside a UTF-8 sequence.
            let torn = Array(complete.utf8) + Array(third.utf8).prefix(cut)
            let log = try ResumeLog.read(contentsOf: write(torn, in: tmp), encoder: encoder)
            #expect(log.completedPaths == [Self.ok.path, Self.bad.path])
            #expect(log.validByteCount == complete.utf8.count && log.tornByteCount == cut)
            #expect(!log.needsHeader)
        }
        let whole = try ResumeLog.read(contentsOf: write(complete + third, in: tmp), encoder: encoder)
        #expect(whole.completedPaths == [Self.ok.path, Self.bad.path, "é/ü.jpg"] && whole.tornByteCount == 0)
        let missing = try ResumeLog.read(contentsOf: tmp + "/none", encoder: encoder)
        #expect(missing.completedPaths.isEmpty && missing.validByteCount == 0 && missing.needsHeader == (format == .csv))
    }

    @Test func resumeRefusesOtherFilesAndOtherHeaders() throws {
        let tmp = try BatchTestSupport.temporaryDirectory("resume-bad")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let jsonl = BatchRecordEncoder(format: .jsonl, topK: 2)
        let garbage = write("hello\n" + jsonl.encode(Self.ok, first: true), in: tmp)
        #expect(throws: BatchError.self) { try ResumeLog.read(contentsOf: garbage, encoder: jsonl) }
        let csv2 = BatchRecordEncoder(format: .csv, topK: 2)
        let csv3 = BatchRecordEncoder(format: .csv, topK: 3)
        let otherTopK = write(csv2.header + csv2.encode(Self.ok, first: true), in: tmp)
        #expect(throws: BatchError.self) { try ResumeLog.read(contentsOf: otherTopK, encoder: csv3) }
        #expect(throws: BatchError.self) { try ResumeLog.read(contentsOf: otherTopK, encoder: BatchRecordEncoder(format: .json, topK: 2)) }
        // A torn header is no header: the resumed run writes it again.
        let tornHeader = try ResumeLog.read(contentsOf: write("path,top1_in", in: tmp), encoder: csv2)
        #expect(tornHeader.needsHeader && tornHeader.validByteCount == 0 && tornHeader.tornByteCount == 12)
    }
}
