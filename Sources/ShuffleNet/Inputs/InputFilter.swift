/// Which directory entries count as images: by extension, case-insensitively (`photo.JPG` is in).
/// The name only decides what is *tried*; whether a file is JPEG or PNG is decided by its content, so a PNG
/// named `.jpg` is classified normally and a text file named `.png` becomes an error row.
package struct InputFilter: Sendable, Equatable {
    package static let defaultExtensions = ["jpg", "jpeg", "png"]

    /// Lower-case, without the dot.
    package let extensions: Set<String>

    /// The default image extensions (`defaultExtensions`).
    package static let images = InputFilter(valid: Set(defaultExtensions))

    private init(valid extensions: Set<String>) {
        self.extensions = extensions
    }

    /// `extensions` may be written with or without a leading dot, in any case.
    package init(extensions: [String] = InputFilter.defaultExtensions) throws(BatchError) {
        var set: Set<String> = []
        for raw in extensions {
            let trimmed = raw.hasPrefix(".") ? String(raw.dropFirst()) : raw
            guard !trimmed.isEmpty, !trimmed.contains("/"), !trimmed.contains("\0") else {
                throw .invalidExtension(raw)
            }
            set.insert(trimmed.lowercased())
        }
        self.extensions = set
    }

    /// True when the last path component has one of the extensions (`.jpg` alone, a hidden file with no
    /// stem, does not count: it has no extension in the usual sense).
    package func isImageNamed(_ path: String) -> Bool {
        let name = path.split(separator: "/", omittingEmptySubsequences: true).last ?? ""
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return false }
        return extensions.contains(name[name.index(after: dot)...].lowercased())
    }
}
