import Foundation
import ShuffleNetImage
import Testing

// Fixtures, packets and every expected value come from Scripts/make_xmp_fixtures.py (Pillow's
// getexif and ImageOps.exif_transpose), never from this decoder's own output.

/// A file of Fixtures/xmp/expected.json: its upright size and pixels per Pillow, its stored pixels,
/// and the orientation value Pillow found (EXIF, else XMP), which may be outside 1...8.
struct XMPFixture: Decodable, CustomStringConvertible, Sendable {
    let file: String
    let width: Int
    let height: Int
    let expectedRGB: String
    let storedRGB: String
    let pillowOrientation: Int?
    var description: String { file }
}

/// A hand-written snippet of Fixtures/xmp/packets.json with the orientation Pillow reads from it.
struct XMPPacketCase: Decodable, CustomStringConvertible, Sendable {
    let name: String
    let packet: String
    let pillowOrientation: Int?
    var description: String { name }
}

@Suite("Orientation from XMP tiff:Orientation (JPEG APP1, PNG iTXt) when EXIF has none")
struct XMPOrientationTests {
    static let folder = "xmp"
    /// Every file is 9 x 5 as stored.
    static let storedWidth = 9, storedHeight = 5

    static func fixtures() throws -> [XMPFixture] {
        try JSONDecoder().decode([XMPFixture].self, from: Data(ImageFixtures.bytes("expected.json", in: folder)))
    }

    static func packetCases() throws -> [XMPPacketCase] {
        try JSONDecoder().decode([XMPPacketCase].self, from: Data(ImageFixtures.bytes("packets.json", in: folder)))
    }

    /// Pillow applies a value only when it is one of the eight orientations.
    static func applicable(_ value: Int?) -> ImageOrientation? { value.flatMap(ImageOrientation.init(rawValue:)) }

