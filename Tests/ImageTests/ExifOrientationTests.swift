import Foundation
import ShuffleNetImage
import Testing

@Suite("EXIF orientation from JPEG APP1 and PNG eXIf")
struct ExifOrientationTests {
    static let files = (1...8).flatMap { ["exif_\($0).jpg", "exif_\($0).png"] }

    @Test("the Orientation tag is found in every fixture", arguments: files)
    func tagIsRead(name: String) throws {
        let value = try #require(Int(name.dropFirst(5).prefix(1)))
        #expect(ImageDecoder.exifOrientation(of: try ImageFixtures.bytes(name))?.rawValue == value)
    }

    @Test("big-endian EXIF and eXIf after the image data are found too")
    func otherLayouts() throws {
        #expect(ImageDecoder.exifOrientation(of: try ImageFixtures.bytes("exif_6_big_endian.jpg")) == .rotate90Clockwise)
        #expect(ImageDecoder.exifOrientation(of: try ImageFixtures.bytes("exif_8_after_idat.png")) == .rotate90CounterClockwise)
        #expect(ImageDecoder.exifOrientation(of: try ImageFixtures.bytes("baseline.jpg", in: "decode")) == nil)
        #expect(ImageDecoder.exifOrientation(of: try ImageFixtures.bytes("rgb.png", in: "decode")) == nil)
    }

    /// The stored pixels (before orientation) are the same in all eight files; exif_1's expected
    /// pixels are them.
    @Test("ignoring EXIF gives the stored pixels, and says what it skipped")
    func ignoreExif() throws {
        let stored = try ImageFixtures.bytes("exif_1.jpg.rgb")
        for value in 2...8 {
            let decoded = try ImageDecoder.decodeWithDetails(data: ImageFixtures.bytes("exif_\(value).jpg"),
                                                             options: DecodingOptions(applyExifOrientation: false))
            #expect(decoded.image.width == 9 && decoded.image.height == 5)
            #expect(decoded.image.pixels == stored, "exif_\(value).jpg with EXIF ignored")
            #expect(decoded.exifOrientation?.rawValue == value)
            #expect(!decoded.orientationApplied)
        }
    }

    @Test("orientations 5 to 8 swap width and height")
    func dimensionsSwap() throws {
        for value in 1...8 {
            let decoded = try ImageDecoder.decodeWithDetails(data: ImageFixtures.bytes("exif_\(value).png"))
            let swapped = value >= 5
            #expect(decoded.image.width == (swapped ? 5 : 9) && decoded.image.height == (swapped ? 9 : 5), "exif_\(value).png")
            #expect(decoded.orientationApplied == (value != 1))
        }
    }

    /// Hand-made damage to the EXIF block: the image still decodes, upright as stored.
    @Test("a damaged EXIF block is ignored, not fatal")
    func damagedExif() throws {
        let original = try ImageFixtures.bytes("exif_6_big_endian.jpg")
        // Layout written by the fixture script: SOI, APP1 marker + length, "Exif\0\0", then TIFF.
        let tiff = 2 + 4 + 6
        #expect(Array(original[tiff..<(tiff + 4)]) == [0x4D, 0x4D, 0x00, 0x2A])
        var badOffset = original
        badOffset[tiff + 4..<tiff + 8] = [0x7F, 0xFF, 0xFF, 0xF0]  // IFD0 far outside the block
        var badValue = original
        badValue[tiff + 8 + 2 + 8] = 0x00
        badValue[tiff + 8 + 2 + 9] = 0x09  // orientation 9 does not exist
        var badType = original
        badType[tiff + 8 + 2 + 3] = 0x05  // RATIONAL: not how an orientation is stored
        var badByteOrder = original
        badByteOrder[tiff] = 0x58
        let stored = try ImageFixtures.bytes("exif_1.jpg.rgb")
        for damaged in [badOffset, badValue, badType, badByteOrder] {
            #expect(ImageDecoder.exifOrientation(of: damaged) == nil)
            let image = try ImageDecoder.decode(data: damaged)
            #expect(image.width == 9 && image.height == 5)
            #expect(ImageFixtures.maxAbsDifference(image.pixels, stored) == 0)
        }
    }

    @Test("ImageOrientation names the eight EXIF values")
    func orientationValues() {
        #expect(ImageOrientation.allCases.map(\.rawValue) == Array(1...8))
        #expect(ImageOrientation(rawValue: 0) == nil && ImageOrientation(rawValue: 9) == nil)
        #expect(ImageOrientation.allCases.filter(\.swapsDimensions) == [.transpose, .rotate90Clockwise, .transverse, .rotate90CounterClockwise])
    }
}
