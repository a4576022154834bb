/// The pickle opcodes this reader implements (protocols 0-5, minus the ones that build arbitrary Python
/// objects). Values are the opcode bytes from CPython's Lib/pickle.py.
enum PickleOpcode: UInt8 {
    // Stack and memo plumbing.
    case mark = 0x28            // (
    case stop = 0x2E            // .
    case pop = 0x30             // 0
    case popMark = 0x31         // 1
    case dup = 0x32             // 2
    case proto = 0x80
    case frame = 0x95
    case put = 0x70             // p  (text index)
    case binPut = 0x71          // q
    case longBinPut = 0x72      // r
    case memoize = 0x94
    case get = 0x67             // g  (text index)
    case binGet = 0x68          // h
    case longBinGet = 0x6A      // j
    // Scalars.
    case none = 0x4E            // N
    case newTrue = 0x88
    case newFalse = 0x89
    case int = 0x49             // I  (text)
    case binInt = 0x4A          // J
    case binInt1 = 0x4B         // K
    case binInt2 = 0x4D         // M
    case long = 0x4C            // L  (text)
    case long1 = 0x8A
    case long4 = 0x8B
    case float = 0x46           // F  (text)
    case binFloat = 0x47        // G
    // Strings and bytes.
    case binString = 0x54       // T  (Python 2 str)
    case shortBinString = 0x55  // U
    case binUnicode = 0x58      // X
    case shortBinUnicode = 0x8C
    case binUnicode8 = 0x8D
    case binBytes = 0x42        // B
    case shortBinBytes = 0x43   // C
    case binBytes8 = 0x8E
    case byteArray8 = 0x96
    // Containers.
    case emptyTuple = 0x29      // )
    case tuple = 0x74           // t
    case tuple1 = 0x85
    case tuple2 = 0x86
    case tuple3 = 0x87
    case emptyList = 0x5D       // ]
    case list = 0x6C            // l
    case append = 0x61          // a
    case appends = 0x65         // e
    case emptyDict = 0x7D       // }
    case dict = 0x64            // d
    case setItem = 0x73         // s
    case setItems = 0x75        // u
    case emptySet = 0x8F        // sets carry no tensors; kept as lists
    case addItems = 0x90
    case frozenSet = 0x91
    // Objects: only the torch/collections callables listed in Unpickler+TorchCallables.swift.
    case global = 0x63          // c
    case stackGlobal = 0x93
    case reduce = 0x52          // R
    case newObj = 0x81
    case build = 0x62           // b
    case binPersId = 0x51       // Q
}
