import ArgumentParser
import Foundation
import ShuffleNet
import ShuffleNetBatch

extension BatchOutputFormat: ExpressibleByArgument {}
extension ProgressBar.Mode: ExpressibleByArgument {}

struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Print the top-k ImageNet classes of each image (JPEG or PNG, recognised by content).",
        discussion: """
            Inputs: files (any name), directories (their .jpg/.jpeg/.png files, any case; -r for subdirectories; \
            symlinked directories inside are not followed) and - for more inputs on stdin, one per line (-0: \
            NUL-separated), each treated like an argument: a file of any name gets a row, a directory expands, a \
            missing path is an error row; empty lines are skipped and counted in the summary. Files come out in \
            natural order (img2 before img10), the same whatever the threads.

            Every input gets exactly one row; one that cannot be read or decoded is an error row and the run \
            goes on (--fail-fast stops at the first). Only data goes to stdout (or --output); progress and the \
            summary go to stderr.

            --resume (with --output, jsonl or csv) skips the inputs already in the file, after cutting off a \
            row torn by a kill. --shard K/N classifies part K of N: N runs with the same inputs cover every \
            file exactly once.

            Exit codes: 0 every input classified; 1 nothing could run (weights, output file); 2 some inputs \
            failed or --fail-fast stopped the run; 64 bad usage.
            """
    )

    @OptionGroup var input: InputOptions

    @OptionGroup var weightsOptions: WeightsOptions

    @Option(name: .long, help: "How many classes to print per image.")
    var topK: Int = 5

    @Option(name: .long, help: "text (for people), json (one array), jsonl (one object per line) or csv (header, one row per file).")
    var format: BatchOutputFormat = .text

    @Option(name: [.short, .long], help: ArgumentHelp("Write the rows to this file (flushed row by row) instead of stdout.", valueName: "file"))
    var output: String?

    @Flag(name: .long, help: "Keep the rows already in --output and classify only the other inputs.")
    var resume = false

    @Option(name: .long, help: ArgumentHelp("Classify only part K of N (1 <= K <= N), split by a hash of the path.", valueName: "K/N"))
    var shard: String?

    @Flag(name: .long, help: "Stop at the first input that fails (exit code 2).")
    var failFast = false

    @Option(name: .long, help: "Progress bar on stderr: auto (when stderr is a terminal), always or never.")
    var progress: ProgressBar.Mode = .auto

    @Flag(name: [.short, .long], help: "No progress bar and no summary on stderr (errors that stop the run are still printed).")
    var quiet = false

    @Option(name: .long, help: "Worker threads, each decoding and classifying (default: the CPUs this process may use, after affinity and cgroup quota).")
    var threads: Int = AvailableCPUs.count

    @OptionGroup var decoding: DecodingFlags

    @Option(name: .long, help: ArgumentHelp("Also write each input's 224x224 crop (what the network sees) as PNG into this directory.", valueName: "dir"))
    var saveCrops: String?

    @Option(name: .long, help: ArgumentHelp("With int8 weights: recompute an answer with fp32 activations when its top two logits are closer than this (log-odds), which keeps its top-1 equal to fp32's on about 97% of photos instead of 93%; 0 gives every int8 answer as computed. Ignored for fp32 weights.", valueName: "gap"))
    var int8Recheck: Float = Int8Recheck.standard.margin

    func validate() throws {
        guard int8Recheck.isFinite, int8Recheck >= 0 else { throw ValidationError("--int8-recheck must be a number of at least 0") }
        guard (1...1000).contains(topK) else { throw ValidationError("--top-k must be between 1 and 1000") }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be between 1 and 256") }
        if resume {
            guard output != nil else { throw ValidationError("--resume needs --output FILE (the file to resume)") }
            guard format.isResumable else { throw ValidationError("--resume needs --format jsonl or csv") }
        }
        if let shard {
            do { _ = try ShardSelection(parsing: shard) } catch { throw ValidationError("\(error)") }
        }
    }

    func run() throws {
        // Resident memory must follow the decode budget, not what malloc keeps cached per thread.
        DecodeMemoryBudget.returnFreedMemoryPromptly()
        let classifier: ImageClassifier
        let writer: ResultWriter
        let alreadyDone: ResumeLog?
        let shardSelection: ShardSelection?
        let filter: InputFilter
        let encoder = BatchRecordEncoder(format: format, topK: topK)
        do {
            classifier = try ImageClassifier(weightsAt: try weightsOptions.resolve(), decodingOptions: decoding.options,
                                             memoryBudget: decoding.memoryBudget, int8Recheck: Int8Recheck(margin: int8Recheck))
            // The file's bytes were parsed into the weights and freed; don't keep their pages.
            DecodeMemoryBudget.releaseFreedMemory()
            if let saveCrops {
                do {
                    try FileManager.default.createDirectory(atPath: saveCrops, withIntermediateDirectories: true)
                } catch {
                    throw BatchError.outputUnwritable(path: saveCrops, reason: error.localizedDescription)
                }
            }
            shardSelection = try shard.map { text throws(BatchError) in try ShardSelection(parsing: text) }
            filter = try input.filter()
            alreadyDone = resume ? try output.map { path throws(BatchError) in try ResumeLog.read(contentsOf: path, encoder: encoder) } : nil
            writer = try output.map { path throws(BatchError) in try ResultWriter.file(path, encoder: encoder, resume: alreadyDone) }
                ?? ResultWriter.standardOutput(encoder: encoder)
        } catch {
            Diagnostics.error("\(error)")
            throw ExitStatus.nothingRan
        }
        let bar = ProgressBar(mode: progress, quiet: quiet)
        let rowsShareTheTerminal = output == nil && isatty(STDOUT_FILENO) == 1
        if let alreadyDone, alreadyDone.tornByteCount > 0, !quiet {
            bar.note("\(writer.name): cut off a torn last row (\(alreadyDone.tornByteCount) bytes) before resuming")
        }
        let makeInputs = {
            BatchInputs(walker: InputWalker(sources: input.sources, recursive: input.recursive, filter: filter),
                        shard: shardSelection, alreadyDone: alreadyDone?.completedPaths ?? [])
        }
        let inputs = makeInputs()
        bar.countInBackground(makeInputs)
        var settings = BatchClassifier.Settings()
        settings.threads = threads
        settings.topK = topK
        settings.cropDirectory = saveCrops
        settings.warn = { [quiet] line in if !quiet { bar.note("warning: \(line)") } }
        let summary: BatchSummary
        do {
            summary = try BatchClassifier(classifier: classifier, settings: settings).run(next: { inputs.next() }) { record throws(BatchError) in
                if rowsShareTheTerminal { bar.clearForOutput() }
                try writer.write(record)
                bar.advance(failed: record.isFailure)
                if failFast, case .failure(let reason) = record.outcome {
                    bar.note("stopping at the first failure (--fail-fast): \(reason)")
                    return .stop
                }
                return .proceed
            }
            try writer.finish()
        } catch {
            bar.finish()
            Diagnostics.error("\(error)")
            throw ExitStatus.nothingRan
        }
        bar.finish()
        // A single photo needs no batch summary; a batch, any failure or skipped empty lines get one.
        if !quiet, summary.records != 1 || summary.failures > 0 || inputs.emptyLinesSkipped > 0 {
            Diagnostics.note(summaryLine(summary, skipped: inputs.skippedAsDone, emptyLines: inputs.emptyLinesSkipped, output: writer.name,
                                         classifier: classifier))
        }
        if summary.failures > 0 { throw ExitStatus.someInputsFailed }
    }

    /// "1000 files, 2 errors, 4.1 s, 243.9 files/s; ..." with the per-stage times that explain the rate. Rows,
    /// empty stdin lines and rows already in the output add up to the inputs given (per shard).
    private func summaryLine(_ s: BatchSummary, skipped: Int, emptyLines: Int, output: String, classifier: ImageClassifier) -> String {
        let empties = emptyLines > 0 ? ", \(emptyLines) empty line\(emptyLines == 1 ? "" : "s") skipped" : ""
        var parts = ["\(s.records) file\(s.records == 1 ? "" : "s"), \(s.failures) error\(s.failures == 1 ? "" : "s")\(empties), \(String(format: "%.1f", s.seconds)) s, \(String(format: "%.1f", s.filesPerSecond)) files/s"]
        if s.records > s.failures {
            parts.append(String(format: "per file on one thread: read+decode+preprocess %.2f ms, network %.2f ms; %d thread(s)",
                                s.decodeMillisecondsPerFile, s.inferenceMillisecondsPerFile, s.threads))
        }
        if classifier.model.precision == .int8 {
            parts.append(classifier.rechecksNearTies
                ? "int8, \(classifier.recheckedCount) near tie\(classifier.recheckedCount == 1 ? "" : "s") (gap < \(classifier.int8Recheck.margin)) rechecked in fp32"
                : classifier.int8Recheck.isEnabled ? "int8, no recheck (the file has no recheck weights)" : "int8, no recheck")
        }
        if skipped > 0 { parts.append("\(skipped) already in \(output), skipped") }
        if let shard { parts.append("shard \(shard)") }
        if s.records == 0, skipped == 0 { parts.append("no image files found in the inputs") }
        return parts.joined(separator: "; ")
    }
}
