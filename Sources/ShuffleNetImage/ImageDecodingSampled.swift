/// A file decoded at the pixels preprocessing reads, with what the decoder noticed on the way.
public struct DecodedSample: Sendable {
    /// Upright when `DecodingOptions.applyExifOrientation` (the default) is on.
    public let image: SampledImage
    /// The format the file's first bytes showed.
    public let format: ImageFormat
    /// The orientation found in the file (nil without one), whether or not it was applied.
    public let exifOrientation: ImageOrientation?
    /// Whether `image` has been turned according to `exifOrientation`.
    public let orientationApplied: Bool
    /// True when `allowTruncated` let damaged data through: some pixels are made up.
    public let recoveredFromDamage: Bool
    /// One line each, for people: damage accepted under `allowTruncated`, or an oddity the library reported.
    public let warnings: [String]
}

extension ImageDecoder {
    /// What the decoder library may allocate while reading a header, before the image's needs are known.
    static let headerMemoryBytes = 4 << 20
    /// Small buffers around a decode (the read chunk, row tables, result structures), reserved with it.
    static let decodeSlackBytes = 1 << 20

    /// Decodes the file at `path` at just the pixels `select` asks for (given the upright picture's width
    /// and height), holding a reservation of `budget` for all the memory involved, and calls `body` with the
    /// result before the reservation is returned.
    ///
    /// The file is decoded row by row and only the selected pixels are kept, so a photo costs its file's
    /// bytes, the decoder's buffers (one row; the coefficient buffers of a progressive JPEG) and the sample,
    /// never a whole decoded image unless `select` asks for every pixel. Memory is reserved from `budget`
    /// before it is allocated: first the file's size (plus what reading a header may take), then, once the
    /// header has told the rest, the total; a thread that cannot get it waits. An image whose needs exceed
    /// the whole budget is an error naming both numbers. The decoder library is held to what was reserved
    /// for it (libjpeg's memory limit, a counting allocator for libpng).
    public static func withSampledDecode<Result>(
        contentsOf path: String, options: DecodingOptions = .default, budget: DecodeMemoryBudget,
        selecting select: (_ width: Int, _ height: Int) -> PixelSelection,
        body: (DecodedSample) -> Result
    ) throws(ImageDecodingError) -> Result {
        guard options.maxPixels > 0, options.maxDecoderMemoryBytes > 0 else {
            throw ImageDecodingError(path: path, kind: .tooLarge,
                                     message: "decoding limits must be positive (maxPixels \(options.maxPixels), maxDecoderMemoryBytes \(options.maxDecoderMemoryBytes))")
        }
        var held = 0
        defer { budget.release(held) }
        // A second round only when another thread held the memory this image needed: the attempt returns
        // (dropping the file's bytes) and the wait happens holding nothing, then the file is read again. A
        // third only if the file changed in between.
        for _ in 0..<3 {
            switch try sampledDecodeAttempt(path: path, options: options, budget: budget, held: &held,
                                            select: select, body: body) {
            case .done(let result):
                return result
            case .mustWaitFor(let bytes):
                budget.release(held)
                held = 0
                // Cannot fail: the attempt checked `bytes` against the capacity. Were it to, the next attempt
                // would start from nothing reserved, as the first did.
                guard budget.acquire(bytes) else { continue }
                held = bytes
            }
        }
        throw ImageDecodingError(path: path, kind: .unreadable, message: "the file kept changing while being read")
    }

    private enum SampledDecodeAttempt<Result> {
        case done(Result)
        /// The image needs this many bytes in all and they were not free: wait for them holding nothing.
        case mustWaitFor(Int)
    }

