import Foundation
import Testing
import ShuffleNetImage

/// Compares resizing, cropping and tensor layout with outputs of the real libraries (cv2 5.0.0,
/// Pillow 13.0.0, numpy float32), committed by `Scripts/make_preprocess_fixtures.py`.
@Suite struct PreprocessingTests {
    private let fixtures: PreprocessFixtures

    init() throws {
        fixtures = try PreprocessFixtures.load()
    }

    // MARK: resamplers against the reference libraries

    @Test func openCVResizeMatchesCv2ByteForByte() throws {
        let cases = fixtures.index.resizes.filter { $0.resampler == "opencv" }
        #expect(cases.count >= 10)
        for entry in cases {
            let source = try fixtures.source(named: entry.source)
            let resized = try OpenCVResize.linear(source, width: entry.width, height: entry.height)
            let expected = try fixtures.bytes(entry.file)
            let comparison = ByteComparison(resized.pixels, expected)
            #expect(resized.width == entry.width && resized.height == entry.height)
            #expect(comparison.differing == 0,
                    "\(entry.source) -> \(entry.width)x\(entry.height): \(comparison)")
        }
    }

    @Test func pillowResizeMatchesPillowWithinOneLevel() throws {
        let cases = fixtures.index.resizes.filter { $0.resampler == "pillow" }
        #expect(cases.count >= 10)
        for entry in cases {
            let source = try fixtures.source(named: entry.source)
            let resized = try PillowResize.bilinear(source, width: entry.width, height: entry.height)
            let comparison = ByteComparison(resized.pixels, try fixtures.bytes(entry.file))
            #expect(resized.width == entry.width && resized.height == entry.height)
            // The contract is 1 level; the implementation was exact on every case tried, so any
            // difference at all is worth a look.
            #expect(comparison.maximum <= 1, "\(entry.source) -> \(entry.width)x\(entry.height): \(comparison)")
            #expect(comparison.differing == 0, "\(entry.source) -> \(entry.width)x\(entry.height): \(comparison)")
        }
    }

    @Test func rgbImageRejectsPixelsThatDoNotFitItsSize() {
        // 2x2 RGB needs 12 bytes; 11, 13, an empty picture and an overflowing size are errors, not traps.
        for (width, height, count) in [(2, 2, 11), (2, 2, 13), (0, 2, 0), (2, -1, 0), (Int.max / 2, 3, 12)] {
            do {
                _ = try RGBImage(width: width, height: height, pixels: [UInt8](repeating: 0, count: count))
                Issue.record("\(width)x\(height) with \(count) bytes was accepted")
            } catch {
                #expect(error.width == width && error.height == height && error.byteCount == count)
                #expect(error.description.contains("\(count) bytes"), "\(error)")
            }
        }
        #expect((try? RGBImage(width: 2, height: 2, pixels: [UInt8](repeating: 0, count: 12))) != nil)
    }

    @Test func resizersRejectEmptyTargets() throws {
        let image = try RGBImage(width: 2, height: 2, pixels: [UInt8](repeating: 7, count: 12))
        #expect(throws: ResizeError.invalidTargetSize(resampler: "OpenCVResize.linear", width: 0, height: 5)) {
            try OpenCVResize.linear(image, width: 0, height: 5)
        }
        #expect(throws: ResizeError.invalidTargetSize(resampler: "PillowResize.bilinear", width: 3, height: -1)) {
            try PillowResize.bilinear(image, width: 3, height: -1)
        }
        #expect(throws: ResizeError.targetTooLarge(resampler: "OpenCVResize.linear", width: Int.max, height: 2)) {
            try OpenCVResize.linear(image, width: Int.max, height: 2)
        }
        let message = ResizeError.invalidTargetSize(resampler: "PillowResize.bilinear", width: 3, height: -1).description
        #expect(message.contains("PillowResize.bilinear") && message.contains("3x-1"))
    }

    // MARK: whole pipelines

    @Test(arguments: PreprocessingStyle.allCases)
    func cropMatchesReferencePipeline(style: PreprocessingStyle) throws {
        let entry = try #require(fixtures.index.crops.first { $0.style == style.rawValue })
        let crop = Preprocessor(style: style).crop(try fixtures.source(named: entry.source))
        #expect(crop.width == Preprocessor.cropSize && crop.height == Preprocessor.cropSize)
        let comparison = ByteComparison(crop.pixels, try fixtures.bytes(entry.file))
        switch style {
        case .megvii: #expect(comparison.differing == 0, "\(comparison)")
        case .torchvision: #expect(comparison.maximum <= 1, "\(comparison)")
        }
    }

    @Test(arguments: PreprocessingStyle.allCases)
    func tensorMatchesNumpyFloat32Samples(style: PreprocessingStyle) throws {
        let entry = try #require(fixtures.index.tensorSamples.first { $0.style == style.rawValue })
        let tensor = Preprocessor(style: style).tensor(from: try fixtures.source(named: entry.source))
        #expect(tensor.count == Preprocessor.tensorCount)
        let side = Preprocessor.cropSize
        for sample in entry.samples {
            let (plane, row, column) = (Int(sample[0]), Int(sample[1]), Int(sample[2]))
            let actual = tensor[(plane * side + row) * side + column]
            // Same float32 operations as numpy/PyTorch, so the values are bit-identical.
            #expect(actual == Float(sample[3]), "plane \(plane) row \(row) column \(column)")
        }
    }

    @Test func writeTensorFillsCallerBufferAndChecksItsSize() throws {
        let source = try fixtures.source(named: "noise_37x29")
        let preprocessor = Preprocessor(style: .torchvision)
        var buffer = [Float](repeating: .nan, count: Preprocessor.tensorCount)
        try buffer.withUnsafeMutableBufferPointer { try preprocessor.writeTensor(from: source, into: $0) }
        #expect(buffer == preprocessor.tensor(from: source))

        var short = [Float](repeating: 0, count: 10)
        #expect(throws: PreprocessingError.tensorBufferSize(expected: Preprocessor.tensorCount, actual: 10)) {
            try short.withUnsafeMutableBufferPointer { try preprocessor.writeTensor(from: source, into: $0) }
        }
    }

    // MARK: geometry and the crop window

    @Test func geometryMatchesPythonFormulas() throws {
        #expect(fixtures.index.geometry.count > 100)
        for entry in fixtures.index.geometry {
            let style = try #require(PreprocessingStyle(rawValue: entry.style))
            let geometry = try PreprocessingGeometry(style: style, imageWidth: entry.width, imageHeight: entry.height)
            let actual = [geometry.resizedWidth, geometry.resizedHeight, geometry.cropLeft, geometry.cropTop]
            let expected = [entry.resizedWidth, entry.resizedHeight, entry.cropLeft, entry.cropTop]
            #expect(actual == expected, "\(style) \(entry.width)x\(entry.height)")
        }
    }

    @Test func geometryRejectsImpossibleSizes() {
        #expect(throws: PreprocessingError.invalidImageSize(width: 0, height: 10)) {
            try PreprocessingGeometry(style: .megvii, imageWidth: 0, imageHeight: 10)
        }
    }

    /// The preprocessor only computes the crop window of the resized image; that must give the same
    /// bytes as resizing everything and cutting the crop out (the full resize is the part checked
    /// against cv2 / Pillow above). Uses a photo-sized image so the downscale path is covered.
    @Test(arguments: PreprocessingStyle.allCases)
    func cropWindowEqualsCutFromFullResize(style: PreprocessingStyle) throws {
        for (width, height) in [(500, 375), (333, 500), (260, 257)] {
            let image = try SyntheticImage.make(width: width, height: height)
            let geometry = PreprocessingGeometry(style: style, image: image)
            let full = switch style {
            case .megvii: try OpenCVResize.linear(image, width: geometry.resizedWidth, height: geometry.resizedHeight)
            case .torchvision: try PillowResize.bilinear(image, width: geometry.resizedWidth, height: geometry.resizedHeight)
            }
            let expected = try SyntheticImage.cut(full, left: geometry.cropLeft, top: geometry.cropTop,
                                               size: Preprocessor.cropSize)
            #expect(Preprocessor(style: style).crop(image) == expected, "\(style) \(width)x\(height)")
        }
    }

    @Test func megviiTensorIsBGRAndUnscaled() throws {
        // One flat colour: every plane must be constant, in B, G, R order, raw 0...255.
        let image = try RGBImage(width: 300, height: 280, pixels: [UInt8]((0..<(300 * 280)).flatMap { _ in [10, 20, 250] as [UInt8] }))
        let tensor = Preprocessor(style: .megvii).tensor(from: image)
        let plane = Preprocessor.cropSize * Preprocessor.cropSize
        #expect(tensor[0..<plane].allSatisfy { $0 == 250 })
        #expect(tensor[plane..<(2 * plane)].allSatisfy { $0 == 20 })
        #expect(tensor[(2 * plane)...].allSatisfy { $0 == 10 })
    }
}

