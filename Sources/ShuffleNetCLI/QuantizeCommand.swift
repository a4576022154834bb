import ArgumentParser
import Foundation
import ShuffleNet

struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Make an int8 weights file from an fp32 one, calibrating activation ranges on photos (classify, embed and bench run it).",
        discussion: """
            The photos in --calibration (files or folders, searched recursively) are decoded and preprocessed \
            exactly as classify does; the fp32 network's activations on them give each int8 tensor its range \
            (--method); weights are rounded to int8 codes with one scale per output channel, BatchNorm folded \
            (--rounding); conv1 stays fp32 (Weights/README.md, "int8 files"). With --evaluate, the int8 network (what \
            classify runs on the file) is compared with fp32 on those photos: how often the top-1 class agrees.

            Exit codes: 0 written; 1 nothing could run; 2 written, but some photos could not be read; 64 bad usage.
            """
    )

    @OptionGroup var weightsOptions: WeightsOptions

    @Option(name: .long, help: ArgumentHelp("Calibration photos: files or folders (recursive). Repeatable.", valueName: "dir"))
    var calibration: [String] = []

    @Option(name: [.short, .long], help: ArgumentHelp("The int8 weights file to write.", valueName: "int8.safetensors"))
    var output: String

    @Option(name: .long, help: "How each tensor's range is chosen: mse (the default: the range with the smallest expected squared quantization error on the photos' values, rounding inside and clipping outside; with gptq it measured best), percentile (99.999), percentile:P, or minmax.")
    var method: String = CalibrationMethod.standard.description

    @Option(name: .long, help: "How weights are rounded to int8 codes: gptq (the default: each rounding error spread over the weights not yet rounded so the layer's output on the calibration photos moves least; it measured best) or nearest.")
    var rounding: String = WeightRounding.standard.rawValue

    @Option(name: .long, help: ArgumentHelp("Photos (files or folders) to compare int8 with fp32 on after quantizing. Repeatable.", valueName: "dir"))
    var evaluate: [String] = []

    @Option(name: .long, help: "Rounds of empirical bias correction, each layer alone on the fp32 input (default 0: the analytic correction only; measured +2 photos on g3, -3 on g8 of 244).")
    var biasCorrection: Int = 0

    @Flag(name: .long, inversion: .prefixedNo, help: "Also store the fp32 weights at 16 bits, so classify can recheck int8 answers near a tie exactly (--int8-recheck); about 2 bytes per weight more in the file.")
    var recheckWeights = true

    @Flag(name: [.short, .long], help: "No notes on stderr.")
    var quiet = false

    @OptionGroup var decoding: DecodingFlags

    func validate() throws {
        guard !calibration.isEmpty else { throw ValidationError("--calibration DIR is required (photos like the ones you will classify)") }
        guard CalibrationMethod(name: method) != nil else { throw ValidationError("--method must be percentile, percentile:P (50 < P <= 100), mse or minmax") }
        guard WeightRounding(rawValue: rounding) != nil else { throw ValidationError("--rounding must be gptq or nearest") }
    }

    /// The image files under `inputs`, in classify -r's order.
    static func photos(_ inputs: [String]) -> [String] {
        let walker = InputWalker(sources: inputs.map { .path($0) }, recursive: true, filter: InputFilter.images)
        var paths: [String] = []
        while let item = walker.next() {
            if item.problem == nil { paths.append(item.path) }
        }
        return paths
    }

    func run() throws {
        let classifier: ImageClassifier
        do {
            classifier = try ImageClassifier(weightsAt: try weightsOptions.resolve(), decodingOptions: decoding.options,
                                             memoryBudget: decoding.memoryBudget)
        } catch {
            Diagnostics.error("\(error)")
            throw ExitStatus.nothingRan
        }
        let paths = Self.photos(calibration)
        var quantizer = Int8Quantizer(classifier: classifier, method: CalibrationMethod(name: method)!)
        quantizer.biasCorrectionRounds = biasCorrection
        quantizer.rounding = WeightRounding(rawValue: rounding)!
        quantizer.recheckWeights = recheckWeights
        let start = DispatchTime.now().uptimeNanoseconds
        let result: Int8Quantizer.Result
        do {
            result = try quantizer.quantize(paths: paths)
            try result.weights.safeTensors().write(to: output)
        } catch {
            Diagnostics.error("\(error)")
            throw ExitStatus.nothingRan
        }
        if !quiet {
            for line in result.unreadable { Diagnostics.note("unreadable, not used: \(line)") }
            let bytes = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
            let recheck = result.weights.recheck.map { String(format: ", %.1f MB of it fp16 recheck weights", Double($0.byteCount) / 1e6) }
                ?? (recheckWeights ? ", no recheck weights (a weight does not fit fp16)" : "")
            Diagnostics.note(String(format: "wrote %@ (int8, %@, %@ rounding, %.1f MB%@): calibrated on %d of %d photos in %.1f s", output, method, rounding,
                                    Double(bytes) / 1e6, recheck, result.photosUsed, paths.count,
                                    Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
        }
        if !evaluate.isEmpty {
            let evaluation = Self.photos(evaluate)
            let rows = quantizer.compare(result.weights, paths: evaluation)
            let compared = rows.compactMap { $0 }
            func percent(_ n: Int) -> String { String(format: "%.1f", 100 * Double(n) / Double(max(1, compared.count))) }
            let same = compared.filter { $0.fp32 == $0.int8 }.count
            var line = "int8 vs fp32 top-1: \(same) of \(compared.count) photos agree (\(percent(same))%)"
            if result.weights.recheck != nil {
                let rechecked = compared.filter { $0.fp32 == $0.rechecked }.count
                line += " as computed, \(rechecked) (\(percent(rechecked))%) as classify gives them (near ties rechecked in fp32)"
            }
            print(line)
            for (path, row) in zip(evaluation, rows) {
                guard let row, row.fp32 != row.int8 || row.fp32 != row.rechecked else { continue }
                let after = row.rechecked == row.int8 ? "" : ", rechecked \(classifier.labels[row.rechecked])"
                print("  \(path): fp32 \(classifier.labels[row.fp32]), int8 \(classifier.labels[row.int8])\(after)")
            }
        }
        if !result.unreadable.isEmpty { throw ExitStatus.someInputsFailed }
    }
}
