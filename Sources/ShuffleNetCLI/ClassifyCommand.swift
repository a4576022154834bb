import ArgumentParser
import Foundation
import ShuffleNet

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, jsonl
}

struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Print the top-k ImageNet classes of each image (JPEG or PNG, recognised by content).",
        discussion: "A file that cannot be read or decoded is reported (stderr, and as an error record in json/jsonl) and the run goes on; the exit code is then 2."
    )

    @Argument(help: ArgumentHelp("Image files.", valueName: "image"))
    var images: [String]

    @OptionGroup var weightsOptions: WeightsOptions

    @Option(name: .long, help: "How many classes to print per image.")
    var topK: Int = 5

    @Option(name: .long, help: "text (for people), json (one array at the end) or jsonl (one object per image, written as each finishes).")
    var format: OutputFormat = .text

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one image") }
        guard (1...1000).contains(topK) else { throw ValidationError("--top-k must be between 1 and 1000") }
    }

    func run() throws {
        let classifier: ImageClassifier
        do {
            classifier = try ImageClassifier(weightsAt: try weightsOptions.resolve())
        } catch {
            Diagnostics.error("\(error)")
            throw ExitStatus.nothingRan
        }
        var writer = ResultWriter(format: format)
        var failures = 0
        for path in images {
            do {
                writer.write(path: path, predictions: try classifier.classify(imageAt: path, topK: topK))
            } catch {
                failures += 1
                writer.write(path: path, error: "\(error)")
            }
        }
        writer.finish()
        if failures > 0 {
            Diagnostics.note("\(failures) of \(images.count) images failed")
            throw ExitStatus.someInputsFailed
        }
    }
}
