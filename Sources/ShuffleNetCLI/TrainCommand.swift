import ArgumentParser
import Foundation
import ShuffleNet
import ShuffleNetBatch

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a classifier for your own classes from DIR/<label>/ photo folders; write it with the backbone as one weights file.",
        discussion: """
            DIR holds one subfolder per class (the folder name is the label), photos at any depth below it. \
            Photos are decoded and preprocessed exactly as classify does. The new classifier is a softmax \
            regression on the network's pooled features (the input of its last layer); by default it is fitted \
            with an L1 penalty on the backbone's 1000 ImageNet scores of those features (--basis backbone-logits: \
            it picks the few ImageNet classes that tell yours apart; on ants/bees 95.9% held out against 90% for \
            --penalty l2 --basis pooled), and saved as one layer on the pooled features. The penalty's strength C \
            is chosen by cross-validation on the training part. A stratified, seeded part of each class (--validation) or \
            --validation-dir is held out and scored: per-class accuracy and a confusion matrix (stdout, text or \
            json). Unreadable photos are listed and left out; a photo whose content is in two classes is reported \
            and left out. Use the result with classify --weights MODEL.safetensors.

            Exit codes: 0 trained; 1 nothing could run (weights, folders, too few photos, unwritable output); \
            2 trained, but some photos could not be read; 64 bad usage.
            """
    )

    @Argument(help: ArgumentHelp("Folder with one subfolder of photos per class.", valueName: "dir"))
    var directory: String

    @Option(name: [.short, .long], help: ArgumentHelp("The weights file to write (backbone + new classifier + labels).", valueName: "model.safetensors"))
    var output: String

    @OptionGroup var weightsOptions: WeightsOptions

    @Option(name: .long, help: ArgumentHelp("Fraction of each class held out for validation (0 to train on everything).", valueName: "fraction"))
    var validation: Double = 0.2

    @Option(name: .long, help: ArgumentHelp("Validate on this DIR/<label>/ folder instead of holding out part of the training photos.", valueName: "dir"))
    var validationDir: String?

    @Flag(name: .long, inversion: .prefixedNo, help: "Add mirrored and shifted-crop features of each training photo.")
    var augment = true

    @Option(name: .long, help: ArgumentHelp("Shifted crops per training photo with --augment: 0, 2 or 4.", valueName: "n"))
    var shifts: Int = FeatureViews.augmented.shifts

    @Flag(name: .long, inversion: .prefixedNo, help: "Standardise each feature (training mean and deviation; folded into the saved classifier).")
    var standardize = false

    @Option(name: .long, help: "l1 (lasso: few weights not zero) or l2 (ridge).")
    var penalty: SoftmaxRegression.Penalty = .l1

    @Option(name: .long, help: "What the regression is fitted on: backbone-logits (the backbone's class scores, a linear map of the pooled features) or pooled (the pooled features themselves). Either is saved as one layer on the pooled features.")
    var basis: HeadTrainer.FeatureBasis = .backboneLogits

    @Option(name: .long, help: ArgumentHelp("Comma-separated values of C (inverse penalty strength) tried by cross-validation.", valueName: "list"))
    var cGrid: String = HeadTrainer.Options().cGrid.map { String(format: "%g", $0) }.joined(separator: ",")

    @Flag(name: .long, inversion: .prefixedNo, help: "After validation, fit the saved head again on all photos with the chosen C.")
    var refit = true

    @Option(name: .long, help: "Cross-validation folds.")
    var folds: Int = 5

    @Option(name: .long, help: "Seed of the validation split and the folds.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "text or json (the report on stdout).")
    var format: ReportFormat = .text

    enum ReportFormat: String, ExpressibleByArgument { case text, json }

    @Option(name: .long, help: "Progress bar on stderr: auto (when stderr is a terminal), always or never.")
    var progress: ProgressBar.Mode = .auto

    @Flag(name: [.short, .long], help: "No progress bar and no notes on stderr.")
    var quiet = false

    @Option(name: .long, help: "Threads for the feature extraction (default: the CPUs this process may use).")
    var threads: Int = AvailableCPUs.count

    @OptionGroup var decoding: DecodingFlags

    func validate() throws {
        guard validation >= 0, validation < 1 else { throw ValidationError("--validation must be at least 0 and below 1") }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be between 1 and 256") }
        guard [0, 2, 4].contains(shifts) else { throw ValidationError("--shifts must be 0, 2 or 4") }
        guard folds >= 2 else { throw ValidationError("--folds must be at least 2") }
        guard let grid = parsedGrid, !grid.isEmpty, grid.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw ValidationError("--c-grid must be positive numbers separated by commas")
        }
    }

    var parsedGrid: [Double]? {
        let values = cGrid.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        return values.contains(where: { $0 == nil }) ? nil : values.map { $0! }
    }

    func run() throws {
        let backbone: ImageClassifier
        let training: LabelledPhotos
        let validationPhotos: LabelledPhotos?
        let weightsPath: String
        do {
            training = try LabelledPhotos.scan(directory: directory)
            validationPhotos = try validationDir.map { dir throws(TrainingError) in try LabelledPhotos.scan(directory: dir, requireTwoClasses: false) }
            weightsPath = try weightsOptions.resolve()
            backbone = try ImageClassifier(weightsAt: weightsPath, decodingOptions: decoding.options, memoryBudget: decoding.memoryBudget)
        } catch {
            Diagnostics.error("\(error)")
            throw ExitStatus.nothingRan
        }
        var options = HeadTrainer.Options()
        options.validationFraction = validationDir == nil ? validation : 0
        options.views = augment ? FeatureViews(flip: true, shifts: shifts) : .centre
        options.standardize = standardize
        options.basis = basis
        options.penalty = penalty
        options.refitOnAllPhotos = refit
        options.cGrid = parsedGrid ?? options.cGrid
        options.folds = folds
        options.seed = seed
        options.threads = threads
        let bar = ProgressBar(mode: progress, quiet: quiet)
        bar.setTotal(training.photos.count + (validationPhotos?.photos.count ?? 0))
        if !quiet {
            for file in training.otherFiles + (validationPhotos?.otherFiles ?? []) {
                bar.note("not named like an image (.jpg, .jpeg, .png), not used: \(file)")
            }
            bar.note("\(training.labels.count) classes (\(training.labels.joined(separator: ", "))), \(training.photos.count) photos in \(directory)")
        }
        let result: HeadTrainer.Result
        do {
            result = try HeadTrainer(backbone: backbone, options: options).train(
                training, validation: validationPhotos, backboneName: weightsPath,
                progress: { failed in bar.advance(failed: failed) },
                warn: { [quiet] line in if !quiet { bar.note("warning: \(line)") } })
        } catch {
            bar.finish()
            Diagnostics.error("\(error)")
            throw ExitStatus.nothingRan
        }
        bar.finish()
        let report = result.report
        if !quiet {
            for line in report.unreadable { Diagnostics.note("unreadable, left out: \(line)") }
            for duplicate in report.duplicates {
                let classes = Set(duplicate.labels).sorted()
                let place = classes.count > 1 ? "in classes \(classes.joined(separator: " and "))" : "in the training and the validation photos (class \(classes[0]))"
                Diagnostics.note("same photo (sha256 \(duplicate.sha256.prefix(12))) \(place): \(duplicate.paths.joined(separator: ", ")); left out: \(duplicate.leftOut.joined(separator: ", "))")
            }
        }
        do {
            try result.weights.safeTensors().write(to: output)
        } catch {
            Diagnostics.error("\(error)")
            throw ExitStatus.nothingRan
        }
        print(format == .json ? report.json() : report.text, terminator: format == .json ? "\n" : "")
        if !quiet {
            Diagnostics.note(String(format: "wrote %@ (%d classes); features %.1f s, fitting %.2f s", output, report.labels.count,
                                    report.extractionSeconds, report.fittingSeconds))
        }
        if !report.unreadable.isEmpty { throw ExitStatus.someInputsFailed }
    }
}

extension HeadTrainer.FeatureBasis: ExpressibleByArgument {}
extension SoftmaxRegression.Penalty: ExpressibleByArgument {}
