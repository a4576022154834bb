import Foundation
import ShuffleNetImage
import Testing

// Fixtures and their expected pixels come from Scripts/make_decode_fixtures.py (Pillow / OpenCV),
// never from this decoder's own output.

@Suite("Decoding JPEG and PNG to RGB")
struct DecodingTests {
    @Test("every decodable fixture gives the reference library's pixels")
    func fixturesMatchReference() throws {
        let fixtures = try ImageFixtures.referenceFixtures("expected.json", in: "decode")
        #expect(fixtures.count >= 14, "expected.json lists too few fixtures")
        try ImageFixtures.expectReferencePixels(fixtures, in: "decode")
    }

    @Test("decoding from memory equals decoding from the file")
    func memoryEqualsFile() throws {
        for fixture in try ImageFixtures.referenceFixtures("expected.json", in: "decode") {
            let fromFile = try ImageDecoder.decode(contentsOf: ImageFixtures.path(fixture.file, in: "decode"))
            let fromMemory = try ImageDecoder.decode(data: ImageFixtures.bytes(fixture.file, in: "decode"))
            #expect(fromFile == fromMemory, "\(fixture.file)")
        }
    }

    @Test("bad files give the right kind of error and name the file", arguments: [
        ("truncated.jpg", ImageDecodingError.Kind.corrupt, "truncated JPEG data (Premature end of JPEG file)"),
        ("corrupt_scan.jpg", .corrupt, "invalid JPEG data"),
        ("too_large.jpg", .tooLarge, "30000 x 30000"),
        ("truncated.png", .corrupt, "truncated PNG data"),
        ("corrupt_idat.png", .corrupt, "invalid PNG data"),
        ("too_wide.png", .tooLarge, "70000 x 2"),
        ("tiny.gif", .unsupportedFormat, "not a JPEG or PNG file (starts with 47 49 46 38 37 61"),
        ("not_an_image.txt", .unsupportedFormat, "looks like text"),
    ])
    func badFile(name: String, kind: ImageDecodingError.Kind, messagePart: String) throws {
        let path = try ImageFixtures.path(name, in: "decode")
        let error = try #require(throws: ImageDecodingError.self) { try ImageDecoder.decode(contentsOf: path) }
        #expect(error.kind == kind)
        #expect(error.path == path)
        #expect(error.message.contains(messagePart), "message was: \(error.message)")
        #expect(error.description == "\(path): \(error.message)")
    }

    @Test("a missing file, a directory and an empty file are told apart")
    func fileSystemErrors() throws {
        let missing = try ImageFixtures.path("no_such_photo.jpg", in: "decode")
        let missingError = try #require(throws: ImageDecodingError.self) { try ImageDecoder.decode(contentsOf: missing) }
        #expect(missingError.kind == .fileNotFound)
        #expect(missingError.description.hasPrefix(missing))

        let directory = try ImageFixtures.directory("decode").path
        let directoryError = try #require(throws: ImageDecodingError.self) { try ImageDecoder.decode(contentsOf: directory) }
        #expect(directoryError.kind == .unreadable)
        #expect(directoryError.message.contains("directory"))

        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("empty-\(UUID().uuidString).jpg")
        try Data().write(to: empty)
        defer { try? FileManager.default.removeItem(at: empty) }
        let emptyError = try #require(throws: ImageDecodingError.self) { try ImageDecoder.decode(contentsOf: empty.path) }
        #expect(emptyError.kind == .empty)
        #expect(emptyError.path == empty.path)
    }

