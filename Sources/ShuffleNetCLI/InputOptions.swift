import ArgumentParser
import ShuffleNet
import ShuffleNetBatch

/// Where `classify` finds its images: files, directories, or a list of paths on stdin.
struct InputOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("Image files and directories; - reads more of them from stdin, one per line (each treated like an argument).", valueName: "input"))
    var inputs: [String] = []

    @Flag(name: [.short, .long], help: "Also classify the images in subdirectories of directory inputs.")
    var recursive = false

    @Flag(name: [.customShort("0"), .customLong("null")], help: "Paths on stdin end in NUL instead of newline (find -print0).")
    var nullSeparated = false

    @Option(name: .long, help: ArgumentHelp("Extensions (any case) that make a file found in a directory an image to try (files named as inputs or on stdin are always tried); its content decides JPEG or PNG.", valueName: "list"))
    var extensions: String = InputFilter.defaultExtensions.joined(separator: ",")

    func validate() throws {
        guard !inputs.isEmpty else { throw ValidationError("give at least one image, directory, or - for paths on stdin") }
        guard inputs.filter({ $0 == "-" }).count <= 1 else { throw ValidationError("- (stdin) may be given once") }
        if nullSeparated, !inputs.contains("-") { throw ValidationError("-0/--null applies to paths on stdin: add -") }
        do { _ = try filter() } catch { throw ValidationError("\(error)") }
    }

    func filter() throws(BatchError) -> InputFilter {
        try InputFilter(extensions: extensions.split(separator: ",", omittingEmptySubsequences: false).map(String.init))
    }

    var sources: [InputSource] {
        inputs.map { $0 == "-" ? .standardInput(separator: nullSeparated ? 0 : UInt8(ascii: "\n")) : .path($0) }
    }
}
