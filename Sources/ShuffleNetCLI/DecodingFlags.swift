import ArgumentParser
import Foundation
import ShuffleNetImage

/// How image files are decoded, shared by `classify` and `preview` so both see the same pixels.
struct DecodingFlags: ParsableArguments {
    @Flag(name: .long, help: "Do not turn images according to their EXIF orientation (nor XMP tiff:Orientation).")
    var ignoreExif = false

    @Flag(name: .long, help: "Accept truncated or damaged image data (missing parts come out grey or black), with a warning.")
    var allowTruncated = false

    @Option(name: .long, help: "Refuse images with more pixels than this (checked on the header, before decoding).")
    var maxPixels: Int = DecodingOptions.defaultMaxPixels

    @Option(name: .long, help: ArgumentHelp("Memory all decoding may hold at once, shared by the threads: MiB, or with a unit (800M, 2G). An image that needs more on its own is an error row.", valueName: "size"))
    var memoryLimit: String = "\(DecodeMemoryBudget.defaultBytes >> 20)M"

    func validate() throws {
        guard maxPixels > 0 else { throw ValidationError("--max-pixels must be positive") }
        guard let bytes = Self.bytes(memoryLimit), bytes >= Self.smallestMemoryLimit else {
            throw ValidationError("--memory-limit must be a size of at least 16M, like 512M, 2G or 800 (MiB), not \"\(memoryLimit)\"")
        }
    }

    /// Below this not even a small photo's file, header pass and sample fit.
    static let smallestMemoryLimit = 16 << 20

    /// The budget `--memory-limit` asks for (validated).
    var memoryBudget: DecodeMemoryBudget {
        DecodeMemoryBudget(bytes: Self.bytes(memoryLimit) ?? DecodeMemoryBudget.defaultBytes)
    }

    /// "512", "512M", "512MiB", "2G", "65536K" (binary units; no unit means MiB), or nil.
    static func bytes(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
        let digits = trimmed.prefix { $0.isNumber }
        guard let value = Int(digits), value > 0 else { return nil }
        let shift: Int
        switch trimmed.dropFirst(digits.count).replacingOccurrences(of: "IB", with: "").replacingOccurrences(of: "B", with: "") {
        case "K": shift = 10
        case "", "M": shift = 20
        case "G": shift = 30
        default: return nil
        }
        return value <= (Int.max >> shift) ? value << shift : nil
    }

    var options: DecodingOptions {
        DecodingOptions(applyExifOrientation: !ignoreExif, allowTruncated: allowTruncated, maxPixels: maxPixels)
    }
}
