import Foundation
import ShuffleNetImage
import Testing

@Suite("The 224x224 preview crop and the PNG writer")
struct HostilePreviewTests {
    /// The crop of a sideways-stored photo with EXIF orientation 6, against OpenCV's (cv2.imread
    /// applies the orientation). Compared as 8x8 block means, which is what the fixture keeps.
    @Test("preview crop of an EXIF-rotated photo matches OpenCV's pipeline")
    func previewCropMatchesOpenCV() throws {
        let image = try ImageDecoder.decode(contentsOf: ImageFixtures.path("preview_exif6.jpg"))
        #expect(image.width == 320 && image.height == 240)
        let crop = Preprocessor(style: .megvii).crop(image)
        #expect(crop.width == 224 && crop.height == 224)
        let expected = try ImageFixtures.bytes("preview_exif6.crop_blocks8.rgb")
        #expect(expected.count == 28 * 28 * 3)
        var worst = 0.0
        for by in 0..<28 {
            for bx in 0..<28 {
                for channel in 0..<3 {
                    var sum = 0
                    for y in (8 * by)..<(8 * by + 8) {
                        for x in (8 * bx)..<(8 * bx + 8) { sum += Int(crop.pixels[3 * (y * 224 + x) + channel]) }
                    }
                    let mean = Double(sum) / 64
                    worst = max(worst, abs(mean - Double(expected[3 * (by * 28 + bx) + channel])))
                }
            }
        }
        #expect(worst <= 1.0, "worst 8x8 block mean differs by \(worst)")
    }

    @Test("a PNG written by PNGWriter decodes to the same pixels")
    func pngRoundTrip() throws {
        let image = try ImageDecoder.decode(contentsOf: ImageFixtures.path("sampling_411.jpg"))
        let png = try PNGWriter.encode(image)
        #expect(ImageDecoder.detectFormat(png) == .png)
        #expect(try ImageDecoder.decode(data: png) == image)

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("preview-\(UUID().uuidString).png").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try PNGWriter.write(image, to: path)
        #expect(try ImageDecoder.decode(contentsOf: path) == image)
    }

    @Test("writing into a missing directory fails with the path in the message")
    func unwritablePath() throws {
        let image = try RGBImage(width: 1, height: 1, pixels: [1, 2, 3])
        let path = "/nonexistent-directory-\(UUID().uuidString)/crop.png"
        let error = try #require(throws: ImageEncodingError.self) { try PNGWriter.write(image, to: path) }
        #expect(error.description.hasPrefix(path))
        #expect(error.message.contains("cannot create file"))
    }
}
