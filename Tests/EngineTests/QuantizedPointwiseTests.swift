import Testing
import ShuffleNetEngine

/// The int8 pointwise kernels (`sn_qu8_pointwise`, every configuration compiled in; one the CPU lacks is a
/// cancelled test case that says so) against their naive twin, `ReferenceKernels.quantizedPointwise`, which is in
/// turn checked against the executable spec (`QuantizedReferenceNetwork.pointwise`). Results must be equal, code
/// for code: the kernels do the same fp32 operations (fma, multiply, rint half to even) in the same order.
@Suite struct QuantizedPointwiseTests {
    /// Deterministic bytes.
    struct Bytes {
        var state: UInt64
        mutating func next() -> UInt32 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt32(truncatingIfNeeded: state >> 33)
        }
        mutating func codes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: next()) } }
        mutating func weights(_ n: Int) -> [Int8] { (0..<n).map { _ in Int8(Int(next() % 255) - 127) } }
    }

    struct Case: CustomStringConvertible {
        var groups: Int, k: Int, m: Int, pixels: Int
        var residual: Bool, relu: Bool, perChannel: Bool
        /// Output and residual zero points all 0 (the scheme's after a ReLU; the kernels have a shorter epilogue).
        var zeroZeroPoints = false
        var description: String {
            "g=\(groups) K=\(k) M=\(m) pixels=\(pixels) residual=\(residual) relu=\(relu) perChannel=\(perChannel) zeroZeroPoints=\(zeroZeroPoints)"
        }
    }

    static func skipUnlessSupported(_ kernel: QuantizedPointwiseKernel) throws {
        if !kernel.isSupported {
            try Test.cancel("\(kernel.name) cannot run on this CPU (it lacks the micro-kernel's features); compiled, not run")
        }
    }

    /// Runs one case through `kernel` and the twin; returns the number of differing codes.
    static func mismatches(_ c: Case, kernel: QuantizedPointwiseKernel, rng: inout Bytes, worstWeight: Int8? = nil) throws -> Int {
        let inputs = c.groups * c.k, outputs = c.groups * c.m
        let x = worstWeight != nil ? [UInt8](repeating: 255, count: inputs * c.pixels) : rng.codes(inputs * c.pixels)
        let w = worstWeight.map { [Int8](repeating: $0, count: outputs * c.k) } ?? rng.weights(outputs * c.k)
        let zin = worstWeight != nil ? [UInt8](repeating: 0, count: inputs) : rng.codes(inputs)
        let multipliers = (0..<outputs).map { _ in worstWeight != nil ? Float(1e-6) : Float(rng.next() % 1000 + 1) * 1e-5 / Float(c.k) }
        let bias = (0..<outputs).map { _ in Float(Int(rng.next() % 2001) - 1000) * 0.01 }
        let maps = c.perChannel ? outputs : 1
        let scales = (0..<maps).map { _ in Float(rng.next() % 1000 + 1) * 1e-4 }
        let zouts = c.zeroZeroPoints ? [UInt8](repeating: 0, count: maps) : rng.codes(maps)
        let residual = c.residual ? (codes: rng.codes(outputs * c.pixels), zeroPoint: UInt8(c.zeroZeroPoints ? 0 : 17), scale: Float(0.031)) : nil
        let expected = ReferenceKernels.quantizedPointwise(x, pixels: c.pixels, weights: w, inputZeroPoints: zin, multipliers: multipliers,
                                                           bias: bias, outputScales: scales, outputZeroPoints: zouts, groups: c.groups,
                                                           residual: residual, relu: c.relu)
        let conv = try QuantizedPointwiseConvolution(kernel: kernel, weights: w, inputZeroPoints: zin, multipliers: multipliers, bias: bias,
                                                     outputScales: scales, outputZeroPoints: zouts, outputs: outputs,
                                                     inputsPerGroup: c.k, groups: c.groups)
        let stride = ChannelBlocks.blockBytes(c.pixels)
        let blockedX = ChannelBlocks.pack(x, groups: c.groups, perGroup: c.k, pixels: c.pixels, fill: 0xa5)
        // The residual is the output buffer itself (what a stride-1 unit does), so aliasing is tested too.
        var out = residual.map { ChannelBlocks.pack($0.codes, groups: c.groups, perGroup: c.m, pixels: c.pixels, fill: 0x5a) }
            ?? [UInt8](repeating: 0xcd, count: c.groups * ((c.m + 3) / 4) * stride)
        try blockedX.withUnsafeBufferPointer { xb throws(KernelCallError) in
            try out.withUnsafeMutableBufferPointer { ob throws(KernelCallError) in
                let res = residual.map { (codes: UnsafePointer(ob.baseAddress!), blockStride: stride, zeroPoint: $0.zeroPoint, scale: $0.scale) }
                try conv.run(input: xb.baseAddress!, inputBlockStride: stride, output: ob.baseAddress!, outputBlockStride: stride,
                             residual: res, relu: c.relu, pixels: c.pixels)
            }
        }
        let got = ChannelBlocks.unpack(out, groups: c.groups, perGroup: c.m, pixels: c.pixels)
        return zip(got, expected).filter { $0 != $1 }.count
    }

    @Test(arguments: QuantizedPointwiseKernel.all)
    func matchesTheNaiveTwinExactly(kernel: QuantizedPointwiseKernel) throws {
        try Self.skipUnlessSupported(kernel)
        var rng = Bytes(state: 7)
        var cases = 0
        // Pixels 1, 7, 49, 196, 3137 (every vector remainder); K not a multiple of 4; M not a multiple of 4 or 8
        // (the tiles' rows); every g; every epilogue, per-tensor and per-channel output maps.
        let shapes = [(3, 5), (10, 10), (13, 27), (24, 4), (40, 20), (7, 33)]
        for groups in [1, 2, 3, 4, 8] {
            for pixels in [1, 7, 49, 196, 3137] {
                for (s, (k, m)) in shapes.enumerated() where pixels < 3137 || s % 3 == groups % 3 {
                    for variant in 0..<8 where (variant + s + groups) % 2 == 0 || pixels <= 49 {
                        let c = Case(groups: groups, k: k, m: m, pixels: pixels, residual: variant & 1 != 0, relu: variant & 2 != 0,
                                     perChannel: variant & 4 != 0, zeroZeroPoints: (groups + s + pixels) % 2 == 0)
                        let bad = try Self.mismatches(c, kernel: kernel, rng: &rng)
                        #expect(bad == 0, "\(kernel.name), \(c): \(bad) codes differ")
                        cases += 1
                    }
                }
            }
        }
        #expect(cases > 300)
    }

    /// The widest reduction of any configuration (K = 1152, stage 4 of 2x g1) with every input 255 and every
    /// weight -127 or +127: |acc| = 255 * 127 * 1152 = 37.3 M, exact in int32 (no intermediate saturation: the
    /// AVX2 kernel widens to 16 bits for vpmaddwd, never vpmaddubsw's saturating int16 pairs).
    @Test(arguments: QuantizedPointwiseKernel.all)
    func worstCaseAccumulators(kernel: QuantizedPointwiseKernel) throws {
        try Self.skipUnlessSupported(kernel)
        #expect(QuantizedConvolution.accumulatorBound(reduction: 1152) == 255 * 127 * 1152)
        var rng = Bytes(state: 11)
        for weight: Int8 in [-127, 127] {
            for pixels in [7, 49] {
                let c = Case(groups: 1, k: 1152, m: 12, pixels: pixels, residual: false, relu: false, perChannel: true)
                #expect(try Self.mismatches(c, kernel: kernel, rng: &rng, worstWeight: weight) == 0)
            }
        }
        // Zero points at 255 with inputs 0 and 255: the packed term -sum W z reaches the bound too.
        let k = 1152
        let conv = try QuantizedPointwiseConvolution(kernel: kernel, weights: [Int8](repeating: 127, count: 4 * k),
                                                     inputZeroPoints: [UInt8](repeating: 255, count: k), multipliers: [Float](repeating: 1e-6, count: 4),
                                                     bias: [0, 0, 0, 0], outputScales: [0.5], outputZeroPoints: [128], outputs: 4,
                                                     inputsPerGroup: k, groups: 1)
        let stride = ChannelBlocks.blockBytes(1)
        let x = [UInt8](repeating: 0, count: k / 4 * stride)
        var out = [UInt8](repeating: 0, count: stride)
        try conv.run(input: x, inputBlockStride: stride, output: &out, outputBlockStride: stride, relu: false, pixels: 1)
        // acc = 127 * (0 - 255) * 1152 = -37.3 M; v = -37.3; q = rint(-74.6) + 128 = 53.
        #expect(Array(out[0..<4]) == [53, 53, 53, 53])
    }

    /// Threads split the outputs at multiples of 4, so a slice may start inside an 8-row panel: slices run one by
    /// one give what one call gives.
    @Test(arguments: QuantizedPointwiseKernel.all)
    func outputSlicesComposeToTheWholeLayer(kernel: QuantizedPointwiseKernel) throws {
        try Self.skipUnlessSupported(kernel)
        var rng = Bytes(state: 5)
        let groups = 2, k = 13, m = 20, pixels = 61, outputs = groups * m  // 20 rows: panels of 8, 8 and 4
        let x = rng.codes(groups * k * pixels), w = rng.weights(outputs * k), zin = rng.codes(groups * k)
        let multipliers = (0..<outputs).map { _ in Float(rng.next() % 1000 + 1) * 1e-5 / Float(k) }
        let bias = (0..<outputs).map { _ in Float(Int(rng.next() % 2001) - 1000) * 0.01 }
        let expected = ReferenceKernels.quantizedPointwise(x, pixels: pixels, weights: w, inputZeroPoints: zin, multipliers: multipliers,
                                                           bias: bias, outputScales: [0.05], outputZeroPoints: [3], groups: groups,
                                                           residual: nil, relu: true)
        let conv = try QuantizedPointwiseConvolution(kernel: kernel, weights: w, inputZeroPoints: zin, multipliers: multipliers, bias: bias,
                                                     outputScales: [0.05], outputZeroPoints: [3], outputs: outputs,
                                                     inputsPerGroup: k, groups: groups)
        let stride = ChannelBlocks.blockBytes(pixels)
        let blockedX = ChannelBlocks.pack(x, groups: groups, perGroup: k, pixels: pixels)
        var out = [UInt8](repeating: 0, count: groups * 5 * stride)
        for slice in [0..<4, 4..<12, 12..<28, 28..<36, 36..<40] {
            try conv.run(input: blockedX, inputBlockStride: stride, output: &out, outputBlockStride: stride, relu: true, pixels: pixels,
                         outputSlots: slice)
        }
        #expect(ChannelBlocks.unpack(out, groups: groups, perGroup: m, pixels: pixels) == expected)
    }

    /// The twin computes what the executable spec computes (`QuantizedReferenceNetwork.pointwise`, whose logits
    /// equal the NumPy reference's).
    @Test func twinMatchesTheExecutableSpec() {
        var rng = Bytes(state: 3)
        let groups = 3, k = 10, m = 7, pixels = 29, outputs = groups * m
        let x = rng.codes(groups * k * pixels), w = rng.weights(outputs * k), zin = rng.codes(groups * k)
        let weightScales = (0..<outputs).map { _ in Float(rng.next() % 100 + 1) * 1e-3 }
        let bias = (0..<outputs).map { _ in Float(Int(rng.next() % 201) - 100) * 0.01 }
        let maps = (0..<outputs).map { _ in ActivationQuantization(scale: Float(rng.next() % 100 + 1) * 1e-2, zeroPoint: UInt8(rng.next() % 256)) }
        let inputScale: Float = 0.037
        let layer = QuantizedConvolution(weights: w, weightScales: weightScales, bias: bias)
        let spec = QuantizedReferenceNetwork.pointwise(x, inputScale: inputScale, zeroPoints: zin.map { Int32($0) }, pixels: pixels,
                                                        layer: layer, groups: groups) { o, _, v in maps[o].quantize(max(v, 0)) }
        let twin = ReferenceKernels.quantizedPointwise(x, pixels: pixels, weights: w, inputZeroPoints: zin,
                                                       multipliers: weightScales.map { inputScale * $0 }, bias: bias,
                                                       outputScales: maps.map(\.scale), outputZeroPoints: maps.map(\.zeroPoint),
                                                       groups: groups, residual: nil, relu: true)
        #expect(spec == twin)
    }

    /// Bad arguments come back as errors from the packer and the driver, never a crash.
    @Test func refusesBadArguments() throws {
        let kernel = QuantizedPointwiseKernel.all.last!  // portable: runs everywhere
        #expect(kernel.name.hasSuffix("__generic"))
        func make(weights: [Int8] = [1, 2, 3, 4, 5, 6, 7, 8], scales: [Float] = [1]) throws(KernelCallError) -> QuantizedPointwiseConvolution {
            try QuantizedPointwiseConvolution(kernel: kernel, weights: weights, inputZeroPoints: [0, 0, 0, 0], multipliers: [1, 1],
                                              bias: [0, 0], outputScales: scales, outputZeroPoints: [UInt8](repeating: 0, count: scales.count),
                                              outputs: 2, inputsPerGroup: 4, groups: 1)
        }
        #expect(throws: KernelCallError.self) { try make(weights: [-128, 2, 3, 4, 5, 6, 7, 8]) }
        #expect(throws: KernelCallError.self) { try make(weights: [1, 2, 3]) }
        #expect(throws: KernelCallError.self) { try make(scales: [0]) }
        #expect(throws: KernelCallError.self) { try make(scales: [Float.leastNonzeroMagnitude]) }  // 1 / scale is not finite
        let conv = try make()
        let stride = ChannelBlocks.blockBytes(20)
        let x = [UInt8](repeating: 1, count: stride)
        var y = [UInt8](repeating: 0, count: stride)
        try conv.run(input: x, inputBlockStride: stride, output: &y, outputBlockStride: stride, relu: true, pixels: 20)
        #expect(throws: KernelCallError.self) {  // strides too small for 20 pixels (32 rounded up: 128 bytes)
            try conv.run(input: x, inputBlockStride: 80, output: &y, outputBlockStride: stride, relu: true, pixels: 20)
        }
        #expect(throws: KernelCallError.self) {
            try conv.run(input: x, inputBlockStride: stride, output: &y, outputBlockStride: stride, relu: true, pixels: -1)
        }
        #expect(throws: KernelCallError.self) {  // slots not on blocks of 4
            try conv.run(input: x, inputBlockStride: stride, output: &y, outputBlockStride: stride, relu: true, pixels: 20, outputSlots: 2..<4)
        }
        #expect(throws: KernelCallError.self) {  // past the padded outputs (4)
            try conv.run(input: x, inputBlockStride: stride, output: &y, outputBlockStride: stride, relu: true, pixels: 20, outputSlots: 0..<8)
        }
        // Weights packed for one configuration are refused by another whose layout differs.
        if let other = QuantizedPointwiseKernel.all.first(where: { $0.isSupported && $0.name != kernel.name && !$0.name.contains("avxvnni") }) {
            #expect(throws: KernelCallError.self) {
                try conv.run(input: x, inputBlockStride: stride, output: &y, outputBlockStride: stride, relu: true, pixels: 20, kernel: other)
            }
        }
    }

    /// The configurations this CPU cannot run, as one visible skip (a cancelled parameterized case above is
    /// reported as passed by this swift-testing version, so the skip would go unseen).
    @Test func configurationsThisCPULacksAreSkipped() throws {
        let lacking = QuantizedPointwiseKernel.all.filter { !$0.isSupported }.map(\.name)
        if !lacking.isEmpty {
            let names = lacking.joined(separator: ", ")
            try Test.cancel("not run on this CPU (it lacks their features): \(names); Scripts/qu8_pointwise_bench.c checks the AVX-VNNI one through an EVEX stand-in on AVX-512 VNNI CPUs")
        }
    }

    @Test func everyConfigurationIsListedAndTheSelectedOneRuns() {
        let names = QuantizedPointwiseKernel.all.map(\.name)
        #expect(names.last == "sn_qu8_pointwise_ukernel_4x8__generic")
        #expect(names.allSatisfy { $0.hasPrefix("sn_qu8_pointwise_ukernel_") })
        #expect(QuantizedPointwiseKernel.selected.isSupported)
        #if arch(x86_64)
        #expect(names.contains("sn_qu8_pointwise_ukernel_8x48__avx512vnni"))
        #expect(names.contains("sn_qu8_pointwise_ukernel_4x16__avx2"))
        #endif
    }
}
