import Foundation
import ShuffleNet

/// Writes classification results to stdout in the chosen format; errors also go to stderr in text mode.
/// jsonl rows are flushed one by one so a consumer sees each result as soon as it exists.
struct ResultWriter {
    let format: OutputFormat
    private var jsonRecords: [String] = []

    init(format: OutputFormat) { self.format = format }

    mutating func write(path: String, predictions: [Prediction]) {
        switch format {
        case .text:
            var text = "\(path)\n"
            for p in predictions {
                text += "  \(String(format: "%7.3f%%", p.probability * 100))  \(p.label) (\(p.index))\n"
            }
            emit(text)
        case .json, .jsonl:
            let items = predictions.map {
                "{\"index\":\($0.index),\"label\":\(JSON.string($0.label)),\"probability\":\(JSON.number($0.probability))}"
            }
            record("{\"path\":\(JSON.string(path)),\"predictions\":[\(items.joined(separator: ","))]}")
        }
    }

    mutating func write(path: String, error: String) {
        switch format {
        case .text: Diagnostics.error(error)
        case .json, .jsonl: record("{\"path\":\(JSON.string(path)),\"error\":\(JSON.string(error))}")
        }
    }

    private mutating func record(_ object: String) {
        if format == .jsonl { emit(object + "\n") } else { jsonRecords.append(object) }
    }

    func finish() {
        if format == .json { emit("[\n" + jsonRecords.joined(separator: ",\n") + "\n]\n") }
    }

    private func emit(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}

enum JSON {
    static func string(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func number(_ value: Double) -> String { value.isFinite ? "\(value)" : "null" }
}
