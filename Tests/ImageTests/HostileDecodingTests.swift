import Foundation
import ShuffleNetImage
import Testing

@Suite("Unusual, broken and malicious image files")
struct HostileDecodingTests {
    @Test("arithmetic, restart, every subsampling and EXIF-oriented files match the reference")
    func decodableFixtures() throws {
        let fixtures = try ImageFixtures.decodable()
        #expect(fixtures.count >= 25, "decodable.json lists too few fixtures")
        try ImageFixtures.expectReferencePixels(fixtures, in: "hostile")
    }

    @Test("refused files give the right kind, a message naming the problem, and fail fast")
    func refusedFixtures() throws {
        let fixtures = try ImageFixtures.refused()
        #expect(fixtures.count >= 15, "refused.json lists too few fixtures")
        for fixture in fixtures {
            let path = try ImageFixtures.path(fixture.file)
            var caught: ImageDecodingError?
            let seconds = ImageFixtures.seconds {
                do throws(ImageDecodingError) {
                    _ = try ImageDecoder.decode(contentsOf: path)
                } catch {
                    caught = error
                }
            }
            let error = try #require(caught, "\(fixture.file) decoded but must be refused")
            #expect(error.kind == fixture.expectedKind, "\(fixture.file): kind \(error.kind), want \(fixture.kind)")
            #expect(error.message.contains(fixture.messagePart), "\(fixture.file): message was: \(error.message)")
            #expect(error.description.hasPrefix(path))
            #expect(!error.message.contains("\n"), "\(fixture.file): message is not one line")
            #expect(seconds < 2, "\(fixture.file) took \(seconds) s to refuse")
        }
    }