/// Byte-wise difference summary between an output and its reference.
private struct ByteComparison: CustomStringConvertible {
    var differing = 0
    var maximum = 0
    let count: Int

    init(_ actual: [UInt8], _ expected: [UInt8]) {
        count = expected.count
        guard actual.count == expected.count else {
            differing = max(actual.count, expected.count)
            maximum = 255
            return
        }
        for (a, b) in zip(actual, expected) where a != b {
            differing += 1
            maximum = max(maximum, abs(Int(a) - Int(b)))
        }
    }

    var description: String { "\(differing) of \(count) bytes differ, by at most \(maximum)" }
}

/// Deterministic photo-sized test images (for self-consistency checks only, never as references).
private enum SyntheticImage {
    static func make(width: Int, height: Int) throws -> RGBImage {
        var state: UInt32 = 2_463_534_242
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                state ^= state << 13; state ^= state >> 17; state ^= state << 5  // xorshift32 noise
                let i = 3 * (y * width + x)
                pixels[i] = UInt8((x * 255) / max(width - 1, 1))
                pixels[i + 1] = UInt8(truncatingIfNeeded: state)
                pixels[i + 2] = UInt8(((x + y) * 7) % 256)
            }
        }
        return try RGBImage(width: width, height: height, pixels: pixels)
    }

    static func cut(_ image: RGBImage, left: Int, top: Int, size: Int) throws -> RGBImage {
        var pixels: [UInt8] = []
        pixels.reserveCapacity(size * size * 3)
        for y in top..<(top + size) {
            let start = 3 * (y * image.width + left)
            pixels += image.pixels[start..<(start + 3 * size)]
        }
        return try RGBImage(width: size, height: size, pixels: pixels)
    }
}

