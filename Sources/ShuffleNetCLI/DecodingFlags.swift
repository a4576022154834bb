import ArgumentParser
import ShuffleNetImage

/// How image files are decoded, shared by `classify` and `preview` so both see the same pixels.
struct DecodingFlags: ParsableArguments {
    @Flag(name: .long, help: "Do not turn images according to their EXIF orientation (nor XMP tiff:Orientation).")
    var ignoreExif = false

    @Flag(name: .long, help: "Accept truncated or damaged image data (missing parts come out grey or black), with a warning.")
    var allowTruncated = false

    @Option(name: .long, help: "Refuse images with more pixels than this (checked on the header, before decoding).")
    var maxPixels: Int = DecodingOptions.defaultMaxPixels

    func validate() throws {
        guard maxPixels > 0 else { throw ValidationError("--max-pixels must be positive") }
    }

    var options: DecodingOptions {
        DecodingOptions(applyExifOrientation: !ignoreExif, allowTruncated: allowTruncated, maxPixels: maxPixels)
    }
}
