import ArgumentParser
import Foundation
import ShuffleNet
import ShuffleNetBatch

struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Write each image's pooled features (the input of the network's last layer: 480 values for 0.5x g3), for similarity search or clustering.",
        discussion: """
            Inputs as for classify: files, directories (-r for subdirectories), - for a list on stdin; decoded and \
            preprocessed exactly as classify does. jsonl: one {"path": ..., "embedding": [...]} per input in input \
            order, an input that cannot be read gets {"path": ..., "error": ...}. npy: one float32 matrix (rows: the \
            readable inputs, NumPy .npy version 1) in FILE and their paths, one per line, row for row, in \
            --paths-file (default: FILE with .npy replaced by .paths.txt); unreadable inputs are listed on stderr. \
            --normalize scales each vector to length 1 (cosine similarity is then a dot product).

            Exit codes: 0 every input embedded; 1 nothing could run; 2 some inputs failed; 64 bad usage.
            """
    )

    enum Format: String, ExpressibleByArgument { case jsonl, npy }

    @OptionGroup var input: InputOptions

    @OptionGroup var weightsOptions: WeightsOptions

    @Option(name: .long, help: "jsonl (one object per line) or npy (float32 matrix + paths file).")
    var format: Format = .jsonl

    @Option(name: [.short, .long], help: ArgumentHelp("Output file (jsonl: default stdout; npy: required).", valueName: "file"))
    var output: String?

    @Option(name: .long, help: ArgumentHelp("With npy: where the paths go, one per line (default: FILE with .paths.txt for .npy).", valueName: "file"))
    var pathsFile: String?

    @Flag(name: .long, help: "L2-normalise each vector.")
    var normalize = false

    @Option(name: .long, help: "Progress bar on stderr: auto (when stderr is a terminal), always or never.")
    var progress: ProgressBar.Mode = .auto

    @Flag(name: [.short, .long], help: "No progress bar and no summary on stderr.")
    var quiet = false

    @Option(name: .long, help: "Worker threads (default: the CPUs this process may use).")
    var threads: Int = AvailableCPUs.count

    @OptionGroup var decoding: DecodingFlags

    func validate() throws {
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be between 1 and 256") }
        if format == .npy, output == nil { throw ValidationError("--format npy needs -o FILE.npy") }
        if format == .jsonl, pathsFile != nil { throw ValidationError("--paths-file applies to --format npy") }
    }

    var resolvedPathsFile: String? {
        guard format == .npy, let output else { return nil }
        if let pathsFile { return pathsFile }
        return (output.hasSuffix(".npy") ? String(output.dropLast(4)) : output) + ".paths.txt"
    }

    func run() throws {
        let extractor: FeatureExtractor
        let filter: InputFilter
        do {
            let classifier = try ImageClassifier(weightsAt: try weightsOptions.resolve(), decodingOptions: decoding.options,
                                                 memoryBudget: decoding.memoryBudget)
            extractor = FeatureExtractor(classifier: classifier)
            filter = try input.filter()
        } catch {
            Diagnostics.error("\(error)")
            throw ExitStatus.nothingRan
        }
        let walker = InputWalker(sources: input.sources, recursive: input.recursive, filter: filter)
        var items: [InputItem] = []
        while let item = walker.next() { items.append(item) }
        let bar = ProgressBar(mode: progress, quiet: quiet)
        bar.setTotal(items.count)
        let start = DispatchTime.now().uptimeNanoseconds
        let readable = items.indices.filter { items[$0].problem == nil }
        let extracted = extractor.extract(paths: readable.map { items[$0].path }, threads: threads,
                                          progress: { failed in bar.advance(failed: failed) })
        bar.finish()
        var rows = [Row](repeating: .failure(""), count: items.count)
        for (i, item) in items.enumerated() { if let problem = item.problem { rows[i] = .failure("\(item.path): \(problem)") } }
        for (i, result) in zip(readable, extracted) {
            switch result {
            case .success(let photo):
                photo.warnings.forEach { if !quiet { Diagnostics.note("warning: \($0)") } }
                rows[i] = .success(normalize ? FeatureExtractor.normalized(photo.views[0]) : photo.views[0])
            case .failure(let error): rows[i] = .failure("\(error)")
            }
        }
        let failures = rows.filter { if case .failure = $0 { true } else { false } }.count
        do {
            switch format {
            case .jsonl:
                var text = ""
                for (item, row) in zip(items, rows) {
                    switch row {
                    case .success(let vector):
                        text += "{\"path\":\(BatchTextEscaping.json(item.path)),\"embedding\":[\(vector.map { "\($0)" }.joined(separator: ","))]}\n"
                    case .failure(let reason):
                        text += "{\"path\":\(BatchTextEscaping.json(item.path)),\"error\":\(BatchTextEscaping.json(reason))}\n"
                    }
                }
                if let output {
                    try write(Data(text.utf8), to: output)
                } else {
                    FileHandle.standardOutput.write(Data(text.utf8))
                }
            case .npy:
                var matrix: [[Float]] = []
                var paths = ""
                for (item, row) in zip(items, rows) {
                    switch row {
                    case .success(let vector):
                        matrix.append(vector)
                        paths += item.path + "\n"
                    case .failure(let reason):
                        if !quiet { Diagnostics.note("error, no row: \(reason)") }
                    }
                }
                try write(NumPyFile.float32Matrix(matrix, columns: extractor.dimension), to: output!)
                try write(Data(paths.utf8), to: resolvedPathsFile!)
            }
        } catch {
            Diagnostics.error("\(error)")
            throw ExitStatus.nothingRan
        }
        if !quiet, items.count != 1 || failures > 0 {
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            Diagnostics.note(String(format: "%d file%@, %d error%@, %.1f s; %d-dimensional features%@", items.count, items.count == 1 ? "" : "s",
                                    failures, failures == 1 ? "" : "s", seconds, extractor.dimension, normalize ? ", L2-normalised" : ""))
        }
        if failures > 0 { throw ExitStatus.someInputsFailed }
    }

    enum Row {
        case success([Float])
        case failure(String)
    }

    private func write(_ data: Data, to path: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path))
        } catch {
            throw BatchError.outputUnwritable(path: path, reason: error.localizedDescription)
        }
    }
}
