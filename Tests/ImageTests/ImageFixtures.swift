import Foundation
import ShuffleNetImage
import Testing

// Fixtures and expectations come from Scripts/make_decode_fixtures.py and Scripts/make_hostile_fixtures.py (Pillow, OpenCV, libjpeg-turbo's
// cjpeg/djpeg), never from this decoder's own output.

/// A file that must decode to a reference library's pixels, as listed in Fixtures/decode/expected.json and
/// Fixtures/hostile/decodable.json.
struct ReferenceFixture: Decodable, CustomStringConvertible, Sendable {
    let file: String
    let width: Int
    let height: Int
    let expectedRGB: String
    let reference: String
    let maxAbsDifference: Int
    var description: String { file }
}

/// A file that must be refused, as listed in Fixtures/hostile/refused.json.
struct HostileRefused: Decodable, CustomStringConvertible, Sendable {
    let file: String
    let kind: String
    let messagePart: String
    var description: String { file }

    var expectedKind: ImageDecodingError.Kind? {
        switch kind {
        case "corrupt": .corrupt
        case "tooLarge": .tooLarge
        case "unsupportedFormat": .unsupportedFormat
        case "empty": .empty
        default: nil
        }
    }
}

enum ImageFixtures {
    static func directory(_ folder: String = "hostile") throws -> URL {
        let resources = try #require(Bundle.module.resourceURL, "test bundle has no resources")
        return resources.appendingPathComponent("Fixtures/\(folder)")
    }

    static func path(_ name: String, in folder: String = "hostile") throws -> String {
        try directory(folder).appendingPathComponent(name).path
    }

    static func bytes(_ name: String, in folder: String = "hostile") throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory(folder).appendingPathComponent(name)))
    }

    static func referenceFixtures(_ manifest: String, in folder: String) throws -> [ReferenceFixture] {
        try JSONDecoder().decode([ReferenceFixture].self, from: Data(bytes(manifest, in: folder)))
    }

    static func decodable() throws -> [ReferenceFixture] { try referenceFixtures("decodable.json", in: "hostile") }

    /// Every fixture decodes to its reference's size and pixels (within the fixture's stated tolerance).
    static func expectReferencePixels(_ fixtures: [ReferenceFixture], in folder: String) throws {
        for fixture in fixtures {
            let image = try ImageDecoder.decode(contentsOf: path(fixture.file, in: folder))
            #expect(image.width == fixture.width && image.height == fixture.height,
                    "\(fixture.file): \(image.width)x\(image.height), want \(fixture.width)x\(fixture.height)")
            let difference = maxAbsDifference(image.pixels, try bytes(fixture.expectedRGB, in: folder))
            #expect((difference ?? Int.max) <= fixture.maxAbsDifference,
                    "\(fixture.file) vs \(fixture.reference): max difference \(difference.map(String.init) ?? "size mismatch")")
        }
    }

    static func refused() throws -> [HostileRefused] {
        try JSONDecoder().decode([HostileRefused].self, from: Data(bytes("refused.json")))
    }

    /// Largest per-byte difference, or nil when the lengths differ.
    static func maxAbsDifference(_ a: [UInt8], _ b: [UInt8]) -> Int? {
        guard a.count == b.count else { return nil }
        return zip(a, b).reduce(0) { worst, pair in max(worst, abs(Int(pair.0) - Int(pair.1))) }
    }

    /// Seconds taken by `work`, by the monotonic clock.
    static func seconds(_ work: () -> Void) -> Double {
        let clock = ContinuousClock()
        let elapsed = clock.measure(work)
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }
}
