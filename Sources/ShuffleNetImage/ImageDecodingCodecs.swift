import CImageCodecs

/// Calls into the C module and translates its plain structs for the Swift API: options in, pixels,
/// status and NUL-terminated messages out.
enum ImageCodecsDecoding {
    static func codecOptions(_ options: DecodingOptions) -> ImageCodecsOptions {
        var codec = ImageCodecsOptions()
        image_codecs_default_options(&codec)
        // Both are positive (checked by the caller); the side limit caps the product anyway.
        codec.max_pixels = UInt(options.maxPixels)
        codec.max_decoder_memory = UInt(options.maxDecoderMemoryBytes)
        codec.allow_truncated = options.allowTruncated ? 1 : 0
        return codec
    }

    /// What one call to the C decoder produced.
    struct Output {
        let image: RGBImage
        let recovered: Bool
        let warning: String?
    }

    /// Runs the C decoder for `format`.
    static func run(_ data: [UInt8], format: ImageFormat, options: ImageCodecsOptions,
                    into result: inout ImageCodecsResult) {
        var options = options
        data.withUnsafeBufferPointer { buffer in
            switch format {
            case .jpeg: image_codecs_decode_jpeg(buffer.baseAddress, buffer.count, &options, &result)
            case .png: image_codecs_decode_png(buffer.baseAddress, buffer.count, &options, &result)
            }
        }
    }

    static func failure(_ result: ImageCodecsResult, format: ImageFormat, path: String?) -> ImageDecodingError {
        ImageDecodingError(path: path, kind: errorKind(for: result.status), message: message(of: result, format: format))
    }

    /// Reads the header for the size (limits checked there), then decodes into a Swift array of
    /// exactly that size: no second image-sized buffer.
    static func decodeInPlace(_ data: [UInt8], format: ImageFormat, options: ImageCodecsOptions,
                              path: String?) throws(ImageDecodingError) -> Output {
        var header = ImageCodecsResult()
        var headerOptions = options
        headerOptions.header_only = 1
        run(data, format: format, options: headerOptions, into: &header)
        defer { image_codecs_result_free(&header) }
        guard header.status == IMAGE_CODECS_OK, header.width > 0, header.height > 0 else {
            throw failure(header, format: format, path: path)
        }
        let width = Int(header.width)
        let height = Int(header.height)
        var result = ImageCodecsResult()
        defer { image_codecs_result_free(&result) }
        let pixels = [UInt8](unsafeUninitializedCapacity: width * height * 3) { buffer, initialized in
            var direct = options
            direct.output = buffer.baseAddress
            direct.output_capacity = buffer.count
            run(data, format: format, options: direct, into: &result)
            // The size is checked again: a header read twice must give the same answer.
            let complete = result.status == IMAGE_CODECS_OK && Int(result.width) == width && Int(result.height) == height
            initialized = complete ? buffer.count : 0
        }
        guard result.status == IMAGE_CODECS_OK, pixels.count == width * height * 3 else {
            throw failure(result, format: format, path: path)
        }
        return Output(image: RGBImage(checkedWidth: width, height: height, pixels: pixels),
                      recovered: result.recovered != 0, warning: warning(of: result))
    }

    /// What the header says: the stored size, and the most the decoder library will allocate for the pixels.
    struct Header {
        let width: Int
        let height: Int
        let decoderMemory: Int
    }

    /// Reads only the header (limits checked there), with the decoder library held to `memoryLimit` bytes.
    static func header(_ data: [UInt8], format: ImageFormat, options: ImageCodecsOptions, memoryLimit: Int,
                       path: String?) throws(ImageDecodingError) -> Header {
        var header = ImageCodecsResult()
        var headerOptions = options
        headerOptions.header_only = 1
        headerOptions.max_decoder_memory = UInt(memoryLimit)
        run(data, format: format, options: headerOptions, into: &header)
        defer { image_codecs_result_free(&header) }
        guard header.status == IMAGE_CODECS_OK, header.width > 0, header.height > 0 else {
            throw failure(header, format: format, path: path)
        }
        return Header(width: Int(header.width), height: Int(header.height),
                      decoderMemory: Int(clamping: header.decoder_memory))
    }