    @Test("errors from a memory buffer carry no path")
    func memoryBufferErrors() throws {
        let error = try #require(throws: ImageDecodingError.self) {
            try ImageDecoder.decode(data: ImageFixtures.bytes("truncated.png", in: "decode"))
        }
        #expect(error.path == nil)
        #expect(error.kind == .corrupt)
        #expect(error.description == "<memory buffer>: \(error.message)")
        #expect(throws: ImageDecodingError(path: nil, kind: .empty, message: "empty file (0 bytes)")) {
            try ImageDecoder.decode(data: [])
        }
    }

    /// libjpeg fills missing data with grey and only warns; libpng may stop early. Every proper
    /// prefix of a valid file must be an error, and none may crash. One exception: a JPEG cut only
    /// in its final EOI marker still holds every pixel, and may decode if it gives the whole file's pixels.
    @Test("every cut-short copy of a valid file is refused",
          arguments: ["baseline.jpg", "progressive.jpg", "gray.jpg", "rgb.png", "interlaced.png", "rgb_16bit.png"])
    func everyPrefixIsRefused(name: String) throws {
        let whole = try ImageFixtures.bytes(name, in: "decode")
        let complete = try ImageDecoder.decode(data: whole)
        let endMarkerStart = whole.suffix(2) == [0xFF, 0xD9] ? whole.count - 2 : whole.count
        for length in 0..<whole.count {
            guard let image = try? ImageDecoder.decode(data: Array(whole[0..<length])) else { continue }
            #expect(length >= endMarkerStart, "\(name) (\(whole.count) bytes) decoded when cut to \(length) bytes")
            #expect(image == complete, "\(name) cut to \(length) bytes decoded to different pixels")
        }
    }

    /// libjpeg calls junk bytes between segments "Corrupt JPEG data: N extraneous bytes before
    /// marker"; the pixels are unaffected, so the decoder accepts it (as Pillow does).
    @Test("junk bytes between JPEG header segments are tolerated")
    func extraneousBytesBetweenSegments() throws {
        let whole = try ImageFixtures.bytes("baseline.jpg", in: "decode")
        #expect(whole[2] == 0xFF && whole[3] == 0xE0, "baseline.jpg should start with SOI, APP0")
        let afterFirstSegment = 4 + (Int(whole[4]) << 8 | Int(whole[5]))
        let withJunk = Array(whole[..<afterFirstSegment]) + [0x00, 0x42, 0x17] + Array(whole[afterFirstSegment...])
        #expect(try ImageDecoder.decode(data: withJunk) == ImageDecoder.decode(data: whole))
    }

    /// Starts of files in formats people mistake for photos we read, and what the error should say.
    static let foreignFileStarts: [(bytes: [UInt8], messagePart: String)] = [
        (Array("BM".utf8) + [UInt8](repeating: 0, count: 30), "looks like BMP"),
        (Array("RIFF".utf8) + [0x24, 0, 0, 0] + Array("WEBPVP8 ".utf8), "looks like WebP"),
        ([0x00, 0x01, 0x02, 0x03], "(starts with 00 01 02 03)"),
    ]

    @Test("other common formats are named in the error", arguments: foreignFileStarts)
    func namesOtherFormats(bytes: [UInt8], messagePart: String) throws {
        let error = try #require(throws: ImageDecodingError.self) { try ImageDecoder.decode(data: bytes) }
        #expect(error.kind == .unsupportedFormat)
        #expect(error.message.hasPrefix("unsupported format: not a JPEG or PNG file"))
        #expect(error.message.contains(messagePart), "message was: \(error.message)")
    }

    @Test("format is detected from content, not name")
    func detectsFormat() throws {
        #expect(ImageDecoder.detectFormat([0xFF, 0xD8, 0xFF, 0xE0]) == .jpeg)
        #expect(ImageDecoder.detectFormat([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) == .png)
        #expect(ImageDecoder.detectFormat([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A]) == nil)  // cut signature
        #expect(ImageDecoder.detectFormat([UInt8]()) == nil)
        #expect(ImageDecoder.detectFormat(Array("GIF89a".utf8)) == nil)
        #expect(ImageDecoder.detectFormat(try ImageFixtures.bytes("png_named.jpg", in: "decode")) == .png)
        #expect(ImageDecoder.detectFormat(try ImageFixtures.bytes("baseline.jpg", in: "decode")[...]) == .jpeg)  // any Collection
    }
}

// MARK: - The 50 ImageNet sample photos from /work/shared, when present

/// `SHUFFLENET_SHARED_DATA`, else the first `../shared/data/shufflenet_v1` found walking up from the
/// current directory; nil when neither exists (the tests that need it are then skipped).
private let sharedPhotoDirectory: URL? = {
    let fileManager = FileManager.default
    if let explicit = ProcessInfo.processInfo.environment["SHUFFLENET_SHARED_DATA"] {
        let photos = URL(fileURLWithPath: explicit).appendingPathComponent("imagenet-sample-images")
        return fileManager.fileExists(atPath: photos.path) ? photos : nil
    }
    var directory = URL(fileURLWithPath: fileManager.currentDirectoryPath).standardizedFileURL
    while true {
        let photos = directory.appendingPathComponent("../shared/data/shufflenet_v1/imagenet-sample-images").standardizedFileURL
        if fileManager.fileExists(atPath: photos.path) { return photos }
        let parent = directory.deletingLastPathComponent()
        if parent.path == directory.path { return nil }
        directory = parent
    }
}()

/// Width and height from the JPEG's start-of-frame segment, read independently of libjpeg by
/// walking the marker segments.
private func jpegFrameSize(_ bytes: [UInt8]) -> (width: Int, height: Int)? {
    var offset = 2
    while offset + 9 < bytes.count {
        guard bytes[offset] == 0xFF else { return nil }
        let marker = bytes[offset + 1]
        if marker == 0xFF { offset += 1; continue }  // fill byte
        let length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
        // SOF0...SOF15, except DHT (C4), JPG (C8) and DAC (CC) which share the range.
        if (0xC0...0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker) {
            let height = Int(bytes[offset + 5]) << 8 | Int(bytes[offset + 6])
            let width = Int(bytes[offset + 7]) << 8 | Int(bytes[offset + 8])
            return (width, height)
        }
        offset += 2 + length
    }
    return nil
}

@Suite("Decoding the shared ImageNet sample photos",
       .enabled(if: sharedPhotoDirectory != nil,
                "shared photos not found: set SHUFFLENET_SHARED_DATA to the shufflenet_v1 data folder"))
struct SharedPhotoDecodingTests {
    @Test("all sample photos decode to the size in their JPEG header")
    func samplePhotosDecode() throws {
        let directory = try #require(sharedPhotoDirectory)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".JPEG") }.sorted()
        #expect(names.count == 50)
        for name in names {
            let path = directory.appendingPathComponent(name).path
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            let header = try #require(jpegFrameSize(bytes), "\(name): no SOF segment found")
            let image = try ImageDecoder.decode(contentsOf: path)
            #expect(image.width == header.width && image.height == header.height,
                    "\(name): decoded \(image.width)x\(image.height), header says \(header.width)x\(header.height)")
            #expect(image.pixels.count == header.width * header.height * 3)
        }
    }
}
