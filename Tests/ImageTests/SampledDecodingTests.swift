import Foundation
import ShuffleNetImage
import Testing

/// Decoding only the pixels the crop reads (`ImageDecoder.withSampledDecode`) must give exactly the crop of
/// the whole decoded picture, whose pixels the other suites check against Pillow, OpenCV and djpeg.
@Suite("Sampled decoding")
struct SampledDecodingTests {
    /// Every fixture that decodes, in every folder.
    static func decodableFiles() throws -> [String] {
        let decode = try ImageFixtures.referenceFixtures("expected.json", in: "decode").map { try ImageFixtures.path($0.file, in: "decode") }
        let hostile = try ImageFixtures.decodable().map { try ImageFixtures.path($0.file) }
        let xmp = try ImageFixtures.referenceFixtures("expected.json", in: "xmp").map { try ImageFixtures.path($0.file, in: "xmp") }
        return decode + hostile + xmp
    }

    static func sampledCrop(_ path: String, style: PreprocessingStyle, options: DecodingOptions = .default,
                            budget: DecodeMemoryBudget = DecodeMemoryBudget()) throws(ImageDecodingError) -> RGBImage {
        let preprocessor = Preprocessor(style: style)
        return try ImageDecoder.withSampledDecode(
            contentsOf: path, options: options, budget: budget,
            selecting: { preprocessor.pixelsRead(width: $0, height: $1) },
            body: { preprocessor.crop($0.image) })
    }

    @Test("the crop from the sampled pixels equals the crop of the whole picture, every fixture, both styles, EXIF on and off",
          arguments: [true, false])
    func cropsMatchWholeDecode(applyOrientation: Bool) throws {
        let files = try Self.decodableFiles()
        #expect(files.count > 40)
        let options = DecodingOptions(applyExifOrientation: applyOrientation)
        for file in files {
            let whole = try ImageDecoder.decode(contentsOf: file, options: options)
            for style in PreprocessingStyle.allCases {
                let expected = Preprocessor(style: style).crop(whole)
                let sampled = try Self.sampledCrop(file, style: style, options: options)
                #expect(sampled == expected, "\(file) (\(style), orientation \(applyOrientation))")
            }
        }
    }

    @Test("truncated files accepted with allowTruncated give the same crop either way")
    func truncatedCropsMatch() throws {
        let options = DecodingOptions(allowTruncated: true)
        for (file, folder) in [("truncated.jpg", "decode"), ("truncated.png", "decode")] {
            let path = try ImageFixtures.path(file, in: folder)
            let whole = try ImageDecoder.decode(contentsOf: path, options: options)
            let sampled = try Self.sampledCrop(path, style: .megvii, options: options)
            #expect(sampled == Preprocessor(style: .megvii).crop(whole), "\(file)")
        }
    }

    @Test("refused fixtures are refused by the sampled path with the same kind")
    func refusedMatch() throws {
        for fixture in try ImageFixtures.refused() {
            let path = try ImageFixtures.path(fixture.file)
            var wholeError: ImageDecodingError?
            do { _ = try ImageDecoder.decode(contentsOf: path) } catch { wholeError = error }
            var sampledError: ImageDecodingError?
            do { _ = try Self.sampledCrop(path, style: .megvii) } catch { sampledError = error }
            #expect(sampledError?.kind == wholeError?.kind, "\(fixture.file): \(String(describing: sampledError))")
        }
    }

    /// The fixtures with an orientation are small enough that the crop reads all their pixels; this picture is
    /// not, so each orientation's mapping from upright to stored rows and columns is exercised.
    @Test("a 917 x 677 picture in each of the 8 orientations: the sampled crop equals the whole picture's crop",
          arguments: ImageOrientation.allCases)
    func orientedCrops(orientation: ImageOrientation) throws {
        var state: UInt32 = 12345
        let pixels = (0..<(917 * 677 * 3)).map { i -> UInt8 in
            state = state &* 1_103_515_245 &+ 12345
            return UInt8(truncatingIfNeeded: (i / 3 % 917) / 4 + Int(state >> 27))  // gradient plus noise
        }
        let png = try PNGWriter.encode(try RGBImage(width: 917, height: 677, pixels: pixels))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sampled-\(orientation.rawValue)-\(getpid()).png").path
        try Data(PNGChunks.insertingExifOrientation(orientation.rawValue, into: png)).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let whole = try ImageDecoder.decodeWithDetails(contentsOf: path)
        #expect(whole.exifOrientation == orientation)
        let preprocessor = Preprocessor(style: .megvii)
        let selection = preprocessor.pixelsRead(width: whole.image.width, height: whole.image.height)
        #expect(selection.rows.count < whole.image.height && selection.columns.count < whole.image.width)
        // Along the long side the crop starts at 61.5 -> 62 (Python rounding), so what it reads there is not
        // symmetric and reading the mirrored rows or columns instead would change the crop. (Along the short
        // side it is symmetric: there a mirrored read gives the same pixels.)
        let long = whole.image.width > whole.image.height
            ? (selection.columns, whole.image.width) : (selection.rows, whole.image.height)
        #expect(long.0 != long.0.map { long.1 - 1 - $0 }.reversed())
        #expect(try Self.sampledCrop(path, style: .megvii) == preprocessor.crop(whole.image))
    }

