import Foundation
import ShuffleNet
import Testing

/// The optimisers against things that can be checked by hand: finite differences, a binary logistic
/// regression solved independently by Newton's method, the lasso's optimality conditions.
@Suite struct SoftmaxRegressionTests {
    /// Deterministic pseudo-random numbers in [-1, 1) (a small LCG, independent of the library's generators).
    struct Numbers {
        var state: UInt64
        mutating func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53) * 2 - 1
        }
    }

    /// Two overlapping Gaussian-ish blobs in 2-D around (+1, +0.5) and (-1, -0.5).
    static func blobs(_ n: Int, seed: UInt64 = 3) -> SoftmaxRegression.Data {
        var numbers = Numbers(state: seed)
        var data = SoftmaxRegression.Data(dimension: 2)
        for i in 0..<n {
            let label = i % 2
            let sign = label == 1 ? 1.0 : -1.0
            data.append([sign + 1.2 * numbers.next(), 0.5 * sign + 1.2 * numbers.next()], label: label)
        }
        return data
    }

    @Test func gradientMatchesFiniteDifferences() {
        var numbers = Numbers(state: 11)
        var data = SoftmaxRegression.Data(dimension: 4)
        for i in 0..<20 { data.append((0..<4).map { _ in 2 * numbers.next() }, label: i % 3) }
        let parameters = (0..<(3 * 4 + 3)).map { _ in numbers.next() }
        let (_, gradient) = SoftmaxRegression.objective(parameters: parameters, data: data, classes: 3, c: 0.7)
        let h = 1e-6
        for j in parameters.indices {
            var plus = parameters, minus = parameters
            plus[j] += h
            minus[j] -= h
            let numeric = (SoftmaxRegression.objective(parameters: plus, data: data, classes: 3, c: 0.7).value
                - SoftmaxRegression.objective(parameters: minus, data: data, classes: 3, c: 0.7).value) / (2 * h)
            #expect(abs(numeric - gradient[j]) < 1e-7 * max(1, abs(numeric)), "parameter \(j): \(gradient[j]) vs \(numeric)")
        }
    }

    /// With two classes and the penalty on both rows, the optimum has W0 = -W1, so `v = W1 - W0` and
    /// `beta = b1 - b0` minimise the binary problem `(1/n) sum log(1 + exp(-s_i (v . x_i + beta))) + (lambda / 4) |v|^2`
    /// with `lambda = 1 / (C n)`. Solved here by Newton's method with a 3x3 Cramer solve.
    @Test func l2MatchesAnIndependentBinaryNewtonSolution() {
        let data = Self.blobs(40)
        let c = 0.5
        var model = SoftmaxRegression(classes: 2, dimension: 2)
        let report = model.fit(data, c: c, penalty: .l2)
        #expect(report.converged)
        let n = Double(data.count), lambda = 1 / (c * n)
        var theta = [0.0, 0.0, 0.0]  // v1, v2, beta
        for _ in 0..<50 {
            var g = [0.0, 0.0, 0.0]
            var hessian = [[Double]](repeating: [0, 0, 0], count: 3)
            for i in 0..<data.count {
                let x = [data.features[2 * i], data.features[2 * i + 1], 1.0]
                let s = data.labels[i] == 1 ? 1.0 : -1.0
                let margin = s * (theta[0] * x[0] + theta[1] * x[1] + theta[2])
                let sigma = 1 / (1 + exp(margin))  // derivative of log(1 + e^-m) is -sigma
                for a in 0..<3 {
                    g[a] += -s * sigma * x[a] / n
                    for b in 0..<3 { hessian[a][b] += sigma * (1 - sigma) * x[a] * x[b] / n }
                }
            }
            for a in 0..<2 { g[a] += lambda / 2 * theta[a]; hessian[a][a] += lambda / 2 }
            func det(_ m: [[Double]]) -> Double {
                m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
                    + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
            }
            let d = det(hessian)
            for a in 0..<3 {
                var m = hessian
                for r in 0..<3 { m[r][a] = g[r] }
                theta[a] -= det(m) / d
            }
        }
        let v = [model.weights[2] - model.weights[0], model.weights[3] - model.weights[1]]
        let beta = model.biases[1] - model.biases[0]
        let differences: [Double] = [v[0] - theta[0], v[1] - theta[1], beta - theta[2]]
        let largest = differences.map { abs($0) }.max() ?? 0
        #expect(largest < 1e-5, "softmax \(v), \(beta) vs Newton \(theta)")
        #expect(abs(model.weights[0] + model.weights[2]) < 1e-5, "W0 = -W1 at the optimum")
    }

    @Test func separableDataIsClassifiedPerfectly() {
        var data = SoftmaxRegression.Data(dimension: 2)
        for i in 0..<30 {
            let t = Double(i) / 30
            data.append([2 + t, 1 - t], label: 0)
            data.append([-2 - t, t], label: 1)
            data.append([t, 3 + t], label: 2)
        }
        for penalty in SoftmaxRegression.Penalty.allCases {
            var model = SoftmaxRegression(classes: 3, dimension: 2)
            model.fit(data, c: 10, penalty: penalty)
            for i in 0..<data.count {
                #expect(model.predict(Array(data.features[(2 * i)..<(2 * i + 2)])) == data.labels[i], "\(penalty) row \(i)")
            }
        }
    }

    /// The lasso's optimality conditions: for a weight that is not zero, the smooth gradient equals
    /// `-lambda sign(w)`; for a zero weight it is at most `lambda` in size. A feature that is pure noise gets
    /// exactly zero at a strong penalty.
    @Test func l1SatisfiesItsOptimalityConditionsAndDropsNoise() {
        var numbers = Numbers(state: 5)
        var data = SoftmaxRegression.Data(dimension: 3)
        for i in 0..<60 {
            let label = i % 2
            data.append([(label == 1 ? 1.0 : -1.0) + 0.8 * numbers.next(), 0.3 * numbers.next(), numbers.next()], label: label)
        }
        let c = 0.3
        var model = SoftmaxRegression(classes: 2, dimension: 3)
        model.fitL1(data, c: c, maxIterations: 20000, tolerance: 1e-12)
        let lambda = 1 / (c * Double(data.count))
        let (_, gradient) = SoftmaxRegression.objective(parameters: model.weights + model.biases, data: data, classes: 2, c: .infinity)
        for j in model.weights.indices {
            if model.weights[j] != 0 {
                #expect(abs(gradient[j] + lambda * (model.weights[j] > 0 ? 1 : -1)) < 1e-6, "weight \(j) = \(model.weights[j])")
            } else {
                #expect(abs(gradient[j]) <= lambda + 1e-6, "zero weight \(j): gradient \(gradient[j])")
            }
        }
        for k in 0..<2 { #expect(abs(gradient[6 + k]) < 1e-6, "bias gradient") }
        #expect(model.weights[0] != 0 && model.weights[3] != 0, "the informative feature is kept")
        #expect(model.weights[2] == 0 && model.weights[5] == 0, "the noise feature is dropped: \(model.weights)")
    }
}
