/// The opcode interpreter. Every length read from the stream is checked against the bytes that remain
/// before anything is allocated, so forged counts fail as `truncated` instead of exhausting memory.
extension Unpickler {
    mutating func execute(_ opcode: PickleOpcode, at offset: Int, reader: inout ByteReader) throws(TorchCheckpointError) {
        switch opcode {
        case .stop:
            break // handled by load(from:to:what:)
        case .mark:
            pushMark()
        case .pop:
            try popValueOrMark(offset)
        case .popMark:
            _ = try popToMark(offset)
        case .dup:
            push(try top(offset))
        case .proto:
            _ = try reader.u8("the PROTO version")
        case .frame:
            // Framing only groups opcodes for buffered reads; the frame must still lie inside the data.
            _ = try reader.length(try reader.u64("a FRAME length"), "a FRAME")
        case .put:
            try memoize(try textIndex(&reader, offset), offset)
        case .binPut:
            try memoize(Int(try reader.u8("a BINPUT index")), offset)
        case .longBinPut:
            try memoize(Int(try reader.u32("a LONG_BINPUT index")), offset)
        case .memoize:
            try memoizeNext(offset)
        case .get:
            try pushMemo(try textIndex(&reader, offset), offset)
        case .binGet:
            try pushMemo(Int(try reader.u8("a BINGET index")), offset)
        case .longBinGet:
            try pushMemo(Int(try reader.u32("a LONG_BINGET index")), offset)

        case .none:
            push(.none)
        case .newTrue:
            push(.bool(true))
        case .newFalse:
            push(.bool(false))
        case .int:
            push(try textInt(&reader, offset))
        case .binInt:
            push(.int(Int64(Int32(bitPattern: try reader.u32("a BININT")))))
        case .binInt1:
            push(.int(Int64(try reader.u8("a BININT1"))))
        case .binInt2:
            push(.int(Int64(try reader.u16("a BININT2"))))
        case .long:
            push(try textLong(&reader, offset))
        case .long1:
            let count = Int(try reader.u8("a LONG1 length"))
            push(Self.integer(littleEndian: try reader.slice(count, "a LONG1 value")))
        case .long4:
            let count = Int32(bitPattern: try reader.u32("a LONG4 length"))
            guard count >= 0 else { throw malformed("negative LONG4 length", offset) }
            push(Self.integer(littleEndian: try reader.slice(Int(count), "a LONG4 value")))
        case .float:
            let text = try utf8(try reader.line("a FLOAT line"), offset)
            guard let value = Double(text) else { throw malformed("FLOAT text '\(text.prefix(40))'", offset) }
            push(.float(value))
        case .binFloat:
            // The only big-endian field in a pickle.
            let raw = try reader.u64("a BINFLOAT")
            push(.float(Double(bitPattern: raw.byteSwapped)))

        case .binString:
            let count = Int32(bitPattern: try reader.u32("a BINSTRING length"))
            guard count >= 0 else { throw malformed("negative BINSTRING length", offset) }
            push(.string(try utf8(try reader.slice(Int(count), "a BINSTRING"), offset)))
        case .shortBinString:
            let count = Int(try reader.u8("a SHORT_BINSTRING length"))
            push(.string(try utf8(try reader.slice(count, "a SHORT_BINSTRING"), offset)))
        case .binUnicode:
            let count = try reader.length(UInt64(try reader.u32("a BINUNICODE length")), "a BINUNICODE")
            push(.string(try utf8(try reader.slice(count, "a BINUNICODE"), offset)))
        case .shortBinUnicode:
            let count = Int(try reader.u8("a SHORT_BINUNICODE length"))
            push(.string(try utf8(try reader.slice(count, "a SHORT_BINUNICODE"), offset)))
        case .binUnicode8:
            let count = try reader.length(try reader.u64("a BINUNICODE8 length"), "a BINUNICODE8")
            push(.string(try utf8(try reader.slice(count, "a BINUNICODE8"), offset)))
        case .binBytes:
            let count = try reader.length(UInt64(try reader.u32("a BINBYTES length")), "a BINBYTES")
            push(.bytes(Array(try reader.slice(count, "a BINBYTES"))))
        case .shortBinBytes:
            let count = Int(try reader.u8("a SHORT_BINBYTES length"))
            push(.bytes(Array(try reader.slice(count, "a SHORT_BINBYTES"))))
        case .binBytes8, .byteArray8:
            let count = try reader.length(try reader.u64("a BINBYTES8 length"), "a BINBYTES8")
            push(.bytes(Array(try reader.slice(count, "a BINBYTES8"))))

        case .emptyTuple:
            push(heap.makeTuple([]))
        case .tuple, .frozenSet:
            push(heap.makeTuple(try popToMark(offset)))
        case .tuple1:
            let first = try pop(offset)
            push(heap.makeTuple([first]))
        case .tuple2:
            let second = try pop(offset), first = try pop(offset)
            push(heap.makeTuple([first, second]))
        case .tuple3:
            let third = try pop(offset), second = try pop(offset), first = try pop(offset)
            push(heap.makeTuple([first, second, third]))
        case .emptyList, .emptySet:
            push(heap.makeList([]))
        case .list:
            push(heap.makeList(try popToMark(offset)))
        case .append:
            let item = try pop(offset)
            try appendToList([item], offset)
        case .appends, .addItems:
            let items = try popToMark(offset)
            try appendToList(items, offset)
        case .emptyDict:
            push(heap.makeDict())
        case .dict:
            let items = try popToMark(offset)
            let dict = heap.makeDict()
            push(dict)
            try setItems(items, offset)
        case .setItem:
            let value = try pop(offset), key = try pop(offset)
            try setItems([key, value], offset)
        case .setItems:
            try setItems(try popToMark(offset), offset)

        case .global:
            let module = try utf8(try reader.line("a GLOBAL module name"), offset)
            let name = try utf8(try reader.line("a GLOBAL attribute name"), offset)
            push(.global(module: module, name: name))
        case .stackGlobal:
            let name = try pop(offset), module = try pop(offset)
            guard case .string(let nameText) = name, case .string(let moduleText) = module else {
                throw malformed("STACK_GLOBAL needs two strings, got \(module.typeName) and \(name.typeName)", offset)
            }
            push(.global(module: moduleText, name: nameText))
        case .reduce, .newObj:
            let arguments = try pop(offset), callable = try pop(offset)
            push(try call(callable, arguments, at: offset))
        case .build:
            let state = try pop(offset)
            try build(state: state, offset)
        case .binPersId:
            let persistentID = try pop(offset)
            push(try loadPersistent(persistentID, at: offset))
        }
    }