    @Test("files that are not JPEG or PNG say 'unsupported format' whatever their name")
    func unsupportedByContent() throws {
        let foreign = try ImageFixtures.refused().filter { $0.kind == "unsupportedFormat" && $0.file.contains("_named.") }
        #expect(foreign.count >= 6)
        for fixture in foreign {
            let error = try #require(throws: ImageDecodingError.self) {
                try ImageDecoder.decode(data: ImageFixtures.bytes(fixture.file))
            }
            #expect(error.message.hasPrefix("unsupported format: not a JPEG or PNG file"), "\(fixture.file): \(error.message)")
        }
    }

    @Test("allowTruncated accepts truncated files with a warning; the default refuses them",
          arguments: ["truncated.jpg", "truncated.png", "corrupt_scan.jpg"])
    func allowTruncated(name: String) throws {
        let bytes = try ImageFixtures.bytes(name, in: "decode")
        #expect(throws: ImageDecodingError.self) { try ImageDecoder.decode(data: bytes) }
        let options = DecodingOptions(allowTruncated: true)
        let decoded = try ImageDecoder.decodeWithDetails(data: bytes, options: options)
        #expect(decoded.recoveredFromDamage)
        #expect(decoded.warnings.count == 1)
        #expect(decoded.warnings.first.map { $0.contains("decoded anyway") } == true, "\(decoded.warnings)")
        let intactName = name.hasSuffix(".png") ? "rgb.png" : "baseline.jpg"
        let intact = try ImageDecoder.decode(data: ImageFixtures.bytes(intactName, in: "decode"))
        #expect(decoded.image.width == intact.width && decoded.image.height == intact.height)
        #expect(decoded.image != intact, "\(name): damaged file decoded to the intact pixels")
    }

    /// 320 x 240 (stored 240 x 320 with EXIF orientation 6), cut at 60%: the first MCU row
    /// (16 stored rows) comes well before the cut, so it must be the intact file's pixels.
    @Test("with allowTruncated, the rows before the cut are the real pixels")
    func recoveredRowsAreReal() throws {
        let whole = try ImageFixtures.bytes("preview_exif6.jpg")
        let stored = DecodingOptions(applyExifOrientation: false)
        let intact = try ImageDecoder.decode(data: whole, options: stored)
        let cut = Array(whole.prefix(whole.count * 6 / 10))
        let recovered = try ImageDecoder.decodeWithDetails(data: cut, options: DecodingOptions(applyExifOrientation: false, allowTruncated: true))
        #expect(recovered.recoveredFromDamage)
        #expect(recovered.warnings.first?.hasPrefix("truncated JPEG data") == true, "\(recovered.warnings)")
        let firstRows = 16 * intact.width * 3
        #expect(Array(recovered.image.pixels.prefix(firstRows)) == Array(intact.pixels.prefix(firstRows)))
        #expect(recovered.image.pixels.suffix(3) == [128, 128, 128], "libjpeg fills the missing part with grey")
    }

    @Test("a valid file gives no warnings and is not marked as recovered")
    func cleanFileHasNoWarnings() throws {
        let decoded = try ImageDecoder.decodeWithDetails(data: ImageFixtures.bytes("baseline.jpg", in: "decode"),
                                                         options: DecodingOptions(allowTruncated: true))
        #expect(!decoded.recoveredFromDamage)
        #expect(decoded.warnings.isEmpty)
        #expect(decoded.format == .jpeg)
    }

    @Test("the pixel limit is configurable and checked against the header")
    func pixelLimit() throws {
        let bytes = try ImageFixtures.bytes("baseline.jpg", in: "decode")  // 17 x 11 = 187 pixels
        let error = try #require(throws: ImageDecodingError.self) {
            try ImageDecoder.decode(data: bytes, options: DecodingOptions(maxPixels: 186))
        }
        #expect(error.kind == .tooLarge)
        #expect(error.message.contains("17 x 11") && error.message.contains("186"), "\(error.message)")
        #expect(try ImageDecoder.decode(data: bytes, options: DecodingOptions(maxPixels: 187)).width == 17)
        let png = try ImageFixtures.bytes("rgb.png", in: "decode")  // 16 x 9
        #expect(throws: ImageDecodingError.self) { try ImageDecoder.decode(data: png, options: DecodingOptions(maxPixels: 143)) }
        #expect(throws: ImageDecodingError.self) { try ImageDecoder.decode(data: png, options: DecodingOptions(maxPixels: 0)) }
    }

    /// 256 x 256 progressive 4:2:0 holds 1.5 x 65536 coefficients of 2 bytes (192 KiB) in memory.
    @Test("a progressive JPEG needing more decoder memory than allowed is refused as too large")
    func decoderMemoryCap() throws {
        let bytes = try ImageFixtures.bytes("progressive_256x256.jpg")
        let error = try #require(throws: ImageDecodingError.self) {
            try ImageDecoder.decode(data: bytes, options: DecodingOptions(maxDecoderMemoryBytes: 128 << 10))
        }
        #expect(error.kind == .tooLarge)
        #expect(error.message.contains("coefficient buffers"), "\(error.message)")
        #expect(try ImageDecoder.decode(data: bytes, options: DecodingOptions(maxDecoderMemoryBytes: 512 << 10)).width == 256)
    }

    /// Every proper prefix must be refused (a JPEG may lose its final EOI marker only).
    @Test("cut-short arithmetic, restart-marker and EXIF files are refused",
          arguments: ["arithmetic.jpg", "restart_blocks.jpg", "arithmetic_progressive.jpg", "exif_6.png", "exif_6.jpg"])
    func everyPrefixIsRefused(name: String) throws {
        let whole = try ImageFixtures.bytes(name)
        let complete = try ImageDecoder.decode(data: whole)
        let endMarkerStart = whole.suffix(2) == [0xFF, 0xD9] ? whole.count - 2 : whole.count
        for length in 0..<whole.count {
            guard let image = try? ImageDecoder.decode(data: Array(whole[0..<length])) else { continue }
            #expect(length >= endMarkerStart, "\(name) (\(whole.count) bytes) decoded when cut to \(length) bytes")
            #expect(image == complete, "\(name) cut to \(length) bytes decoded to different pixels")
        }
    }

    /// A deterministic mutation sweep (the libFuzzer runs in Scripts/fuzz go much further): every
    /// byte of small files inverted in turn, with and without allowTruncated. Nothing may crash, and
    /// whatever decodes must have a consistent size.
    @Test("every single-byte corruption of small files decodes or throws, never crashes",
          arguments: ["arithmetic.jpg", "sampling_411.jpg", "exif_5.png"])
    func singleByteCorruptions(name: String) throws {
        let whole = try ImageFixtures.bytes(name)
        for options in [DecodingOptions(), DecodingOptions(allowTruncated: true)] {
            for index in whole.indices {
                var damaged = whole
                damaged[index] ^= 0xFF
                guard let image = try? ImageDecoder.decode(data: damaged, options: options) else { continue }
                #expect(image.pixels.count == image.width * image.height * 3)
            }
        }
    }
}
