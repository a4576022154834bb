import ArgumentParser
import Foundation
import ShuffleNetImage
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
        // Resident memory must follow the decode budget, not what malloc keeps cached per thread.
        DecodeMemoryBudget.returnFreedMemoryPromptly()
        let classifier: ImageClassifier
        let filter: InputFilter
        let sink: EmbeddingSink
        do {
            classifier = try ImageClassifier(weightsAt: try weightsOptions.resolve(), decodingOptions: decoding.options,
                                             memoryBudget: decoding.memoryBudget)
            filter = try input.filter()
            switch format {
            case .jsonl:
                let encoder = BatchRecordEncoder(format: .jsonl, topK: 0)
                sink = .jsonl(try output.map { path throws(BatchError) in try ResultWriter.file(path, encoder: encoder, resume: nil) }
                    ?? ResultWriter.standardOutput(encoder: encoder))
            case .npy:
                sink = .npy(try NumPyRowsWriter(matrixPath: output!, pathsPath: resolvedPathsFile!, columns: classifier.model.plan.finalChannels))
            }
        } catch {
            Diagnostics.error("\(error)")
            throw ExitStatus.nothingRan
        }
        let bar = ProgressBar(mode: progress, quiet: quiet)
        let rowsShareTheTerminal = format == .jsonl && output == nil && isatty(STDOUT_FILENO) == 1
        let makeInputs = { BatchInputs(walker: InputWalker(sources: input.sources, recursive: input.recursive, filter: filter)) }
        let inputs = makeInputs()
        bar.countInBackground(makeInputs)
        var settings = BatchClassifier.Settings()
        settings.threads = threads
        settings.product = .features(normalized: normalize)
        settings.warn = { [quiet] line in if !quiet { bar.note("warning: \(line)") } }
        let summary: BatchSummary
        do {
            // Rows are written as their turn comes (input order), so memory stays flat however many inputs.
            summary = try BatchClassifier(classifier: classifier, settings: settings).run(next: { inputs.next() }) { record throws(BatchError) in
                if rowsShareTheTerminal { bar.clearForOutput() }
                switch sink {
                case .jsonl(let writer):
                    try writer.write(record)
                case .npy(let writer):
                    switch record.outcome {
                    case .features(let vector): try writer.append(vector, path: record.path)
                    case .failure(let reason): if !quiet { bar.note("error, no row: \(reason)") }
                    case .predictions: break
                    }
                }
                bar.advance(failed: record.isFailure)
                return .proceed
            }
            switch sink {
            case .jsonl(let writer): try writer.finish()
            case .npy(let writer): try writer.finish()
            }
        } catch {
            bar.finish()
            Diagnostics.error("\(error)")
            throw ExitStatus.nothingRan
        }
        bar.finish()
        let emptyLines = inputs.emptyLinesSkipped
        if !quiet, summary.records != 1 || summary.failures > 0 || emptyLines > 0 {
            let empties = emptyLines > 0 ? ", \(emptyLines) empty line\(emptyLines == 1 ? "" : "s") skipped" : ""
            Diagnostics.note(String(format: "%d file%@, %d error%@%@, %.1f s; %d-dimensional features%@", summary.records,
                                    summary.records == 1 ? "" : "s", summary.failures, summary.failures == 1 ? "" : "s", empties,
                                    summary.seconds, classifier.model.plan.finalChannels, normalize ? ", L2-normalised" : ""))
        }
        if summary.failures > 0 { throw ExitStatus.someInputsFailed }
    }

    /// Where the rows go.
    enum EmbeddingSink {
        case jsonl(ResultWriter)
        case npy(NumPyRowsWriter)
    }
}