    // MARK: - Container mutation

    private mutating func appendToList(_ items: [PickleValue], _ offset: Int) throws(TorchCheckpointError) {
        guard case .list(let index) = try top(offset) else {
            throw malformed("APPEND(S) onto a \((try? top(offset))?.typeName ?? "nothing"), not a list", offset)
        }
        heap.lists[index].append(contentsOf: items)
    }

    private mutating func setItems(_ items: [PickleValue], _ offset: Int) throws(TorchCheckpointError) {
        guard items.count % 2 == 0 else { throw malformed("SETITEMS with an odd number of items", offset) }
        guard case .dict(let index) = try top(offset) else {
            throw malformed("SETITEM(S) onto a \((try? top(offset))?.typeName ?? "nothing"), not a dict", offset)
        }
        var position = 0
        while position < items.count {
            heap.dicts[index].set(items[position], items[position + 1])
            position += 2
        }
    }

    /// BUILD sets instance state. A checkpoint uses it for an OrderedDict's `_metadata` attribute and for
    /// tensor/parameter attributes, none of which carry weights, so the state is dropped.
    private mutating func build(state: PickleValue, _ offset: Int) throws(TorchCheckpointError) {
        switch try top(offset) {
        case .dict, .tensor:
            return
        case let other:
            throw malformed("BUILD on a \(other.typeName)", offset)
        }
    }

    // MARK: - Scalar decoding

    /// LONG1/LONG4 payload: little-endian two's complement of any width.
    static func integer(littleEndian digits: ArraySlice<UInt8>) -> PickleValue {
        guard digits.count <= 8 else { return .bigInt(Array(digits)) }
        guard let last = digits.last else { return .int(0) }
        var value: UInt64 = last & 0x80 != 0 ? ~0 : 0 // sign extension
        for (shift, byte) in digits.enumerated() {
            value &= ~(UInt64(0xFF) << (8 * UInt64(shift)))
            value |= UInt64(byte) << (8 * UInt64(shift))
        }
        return .int(Int64(bitPattern: value))
    }

    func utf8(_ raw: ArraySlice<UInt8>, _ offset: Int) throws(TorchCheckpointError) -> String {
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw malformed("text that is not valid UTF-8", offset)
        }
        return text
    }

    /// INT text: a decimal, or protocol 0's "01"/"00" spelling of True/False.
    private func textInt(_ reader: inout ByteReader, _ offset: Int) throws(TorchCheckpointError) -> PickleValue {
        let text = try utf8(try reader.line("an INT line"), offset)
        if text == "01" { return .bool(true) }
        if text == "00" { return .bool(false) }
        guard let value = Int64(text) else { throw malformed("INT text '\(text.prefix(40))'", offset) }
        return .int(value)
    }

    private func textLong(_ reader: inout ByteReader, _ offset: Int) throws(TorchCheckpointError) -> PickleValue {
        var text = try utf8(try reader.line("a LONG line"), offset)
        if text.hasSuffix("L") { text.removeLast() }
        guard let value = Int64(text) else { throw malformed("LONG text '\(text.prefix(40))'", offset) }
        return .int(value)
    }

    private func textIndex(_ reader: inout ByteReader, _ offset: Int) throws(TorchCheckpointError) -> Int {
        let text = try utf8(try reader.line("a memo index"), offset)
        guard let index = Int(text), index >= 0 else { throw malformed("memo index '\(text.prefix(40))'", offset) }
        return index
    }
}