    /// Decodes only the stored rows and columns whose mask bytes are 1, packed into a small picture, with
    /// the decoder library held to `memoryLimit` bytes.
    static func decodeSampled(_ data: [UInt8], format: ImageFormat, options: ImageCodecsOptions,
                              rowMask: [UInt8], columnMask: [UInt8], keptRows: Int, keptColumns: Int,
                              memoryLimit: Int, path: String?) throws(ImageDecodingError) -> Output {
        var result = ImageCodecsResult()
        defer { image_codecs_result_free(&result) }
        let count = keptRows * keptColumns * 3
        let pixels = rowMask.withUnsafeBufferPointer { rows in
            columnMask.withUnsafeBufferPointer { columns in
                [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
                    var sampled = options
                    sampled.max_decoder_memory = UInt(memoryLimit)
                    sampled.output = buffer.baseAddress
                    sampled.output_capacity = buffer.count
                    sampled.keep_rows = rows.baseAddress
                    sampled.keep_rows_count = rows.count
                    sampled.keep_columns = columns.baseAddress
                    sampled.keep_columns_count = columns.count
                    run(data, format: format, options: sampled, into: &result)
                    // The size is checked again: a header read twice must give the same answer.
                    let complete = result.status == IMAGE_CODECS_OK && Int(result.width) == columns.count
                        && Int(result.height) == rows.count
                    initialized = complete ? count : 0
                }
            }
        }
        guard result.status == IMAGE_CODECS_OK, pixels.count == count else {
            throw failure(result, format: format, path: path)
        }
        return Output(image: RGBImage(checkedWidth: keptColumns, height: keptRows, pixels: pixels),
                      recovered: result.recovered != 0, warning: warning(of: result))
    }

    /// Decodes into the C module's buffer and copies out turned by `orientation`.
    static func decodeAndTurn(_ data: [UInt8], format: ImageFormat, options: ImageCodecsOptions, path: String?,
                              orientation: ImageOrientation) throws(ImageDecodingError) -> Output {
        var result = ImageCodecsResult()
        defer { image_codecs_result_free(&result) }
        run(data, format: format, options: options, into: &result)
        guard result.status == IMAGE_CODECS_OK, let pixels = result.pixels else {
            throw failure(result, format: format, path: path)
        }
        let width = Int(result.width)
        let height = Int(result.height)
        let source = UnsafeBufferPointer(start: pixels, count: width * height * 3)
        return Output(image: ImageOrientationTransform.apply(orientation, to: source, width: width, height: height),
                      recovered: result.recovered != 0, warning: warning(of: result))
    }

    static func errorKind(for status: ImageCodecsStatus) -> ImageDecodingError.Kind {
        switch status {
        case IMAGE_CODECS_INVALID_ARGUMENT: .empty
        case IMAGE_CODECS_UNSUPPORTED: .unsupportedFormat
        case IMAGE_CODECS_TOO_LARGE, IMAGE_CODECS_OUT_OF_MEMORY: .tooLarge
        default: .corrupt  // IMAGE_CODECS_CORRUPT, IMAGE_CODECS_TRUNCATED
        }
    }

    /// The C side's message, with a fallback should it ever be empty.
    static func message(of result: ImageCodecsResult, format: ImageFormat) -> String {
        let text = string(from: result.message)
        return text.isEmpty ? "could not decode \(format.displayName) data (status \(result.status.rawValue))" : text
    }

    /// The warning noted during a successful decode, if any.
    static func warning(of result: ImageCodecsResult) -> String? {
        let text = string(from: result.warning)
        return text.isEmpty ? nil : text
    }

    /// A fixed C char array up to its first NUL (or whole, should the C side ever forget the NUL).
    private static func string<Buffer>(from buffer: Buffer) -> String {
        withUnsafeBytes(of: buffer) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