    /// Arbitrary rows and columns, not just the crop's: every sampled pixel is the whole picture's pixel.
    @Test("any selection of rows and columns reads the right pixels (Adam7 passes, CMYK, 16-bit, every orientation)")
    func arbitrarySelections() throws {
        var generator = SystemRandomNumberGenerator()
        for file in try Self.decodableFiles() {
            let whole = try ImageDecoder.decode(contentsOf: file)
            for _ in 0..<3 {
                let rows = (0..<max(1, whole.height / 3)).map { _ in Int.random(in: 0..<whole.height, using: &generator) }
                let columns = (0..<max(1, whole.width / 3)).map { _ in Int.random(in: 0..<whole.width, using: &generator) }
                let selection = PixelSelection(rows: rows, columns: columns, width: whole.width, height: whole.height)
                let sample = try ImageDecoder.withSampledDecode(contentsOf: file, budget: DecodeMemoryBudget(),
                                                                selecting: { _, _ in selection }, body: { $0.image })
                #expect(sample.width == whole.width && sample.height == whole.height)
                var expected: [UInt8] = []
                for y in selection.rows {
                    for x in selection.columns {
                        let at = 3 * (y * whole.width + x)
                        expected += whole.pixels[at..<(at + 3)]
                    }
                }
                #expect(sample.pixels.pixels == expected, "\(file)")
            }
        }
    }

    @Test("an image needing more than the whole budget is an error naming the budget")
    func overBudget() throws {
        let path = try ImageFixtures.path("baseline.jpg", in: "decode")
        let budget = DecodeMemoryBudget(bytes: 1 << 20)
        #expect {
            _ = try Self.sampledCrop(path, style: .megvii, budget: budget)
        } throws: { error in
            guard let error = error as? ImageDecodingError else { return false }
            return error.kind == .tooLarge && error.message.contains("budget of 1.0 MiB") && error.message.contains("--memory-limit")
        }
        #expect(budget.inUse == 0)
    }

    @Test("threads sharing a small budget all finish, never hold more than it, and give it all back")
    func sharedBudget() throws {
        let path = try ImageFixtures.path("progressive.jpg", in: "decode")
        let expected = try Self.sampledCrop(path, style: .megvii)
        let budget = DecodeMemoryBudget(bytes: 12 << 20)
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 32) { _ in
            results.add(try? Self.sampledCrop(path, style: .megvii, budget: budget))
        }
        #expect(results.all.count == 32 && results.all.allSatisfy { $0 == expected })
        #expect(budget.inUse == 0)
        #expect(budget.peakInUse <= budget.capacity && budget.peakInUse > 0)
    }

    @Test("first come, first served: a large request is not overtaken by later small ones")
    func budgetOrder() throws {
        let budget = DecodeMemoryBudget(bytes: 100)
        #expect(budget.acquire(60))
        #expect(!budget.acquire(101), "more than the capacity can never be granted")
        let large = Thread { _ = budget.acquire(80); budget.release(80) }
        large.start()
        while budget.tryAcquire(1) { budget.release(1); usleep(1000) }  // until the large request waits
        #expect(!budget.tryAcquire(10), "a small request must not overtake the waiting large one")
        budget.release(60)
        while budget.inUse != 0 || !budget.tryAcquire(100) { usleep(1000) }  // the large one came and went
        budget.release(100)
        #expect(budget.inUse == 0)
    }
}

private final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var all: [RGBImage] = []
    func add(_ image: RGBImage?) {
        guard let image else { return }
        lock.lock()
        all.append(image)
        lock.unlock()
    }
}

/// Builds PNG chunks for test files.
enum PNGChunks {
    /// `png` with an eXIf chunk (big-endian TIFF, IFD0 with one Orientation entry) right after IHDR.
    static func insertingExifOrientation(_ value: Int, into png: [UInt8]) -> [UInt8] {
        let tiff: [UInt8] = [0x4D, 0x4D, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1,
                             0, UInt8(value), 0, 0, 0, 0, 0, 0]
        let afterHeader = 8 + 25  // signature, then IHDR's length, type, 13 bytes and CRC
        return Array(png[..<afterHeader]) + chunk("eXIf", tiff) + png[afterHeader...]
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typed = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + typed + bigEndian(crc32(typed))
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    /// The PNG / zlib CRC-32 (reflected polynomial 0xEDB88320), bit by bit.
    private static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