/// `Fixtures/preprocess/index.json` and the raw RGB files it lists.
private struct PreprocessFixtures {
    struct Index: Decodable {
        struct Source: Decodable { let name: String; let width: Int; let height: Int; let file: String }
        struct Resize: Decodable { let source: String; let resampler: String; let width: Int; let height: Int; let file: String }
        struct Crop: Decodable { let source: String; let style: String; let file: String }
        struct TensorSamples: Decodable { let source: String; let style: String; let samples: [[Double]] }
        struct Geometry: Decodable {
            let style: String; let width: Int; let height: Int
            let resizedWidth: Int; let resizedHeight: Int; let cropLeft: Int; let cropTop: Int
        }
        let sources: [Source]
        let resizes: [Resize]
        let crops: [Crop]
        let tensorSamples: [TensorSamples]
        let geometry: [Geometry]
    }

    enum LoadError: Error, CustomStringConvertible {
        case missing(String)
        case badSource(String)
        var description: String {
            switch self {
            case .missing(let name): return "Fixtures/preprocess/\(name) is missing from the test bundle"
            case .badSource(let name): return "Fixtures/preprocess: source \(name) is unknown or has the wrong byte count"
            }
        }
    }

    let directory: URL
    let index: Index

    static func load() throws -> PreprocessFixtures {
        guard let url = Bundle.module.url(forResource: "index", withExtension: "json", subdirectory: "Fixtures/preprocess") else {
            throw LoadError.missing("index.json")
        }
        let index = try JSONDecoder().decode(Index.self, from: Data(contentsOf: url))
        return PreprocessFixtures(directory: url.deletingLastPathComponent(), index: index)
    }

    func bytes(_ file: String) throws -> [UInt8] {
        let url = directory.appendingPathComponent(file)
        guard FileManager.default.fileExists(atPath: url.path) else { throw LoadError.missing(file) }
        return [UInt8](try Data(contentsOf: url))
    }

    func source(named name: String) throws -> RGBImage {
        guard let entry = index.sources.first(where: { $0.name == name }) else { throw LoadError.badSource(name) }
        let pixels = try bytes(entry.file)
        guard pixels.count == entry.width * entry.height * 3 else { throw LoadError.badSource(name) }
        return try RGBImage(width: entry.width, height: entry.height, pixels: pixels)
    }
}
