import Foundation

/// Turns records into the bytes of each output format. A file is `header`, then `encode(record, first:)`
/// for each record in order, then `footer`; each piece is written (and flushed) as soon as it exists.
package struct BatchRecordEncoder: Sendable {
    package let format: BatchOutputFormat
    /// Classes per row; fixes the CSV columns.
    package let topK: Int

    package init(format: BatchOutputFormat, topK: Int) {
        self.format = format
        self.topK = topK
    }

    /// CSV column names: `path,top1_index,top1_label,top1_probability,error,top2_index,...`.
    package var csvColumns: [String] {
        var columns = ["path", "top1_index", "top1_label", "top1_probability", "error"]
        for rank in stride(from: 2, through: topK, by: 1) {
            columns += ["top\(rank)_index", "top\(rank)_label", "top\(rank)_probability"]
        }
        return columns
    }

    /// Written once before the first record.
    package var header: String {
        switch format {
        case .csv: csvColumns.joined(separator: ",") + "\n"
        case .json: "["
        case .text, .jsonl: ""
        }
    }

    /// Written once after the last record (the JSON array's end).
    package func footer(wroteRecords: Bool) -> String {
        format == .json ? (wroteRecords ? "\n]\n" : "]\n") : ""
    }

    package func encode(_ record: BatchRecord, first: Bool) -> String {
        switch format {
        case .text: text(record)
        case .jsonl: jsonObject(record) + "\n"
        case .json: (first ? "\n" : ",\n") + jsonObject(record)
        case .csv: csvRow(record)
        }
    }

    private func text(_ record: BatchRecord) -> String {
        var text = "\(record.path)\n"
        switch record.outcome {
        case .predictions(let predictions):
            for p in predictions {
                text += "  \(String(format: "%7.3f%%", p.probability * 100))  \(p.label) (\(p.index))\n"
            }
        case .features(let vector):
            text += "  embedding: \(vector.map { "\($0)" }.joined(separator: " "))\n"
        case .failure(let reason):
            text += "  error: \(reason)\n"
        }
        return text
    }

    private func jsonObject(_ record: BatchRecord) -> String {
        switch record.outcome {
        case .predictions(let predictions):
            let items = predictions.map {
                "{\"index\":\($0.index),\"label\":\(BatchTextEscaping.json($0.label)),\"probability\":\(BatchTextEscaping.number($0.probability))}"
            }
            return "{\"path\":\(BatchTextEscaping.json(record.path)),\"predictions\":[\(items.joined(separator: ","))]}"
        case .features(let vector):
            // Swift's shortest round-trip form of each float (pooled features are finite).
            return "{\"path\":\(BatchTextEscaping.json(record.path)),\"embedding\":[\(vector.map { "\($0)" }.joined(separator: ","))]}"
        case .failure(let reason):
            return "{\"path\":\(BatchTextEscaping.json(record.path)),\"error\":\(BatchTextEscaping.json(reason))}"
        }
    }

    private func csvRow(_ record: BatchRecord) -> String {
        var fields = [String](repeating: "", count: csvColumns.count)
        fields[0] = record.path
        switch record.outcome {
        case .predictions(let predictions):
            for (rank, p) in predictions.prefix(topK).enumerated() {
                // Rank 1 sits before the error column, the others after it.
                let base = rank == 0 ? 1 : 5 + 3 * (rank - 1)
                fields[base] = "\(p.index)"
                fields[base + 1] = p.label
                fields[base + 2] = BatchTextEscaping.number(p.probability)
            }
        case .features:
            fields[4] = "embeddings have no CSV form"
        case .failure(let reason):
            fields[4] = reason
        }
        return fields.map(BatchTextEscaping.csv).joined(separator: ",") + "\n"
    }
}
