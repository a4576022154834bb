import ArgumentParser
import Foundation
import ShuffleNet
import ShuffleNetBatch
import ShuffleNetEngine

extension Precision: ExpressibleByArgument {}

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time ShuffleNet v1 for any scale and groups on this CPU (no weights file needed).",
        discussion: "Uses seeded random weights unless --weights is given; the speed does not depend on the values."
    )

    @Option(name: .long, help: "Width scale s (channels times s).")
    var scale: Double = 1.0

    @Option(name: .long, help: "Groups g: 1, 2, 3, 4 or 8.")
    var groups: Int = 3

    @Option(name: .long, help: ArgumentHelp("Time this weights file instead (its s and g win).", valueName: "file"))
    var weights: String?

    @Option(name: .long, help: ArgumentHelp("fp32 or int8. int8 quantizes the weights (random, or an fp32 --weights file) with ranges calibrated on 2 random inputs; an int8 --weights file runs int8 without it.", valueName: "precision"))
    var precision: Precision?

    @Option(name: .long, help: "Seed for the random weights.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Images per run.")
    var batch: Int = 1

    @Option(name: .long, help: "Worker threads.")
    var threads: Int = 1

    @Option(name: .long, help: "Untimed runs before timing.")
    var warmup: Int = 5

    @Option(name: .long, help: "Timed runs (at least).")
    var iterations: Int = 50

    @Option(name: .long, help: "Keep timing for at least this many seconds.")
    var duration: Double?

    @Option(name: .long, help: "text or json.")
    var format: BenchFormat = .text

    @Flag(name: .long, help: "Time every g in {1,2,3,4,8} at s in {0.5,1,2} and print one table (MFLOPs, params, ms), as in the paper's Tables 1 and 8.")
    var sweep = false

    @Flag(name: .long, help: "Also break the time down by layer and by kind of operation.")
    var perLayer = false

    @Option(name: .long, help: ArgumentHelp("Write the weights being timed to this safetensors file (to run other runtimes on the same weights).", valueName: "file"))
    var exportWeights: String?

    @Option(name: .long, help: ArgumentHelp("Use this input instead of random values: raw little-endian float32, batch x 3 x 224 x 224.", valueName: "file"))
    var input: String?

    @Option(name: .long, help: ArgumentHelp("Write the last run's logits here: raw little-endian float32, batch x classes.", valueName: "file"))
    var saveLogits: String?

    enum BenchFormat: String, ExpressibleByArgument { case text, json }

    func validate() throws {
        guard ShuffleNetConfiguration.supportedGroups.contains(groups) else { throw ValidationError("--groups must be 1, 2, 3, 4 or 8") }
        guard batch >= 1, batch <= 4096 else { throw ValidationError("--batch must be 1...4096") }
        guard threads >= 1, threads <= 256 else { throw ValidationError("--threads must be 1...256") }
        guard warmup >= 0, iterations >= 1 else { throw ValidationError("--warmup must be >= 0 and --iterations >= 1") }
        if let duration, !(duration > 0) { throw ValidationError("--duration must be positive") }
        do { _ = try ShuffleNetConfiguration(scale: scale, groups: groups) } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        if sweep {
            print(try runSweep())
            return
        }
        let modelWeights: NetworkWeights
        do {
            let loaded: NetworkWeights = if let weights {
                try NetworkWeights(contentsOf: weights)
            } else {
                .fp32(ShuffleNetWeights.random(configuration: try ShuffleNetConfiguration(scale: scale, groups: groups), seed: seed))
            }
            modelWeights = try Self.weights(loaded, precision: precision, seed: seed)
        } catch {
            Diagnostics.error("\(error)")
            throw ExitStatus.nothingRan
        }
        if let exportWeights {
            do {
                switch modelWeights {
                case .fp32(let w): try w.safeTensors().write(to: exportWeights)
                case .int8(let w): try w.safeTensors().write(to: exportWeights)
                }
            } catch {
                Diagnostics.error("\(error)")
                throw ExitStatus.nothingRan
            }
        }
        var settings = self.settings
        if let input {
            guard let data = FileManager.default.contents(atPath: input), data.count == batch * 3 * 224 * 224 * 4 else {
                Diagnostics.error("\(input): need exactly \(batch * 3 * 224 * 224 * 4) bytes (batch x 3 x 224 x 224 float32)")
                throw ExitStatus.nothingRan
            }
            settings.input = data.withUnsafeBytes { raw in (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) } }
        }
        let result = Benchmark(model: try ShuffleNetModel(weights: modelWeights)).run(settings)
        if let saveLogits {
            let bytes = result.lastLogits.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init) }
            guard FileManager.default.createFile(atPath: saveLogits, contents: Data(bytes)) else {
                Diagnostics.error("\(saveLogits): cannot write")
                throw ExitStatus.nothingRan
            }
        }
        print(format == .json ? BenchReport.json(result) : BenchReport.text(result))
        if perLayer {
            let model = try ShuffleNetModel(weights: modelWeights)  // its own workspace, one thread
            print(BenchReport.perLayer(model: model, runs: max(iterations, 20), json: format == .json))
        }
    }
}

