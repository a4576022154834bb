import ArgumentParser
import ShuffleNetImage

/// `shufflenet preview IMAGE -o crop.png`: writes the 224x224 RGB crop the network sees (after EXIF
/// orientation, resize and centre crop, before normalisation), for when a result looks wrong.
struct PreviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preview",
        abstract: "Write the 224x224 crop the network sees for an image, as a PNG.",
        discussion: "The crop is taken after EXIF (or XMP) orientation, resize and centre crop, before channel reordering and normalisation. Decoding options are those of classify."
    )

    @Argument(help: ArgumentHelp("A JPEG or PNG file (recognised by content).", valueName: "image"))
    var image: String

    @Option(name: .shortAndLong, help: ArgumentHelp("The PNG file to write.", valueName: "crop.png"))
    var output: String

    @Option(name: .long, help: "Preprocessing to show: megvii (OpenCV resize, the published weights) or torchvision (Pillow resize).")
    var preprocessing: String = PreprocessingStyle.megvii.rawValue

    @OptionGroup var decoding: DecodingFlags

    func validate() throws {
        guard PreprocessingStyle(rawValue: preprocessing) != nil else {
            throw ValidationError("--preprocessing must be one of \(PreprocessingStyle.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        do {
            // The same decoding as classify's: only the pixels the crop reads, within --memory-limit.
            let preprocessor = Preprocessor(style: PreprocessingStyle(rawValue: preprocessing) ?? .megvii)
            let (crop, decoded) = try ImageDecoder.withSampledDecode(
                contentsOf: image, options: decoding.options, budget: decoding.memoryBudget,
                selecting: { preprocessor.pixelsRead(width: $0, height: $1) },
                body: { (preprocessor.crop($0.image), $0) })
            for warning in decoded.warnings {
                Diagnostics.note("warning: \(image): \(warning)")
            }
            try PNGWriter.write(crop, to: output)
            // The value may come from EXIF or, without it, from XMP: say which value, not which source.
            let turned = decoded.orientationApplied ? ", orientation \(decoded.exifOrientation.map { String($0.rawValue) } ?? "?") (EXIF or XMP) applied" : ""
            Diagnostics.note("wrote \(output): \(crop.width)x\(crop.height) crop of \(decoded.image.width)x\(decoded.image.height) \(decoded.format.rawValue)\(turned)")
        } catch {
            Diagnostics.error("\(error)")
            throw ExitStatus.nothingRan
        }
    }
}
