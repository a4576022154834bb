import Foundation
import SharedTestData
import ShuffleNetImage
import Testing

/// classify's decoding flags on the built binary: truncated files are errors unless --allow-truncated (then a
/// warning), --max-pixels refuses from the header, --save-crops writes the crop `preview` writes.
@Suite(.enabled(if: CLITestSupport.binary != nil, CLITestSupport.skip))
final class CLIDecodingFlagsTests {
    let tmp: String
    let weights: String
    let cat = SharedTestData.packageRoot + "/Scripts/samples/chelsea-cat.jpg"

    init() throws {
        tmp = try BatchTestSupport.temporaryDirectory("cli-decoding")
        weights = try BatchTestSupport.randomWeightsFile(in: tmp)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: cat))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: tmp + "/half.jpg"))
    }

    deinit { try? FileManager.default.removeItem(atPath: tmp) }

    func run(_ arguments: [String]) throws -> CLITestSupport.Run {
        try CLITestSupport.run(arguments, in: tmp)
    }

    @Test func truncatedIsAnErrorUnlessAllowed() throws {
        let strict = try run(["classify", "--weights", weights, "--format", "jsonl", "-q", "half.jpg"])
        #expect(strict.status == 2 && strict.text.contains("\"error\":\"half.jpg: truncated"))
        let lenient = try run(["classify", "--weights", weights, "--format", "jsonl", "--allow-truncated", "half.jpg"])
        #expect(lenient.status == 0 && lenient.text.contains("\"predictions\""))
        #expect(lenient.stderr.contains("warning: half.jpg: truncated"))
    }

    @Test func maxPixelsRefusesFromTheHeader() throws {
        let refused = try run(["classify", "--weights", weights, "--format", "jsonl", "-q", "--max-pixels", "1000", cat])
        #expect(refused.status == 2 && refused.text.contains("too large"))
    }

    @Test func savedCropEqualsPreview() throws {
        let classified = try run(["classify", "--weights", weights, "-q", "--save-crops", "crops", cat])
        #expect(classified.status == 0)
        let saved = tmp + "/crops/" + String(cat.drop { $0 == "/" }).replacingOccurrences(of: "/", with: "_") + ".png"
        let previewed = try run(["preview", cat, "-o", "preview.png"])
        #expect(previewed.status == 0)
        let a = try ImageDecoder.decode(contentsOf: saved), b = try ImageDecoder.decode(contentsOf: tmp + "/preview.png")
        #expect(a.width == 224 && a.height == 224 && a == b)
    }
}
