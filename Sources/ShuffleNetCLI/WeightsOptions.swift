import ArgumentParser
import Foundation
import ShuffleNet

/// Where the weights come from: an explicit file, or a published checkpoint fetched, verified, converted
/// and cached on first use.
struct WeightsOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("A safetensors weights file (see Weights/README.md).", valueName: "file"))
    var weights: String?

    @Option(name: .long, help: ArgumentHelp("Published weights to use when --weights is not given: \(PublishedWeights.all.map(\.name).joined(separator: ", ")).", valueName: "name"))
    var model: String = PublishedWeights.standard.name

    @Option(name: .long, help: ArgumentHelp("Directory holding the original checkpoint files (also SHUFFLENET_MIRROR, colon-separated). Repeatable.", valueName: "dir"))
    var mirror: [String] = []

    @Option(name: .long, help: ArgumentHelp("Where converted weights and downloads are kept (default $XDG_CACHE_HOME/shufflenet or ~/.cache/shufflenet).", valueName: "dir"))
    var cacheDir: String?

    @Flag(name: .long, help: "Never download (also SHUFFLENET_OFFLINE=1).")
    var offline = false

    func validate() throws {
        if weights == nil, PublishedWeights.named(model) == nil {
            throw ValidationError("unknown --model '\(model)'; known: \(PublishedWeights.all.map(\.name).joined(separator: ", "))")
        }
    }

    /// The path of the weights file, fetching and converting the published checkpoint if needed.
    func resolve() throws(ClassifierError) -> String {
        if let weights { return weights }
        let fetcher = CheckpointFetcher.fromEnvironment(mirrorDirectories: mirror, cacheDirectory: cacheDir,
                                                        allowDownload: !offline, log: { Diagnostics.note($0) })
        return try DefaultWeights(fetcher: fetcher).resolve(PublishedWeights.named(model) ?? .standard)
    }
}

/// Human diagnostics go to stderr so stdout carries only results.
enum Diagnostics {
    static func note(_ message: String) {
        FileHandle.standardError.write(Data("shufflenet: \(message)\n".utf8))
    }
    static func error(_ message: String) {
        FileHandle.standardError.write(Data("shufflenet: error: \(message)\n".utf8))
    }
}
