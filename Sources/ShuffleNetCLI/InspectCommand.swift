import ArgumentParser
import Foundation
import ShuffleNet
import ShuffleNetEngine

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a ShuffleNet v1's layers in the layout of the paper's Table 1, its parameters and multiply-adds, and a weights file's metadata.",
        discussion: "Without --weights, describes the architecture for --scale and --groups (default 1x, g = 3, the paper's Table 1 column)."
    )

    @Option(name: .long, help: "Width scale s (channels times s).")
    var scale: Double = 1.0

    @Option(name: .long, help: "Groups g: 1, 2, 3, 4 or 8.")
    var groups: Int = 3

    @Option(name: .long, help: ArgumentHelp("Describe this safetensors weights file instead (its s and g win).", valueName: "file"))
    var weights: String?

    @Option(name: .long, help: "text or json.")
    var format: InspectFormat = .text

    enum InspectFormat: String, ExpressibleByArgument { case text, json }

    func validate() throws {
        guard ShuffleNetConfiguration.supportedGroups.contains(groups) else { throw ValidationError("--groups must be 1, 2, 3, 4 or 8") }
        do { _ = try ShuffleNetConfiguration(scale: scale, groups: groups) } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        let report: InspectReport
        if let weights {
            do {
                // One parse; the precision in the metadata picks the loader, and either checks the whole file.
                let file = try SafeTensorsFile(contentsOf: weights)
                let bytes = (try? FileManager.default.attributesOfItem(atPath: weights)[.size] as? Int) ?? 0
                let configuration: ShuffleNetConfiguration, metadata: [String: String], precision: String
                if file.metadata[ShuffleNetWeights.MetadataKey.precision] == QuantizedWeights.precisionName {
                    let loaded = try QuantizedWeights(file: file)
                    (configuration, metadata, precision) = (loaded.configuration, loaded.metadata, QuantizedWeights.precisionName)
                } else {
                    let loaded = try ShuffleNetWeights(file: file)
                    (configuration, metadata, precision) = (loaded.configuration, loaded.metadata, ShuffleNetWeights.fp32Precision)
                }
                report = InspectReport(plan: NetworkPlan(configuration: configuration),
                                       weights: .init(path: weights, bytes: bytes, tensors: file.entries.count, precision: precision, metadata: metadata))
            } catch {
                Diagnostics.error("\(error)")
                throw ExitStatus.nothingRan
            }
        } else {
            do {
                report = InspectReport(plan: NetworkPlan(configuration: try ShuffleNetConfiguration(scale: scale, groups: groups)), weights: nil)
            } catch {
                Diagnostics.error("\(error)")
                throw ExitStatus.nothingRan
            }
        }
        print(format == .json ? report.json() : report.text(), terminator: "")
    }
}