    /// One read-and-decode of the file, with `held` bytes of `budget` already reserved (grown here when that
    /// needs no waiting). Everything it allocates is gone when it returns.
    private static func sampledDecodeAttempt<Result>(
        path: String, options: DecodingOptions, budget: DecodeMemoryBudget, held: inout Int,
        select: (_ width: Int, _ height: Int) -> PixelSelection, body: (DecodedSample) -> Result
    ) throws(ImageDecodingError) -> SampledDecodeAttempt<Result> {
        var reserved = held
        defer { held = reserved }
        let data = try ImageDecodingFileReader.readAll(path) { size throws(ImageDecodingError) in
            let needed = size + headerMemoryBytes
            if reserved < needed {
                budget.release(reserved)
                reserved = 0
                guard budget.acquire(needed) else {
                    throw overBudget(path: path, needed: needed, budget: budget, what: "its \(size)-byte file")
                }
                reserved = needed
            }
            return reserved - headerMemoryBytes
        }
        guard !data.isEmpty else {
            throw ImageDecodingError(path: path, kind: .empty, message: "empty file (0 bytes)")
        }
        guard let format = detectFormat(data) else {
            throw ImageDecodingError(path: path, kind: .unsupportedFormat,
                                     message: ImageFormatUnrecognized.message(for: data))
        }
        let codecOptions = ImageCodecsDecoding.codecOptions(options)
        let header = try ImageCodecsDecoding.header(data, format: format, options: codecOptions,
                                                    memoryLimit: headerMemoryBytes, path: path)
        guard header.decoderMemory <= options.maxDecoderMemoryBytes else {
            throw ImageDecodingError(path: path, kind: .tooLarge,
                                     message: "\(format.displayName) image of \(header.width) x \(header.height) pixels needs \(mebibytes(header.decoderMemory)) of decoder memory, over the limit of \(mebibytes(options.maxDecoderMemoryBytes))")
        }
        let orientation = ExifOrientationTag.orientation(of: data, format: format)
        let applied = options.applyExifOrientation && orientation != nil && orientation != .upright
        let turn = applied ? orientation ?? .upright : .upright
        let (width, height) = turn.swapsDimensions ? (header.height, header.width) : (header.width, header.height)
        let selection = select(width, height)
        guard !selection.rows.isEmpty, !selection.columns.isEmpty else {
            throw ImageDecodingError(path: path, kind: .unsupportedFormat, message: "nothing of the image was asked for")
        }
        let sampleBytes = selection.rows.count * selection.columns.count * 3
        let needed = data.count + header.decoderMemory + sampleBytes * (applied ? 2 : 1)
            + header.width + header.height + decodeSlackBytes
        if needed > reserved {
            guard needed <= budget.capacity else {
                throw overBudget(path: path, needed: needed, budget: budget,
                                 what: "its \(header.width) x \(header.height) \(format.displayName) image")
            }
            guard budget.tryAcquire(needed - reserved) else { return .mustWaitFor(needed) }
            reserved = needed
        }
        let masks = turn.storedMasks(of: selection, storedWidth: header.width, storedHeight: header.height)
        let stored = try ImageCodecsDecoding.decodeSampled(
            data, format: format, options: codecOptions, rowMask: masks.rows, columnMask: masks.columns,
            keptRows: turn.swapsDimensions ? selection.columns.count : selection.rows.count,
            keptColumns: turn.swapsDimensions ? selection.rows.count : selection.columns.count,
            memoryLimit: header.decoderMemory, path: path)
        let upright = applied
            ? stored.image.pixels.withUnsafeBufferPointer { buffer in
                ImageOrientationTransform.apply(turn, to: buffer, width: stored.image.width, height: stored.image.height)
            }
            : stored.image
        let sample = SampledImage(width: width, height: height, selection: selection, pixels: upright)
        return .done(body(DecodedSample(image: sample, format: format, exifOrientation: orientation,
                                        orientationApplied: applied, recoveredFromDamage: stored.recovered,
                                        warnings: stored.warning.map { [$0] } ?? [])))
    }

    private static func overBudget(path: String, needed: Int, budget: DecodeMemoryBudget, what: String) -> ImageDecodingError {
        ImageDecodingError(path: path, kind: .tooLarge,
                           message: "decoding \(what) needs \(mebibytes(needed)) of memory, more than the whole decode memory budget of \(mebibytes(budget.capacity)) (raise it with --memory-limit)")
    }

    private static func mebibytes(_ bytes: Int) -> String {
        let value = Double(bytes) / Double(1 << 20)
        return value >= 10 ? "\(Int(value.rounded(.up))) MiB" : "\(Double(Int((value * 10).rounded(.up))) / 10) MiB"
    }
}