    @Test("decoded upright as Pillow's exif_transpose does")
    func matchesPillow() throws {
        for fixture in try Self.fixtures() {
            let decoded = try ImageDecoder.decodeWithDetails(contentsOf: ImageFixtures.path(fixture.file, in: Self.folder))
            #expect(decoded.image.width == fixture.width && decoded.image.height == fixture.height,
                    "\(fixture.file): \(decoded.image.width)x\(decoded.image.height), want \(fixture.width)x\(fixture.height)")
            #expect(decoded.image.pixels == (try ImageFixtures.bytes(fixture.expectedRGB, in: Self.folder)), "\(fixture.file)")
            let expected = Self.applicable(fixture.pillowOrientation)
            #expect(decoded.exifOrientation == expected, "\(fixture.file)")
            #expect(decoded.orientationApplied == (expected != nil && expected != .upright), "\(fixture.file)")
        }
    }

    @Test("the public entry point reports the effective orientation, EXIF else XMP")
    func entryPoint() throws {
        for fixture in try Self.fixtures() {
            let bytes = try ImageFixtures.bytes(fixture.file, in: Self.folder)
            #expect(ImageDecoder.exifOrientation(of: bytes) == Self.applicable(fixture.pillowOrientation), "\(fixture.file)")
        }
    }

    /// `--ignore-exif` maps to `applyExifOrientation: false`, which must cover XMP as well.
    @Test("applyExifOrientation false leaves XMP-oriented files as stored")
    func ignoreOrientation() throws {
        for fixture in try Self.fixtures() {
            let decoded = try ImageDecoder.decodeWithDetails(contentsOf: ImageFixtures.path(fixture.file, in: Self.folder),
                                                             options: DecodingOptions(applyExifOrientation: false))
            #expect(decoded.image.width == Self.storedWidth && decoded.image.height == Self.storedHeight, "\(fixture.file)")
            #expect(decoded.image.pixels == (try ImageFixtures.bytes(fixture.storedRGB, in: Self.folder)), "\(fixture.file)")
            #expect(!decoded.orientationApplied, "\(fixture.file)")
            #expect(decoded.exifOrientation == Self.applicable(fixture.pillowOrientation), "\(fixture.file): still reported")
        }
    }

    /// Pillow refuses this file outright (its inflated text exceeds 1 MiB); ignoring only the
    /// oversized chunk, as here, leaves the stored pixels, the same as every PNG fixture's.
    @Test("a compressed XMP chunk inflating past 1 MiB is ignored")
    func oversizedCompressedPacket() throws {
        let bytes = try ImageFixtures.bytes("xmp_itxt_over_1mib.png", in: Self.folder)
        #expect(ImageDecoder.exifOrientation(of: bytes) == nil)
        let image = try ImageDecoder.decode(data: bytes)
        #expect(image.width == Self.storedWidth && image.height == Self.storedHeight)
        #expect(image.pixels == (try ImageFixtures.bytes("xmp_itxt_6.png.stored.rgb", in: Self.folder)))
    }

    @Test("hand-written packets read as Pillow reads them, in a JPEG APP1 segment and a PNG iTXt chunk",
          arguments: try XMPOrientationTests.packetCases())
    func packets(_ item: XMPPacketCase) {
        let packet = Array(item.packet.utf8)
        let expected = Self.applicable(item.pillowOrientation)
        #expect(ImageDecoder.exifOrientation(of: XMPContainers.jpeg(xmpSegments: [packet])) == expected, "JPEG")
        #expect(ImageDecoder.exifOrientation(of: XMPContainers.png(chunks: [XMPContainers.iTXt(packet)])) == expected, "PNG")
    }

    /// Cut files (no image data needed: only metadata is read). Each must give nil and not crash.
    @Test("a packet cut short by the end of the file is not read")
    func truncatedContainers() {
        let packet = Array(#"<x:xmpmeta><rdf:Description tiff:Orientation="6"/></x:xmpmeta>"#.utf8)
        let jpeg = XMPContainers.jpeg(xmpSegments: [packet])
        #expect(ImageDecoder.exifOrientation(of: jpeg) == .rotate90Clockwise)  // the intact file, for contrast
        let png = XMPContainers.png(chunks: [XMPContainers.iTXt(packet)])
        #expect(ImageDecoder.exifOrientation(of: png) == .rotate90Clockwise)
        // Ends inside the segment / chunk, after the orientation: the declared length overruns the file.
        let segmentEnd = jpeg.count - 2  // before EOI
        let chunkEnd = png.count - 12 - 4  // before IEND and the iTXt CRC
        for cut in [segmentEnd - 1, segmentEnd - 20, 40, 6, 3] {
            #expect(ImageDecoder.exifOrientation(of: Array(jpeg.prefix(cut))) == nil, "JPEG cut at \(cut)")
        }
        for cut in [chunkEnd - 1, chunkEnd - 20, 40, 12] {
            #expect(ImageDecoder.exifOrientation(of: Array(png.prefix(cut))) == nil, "PNG cut at \(cut)")
        }
    }

    @Test("malformed iTXt chunks are skipped")
    func malformedITXt() {
        let packet = Array(#"tiff:Orientation="6""#.utf8)
        let keyword = Array("XML:com.adobe.xmp".utf8)
        let noSeparators = keyword + [0, 0, 0] + packet  // no NULs after language and translated keyword
        let unknownMethod = keyword + [0, 1, 7, 0, 0] + packet  // compressed with method 7
        let notZlib = keyword + [0, 1, 0, 0, 0] + packet  // flagged compressed but plain text
        let otherKeyword = Array("XML:com.adobe.xmpX".utf8) + [0, 0, 0, 0, 0] + packet
        for chunk in [noSeparators, unknownMethod, notZlib, otherKeyword, keyword, []] {
            #expect(ImageDecoder.exifOrientation(of: XMPContainers.png(chunks: [chunk])) == nil)
        }
    }
}

/// Minimal JPEG and PNG byte streams carrying only metadata, enough for the orientation lookup,
/// which walks segments and chunks without decoding.
enum XMPContainers {
    static let namespace = Array("http://ns.adobe.com/xap/1.0/".utf8) + [0]

    static func jpeg(xmpSegments: [[UInt8]]) -> [UInt8] {
        var bytes: [UInt8] = [0xFF, 0xD8]
        for packet in xmpSegments {
            let length = 2 + namespace.count + packet.count
            bytes += [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + namespace + packet
        }
        return bytes + [0xFF, 0xD9]
    }

    /// Uncompressed iTXt data: keyword, NUL, flag 0, method 0, empty language and translated keyword.
    static func iTXt(_ packet: [UInt8]) -> [UInt8] {
        Array("XML:com.adobe.xmp".utf8) + [0, 0, 0, 0, 0] + packet
    }

    /// CRCs are zero: the orientation lookup does not check them (libpng does, when decoding).
    static func png(chunks: [[UInt8]]) -> [UInt8] {
        var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        func append(_ type: String, _ data: [UInt8]) {
            let count = UInt32(data.count)
            bytes += [UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)]
            bytes += Array(type.utf8) + data + [0, 0, 0, 0]
        }
        for data in chunks { append("iTXt", data) }
        append("IEND", [])
        return bytes
    }
}