extension BenchCommand {
    /// The timing settings the options describe.
    var settings: Benchmark.Settings {
        var settings = Benchmark.Settings()
        settings.batch = batch
        settings.threads = threads
        settings.warmup = warmup
        settings.iterations = iterations
        settings.duration = duration
        return settings
    }

    /// The weights to time in `precision` (nil: as they are): fp32 ones are quantized for int8 with ranges from
    /// random inputs (the speed depends only on the shapes); int8 ones cannot be timed as fp32.
    static func weights(_ weights: NetworkWeights, precision: Precision?, seed: UInt64) throws -> NetworkWeights {
        switch (weights, precision) {
        case (_, nil), (.fp32, .fp32), (.int8, .int8): return weights
        case (.fp32(let w), .int8): return .int8(try QuantizedWeights.calibrating(w, randomInputs: 2, seed: seed))
        case (.int8, .fp32): throw ValidationError("--precision fp32: the weights file is int8 (time the fp32 file it was made from)")
        }
    }

    func runSweep() throws -> String {
        var rows: [Benchmark.Result] = []
        for s in [0.5, 1.0, 2.0] {
            for g in ShuffleNetConfiguration.supportedGroups {
                let configuration = try ShuffleNetConfiguration(scale: s, groups: g)
                let weights = try Self.weights(.fp32(ShuffleNetWeights.random(configuration: configuration, seed: seed)),
                                               precision: precision, seed: seed)
                rows.append(Benchmark(model: try ShuffleNetModel(weights: weights)).run(settings))
            }
        }
        if format == .json { return "[" + rows.map(BenchReport.json).joined(separator: ",\n") + "]" }
        var lines = ["ShuffleNet v1 sweep (\(precision ?? .fp32)): batch \(batch), threads \(threads), median of \(iterations) runs",
                     "", "| s | g | stage widths | MFLOPs | params (M) | p50 ms | images/s | GFLOP/s |", "|---|---|---|---|---|---|---|---|"]
        for r in rows {
            let c = r.configuration
            lines.append("| \(c.scale)x | \(c.groups) | \(c.stageChannels.map(String.init).joined(separator: "/")) | "
                + String(format: "%.1f | %.2f | %.3f | %.0f | %.1f |", Double(r.multiplyAdds) / 1e6, Double(r.parameters) / 1e6,
                         r.percentile(50), r.imagesPerSecond, r.gigaflopsPerSecond))
        }
        return lines.joined(separator: "\n")
    }
}

enum BenchReport {
    /// Profiles single-image runs (batch 1, one thread) layer by layer.
    static func perLayer(model: ShuffleNetModel, runs: Int, json: Bool) -> String {
        let workspace = model.makeWorkspace()
        let input = [Float](repeating: 100, count: 3 * model.plan.inputSize * model.plan.inputSize)
        var logits = [Float](repeating: 0, count: model.configuration.numClasses)
        let profile = LayerProfile()
        input.withUnsafeBufferPointer { x in
            logits.withUnsafeMutableBufferPointer { y in
                for _ in 0..<3 { model.run(input: x.baseAddress!, logits: y.baseAddress!, workspace: workspace) }
                for _ in 0..<runs { model.run(input: x.baseAddress!, logits: y.baseAddress!, workspace: workspace, profile: profile) }
            }
        }
        let total = profile.entries.map { Double($0.nanoseconds) }.reduce(0, +) / Double(profile.runs) / 1e6
        if json {
            let layers = profile.entries.map { "{\"layer\":\"\($0.name)\",\"kind\":\"\($0.kind.rawValue)\",\"ms\":\(String(format: "%.4f", Double($0.nanoseconds) / Double(profile.runs) / 1e6))}" }
            return "{\"per_layer\":[\(layers.joined(separator: ","))]}"
        }
        var lines = ["", "per layer (batch 1, 1 thread, mean of \(runs) runs):"]
        for e in profile.entries {
            let ms = Double(e.nanoseconds) / Double(profile.runs) / 1e6
            lines.append("  " + e.name.padding(toLength: 40, withPad: " ", startingAt: 0) + String(format: " %8.4f ms %5.1f%%", ms, 100 * ms / total))
        }
        lines.append("by kind:")
        for (kind, ms) in profile.millisecondsByKind {
            lines.append("  " + kind.rawValue.padding(toLength: 40, withPad: " ", startingAt: 0) + String(format: " %8.4f ms %5.1f%%", ms, 100 * ms / total))
        }
        return lines.joined(separator: "\n")
    }

    static func text(_ r: Benchmark.Result) -> String {
        let c = r.configuration
        func ms(_ v: Double) -> String { String(format: "%.3f", v) }
        let features = KernelVariant.cpuFeatures
        return """
            \(c), \(r.precision)
            parameters      \(r.parameters) (\(String(format: "%.2f", Double(r.parameters) / 1e6)) M)
            multiply-adds   \(r.multiplyAdds) (\(String(format: "%.1f", Double(r.multiplyAdds) / 1e6)) M per image)
            batch \(r.settings.batch), threads \(r.settings.threads), \(r.latencies.count) timed runs after \(r.settings.warmup) warm-up
            kernels         \(KernelVariant.summary)
            cpu features    \(features.enabled)\(features.enabled == features.detected ? "" : " (capped; detected: \(features.detected))")
            micro-kernels   \((r.precision == .int8 ? KernelVariant.active.int8MicroKernels : KernelVariant.active.microKernels).joined(separator: " "))
            first run       \(ms(r.firstMilliseconds)) ms
            latency (ms)    min \(ms(r.latencies.first ?? 0))  p50 \(ms(r.percentile(50)))  p90 \(ms(r.percentile(90)))  p99 \(ms(r.percentile(99)))  max \(ms(r.latencies.last ?? 0))  mean \(ms(r.mean))
            throughput      \(String(format: "%.1f", r.imagesPerSecond)) images/s, \(String(format: "%.1f", r.gigaflopsPerSecond)) GFLOP/s (at p50)
            """
    }

    static func json(_ r: Benchmark.Result) -> String {
        func n(_ v: Double) -> String { String(format: "%.4f", v) }
        let latency = "{\"min\":\(n(r.latencies.first ?? 0)),\"p50\":\(n(r.percentile(50))),\"p90\":\(n(r.percentile(90))),\"p99\":\(n(r.percentile(99))),\"max\":\(n(r.latencies.last ?? 0)),\"mean\":\(n(r.mean))}"
        return "{\"scale\":\(r.configuration.scale),\"groups\":\(r.configuration.groups),\"precision\":\"\(r.precision)\",\"batch\":\(r.settings.batch),\"threads\":\(r.settings.threads),\"params\":\(r.parameters),\"macs\":\(r.multiplyAdds),\"first_ms\":\(n(r.firstMilliseconds)),\"latency_ms\":\(latency),\"images_per_second\":\(n(r.imagesPerSecond)),\"gflops\":\(n(r.gigaflopsPerSecond)),\"iterations\":\(r.latencies.count),\"kernels\":\"\(KernelVariant.active)\"}"
    }
}
