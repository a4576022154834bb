import Foundation

/// The penalty of a softmax regression head: `l2` is `(1 / (2 C n)) ||W||^2` (fitted by L-BFGS); `l1` is
/// `(1 / (C n)) sum |W|` (the lasso, fitted by FISTA, Beck and Teboulle 2009, with backtracking), which sets most
/// weights to exactly zero: on the backbone's 1000 class scores it picks the few ImageNet classes that tell the
/// new classes apart.
public enum RegularizationPenalty: String, Sendable, Codable, CaseIterable {
    /// The lasso: sparse weights.
    case l1
    /// Ridge: smooth, all weights small.
    case l2
}

/// Multinomial logistic regression with an L2 (or L1, see `RegularizationPenalty`) penalty on the weights (not the
/// biases), in Double. With L2 (fitted by L-BFGS) the objective, for `n` rows `x_i` with classes `y_i` and `K` classes, is
///
///     f(W, b) = (1/n) sum_i [ logsumexp_k(W_k . x_i + b_k) - (W_{y_i} . x_i + b_{y_i}) ] + (1 / (2 C n)) ||W||^2
///
/// which has the same minimiser as scikit-learn's `LogisticRegression(C=C, multi_class="multinomial")`
/// (`C * sum_i loss_i + ||W||^2 / 2`), divided by `C n` so that the scale of `f` does not depend on `n`.
/// The problem is smooth and strictly convex in `W`, so L-BFGS finds the one minimum.
package struct SoftmaxRegression: Sendable, Equatable {
    /// Number of classes `K`.
    package let classes: Int
    /// Features per row.
    package let dimension: Int
    /// `classes x dimension`, row-major.
    package var weights: [Double]
    /// One per class.
    package var biases: [Double]

    /// A model with the given weights and biases, zeros where not given.
    package init(classes: Int, dimension: Int, weights: [Double]? = nil, biases: [Double]? = nil) {
        self.classes = classes
        self.dimension = dimension
        self.weights = weights ?? [Double](repeating: 0, count: classes * dimension)
        self.biases = biases ?? [Double](repeating: 0, count: classes)
    }

    /// Rows of features, row-major `count x dimension`, with their classes.
    package struct Data: Sendable {
        /// Features per row.
        package let dimension: Int
        /// `count x dimension`, row-major.
        package var features: [Double]
        /// The class of each row, in `0..<classes`.
        package var labels: [Int]
        /// Rows.
        package var count: Int { labels.count }
        /// Rows given as one row-major array and their classes.
        package init(dimension: Int, features: [Double] = [], labels: [Int] = []) {
            self.dimension = dimension
            self.features = features
            self.labels = labels
        }
        /// Adds one row of `dimension` features with its class.
        package mutating func append(_ row: some Collection<Double>, label: Int) {
            features.append(contentsOf: row)
            labels.append(label)
        }
    }

    /// How a fit went.
    package struct FitReport: Sendable, Equatable {
        /// Optimiser iterations taken.
        package let iterations: Int
        /// Objective and gradient evaluations.
        package let evaluations: Int
        /// The objective at the end.
        package let objective: Double
        /// Largest absolute gradient component at the end.
        package let gradientNorm: Double
        /// Whether the tolerance was met before `maxIterations`.
        package let converged: Bool
    }

    package func scores(_ row: UnsafePointer<Double>) -> [Double] {
        (0..<classes).map { k in
            var s = biases[k]
            weights.withUnsafeBufferPointer { w in
                let wk = w.baseAddress! + k * dimension
                for j in 0..<dimension { s += wk[j] * row[j] }
            }
            return s
        }
    }

    package func predict(_ row: [Double]) -> Int {
        let s = row.withUnsafeBufferPointer { scores($0.baseAddress!) }
        return s.indices.max { s[$0] < s[$1] || (s[$0] == s[$1] && $0 > $1) } ?? 0
    }

    /// Class probabilities for one row (softmax of the scores).
    package func probabilities(_ row: [Double]) -> [Double] {
        let s = row.withUnsafeBufferPointer { scores($0.baseAddress!) }
        let m = s.max() ?? 0
        let e = s.map { Foundation.exp($0 - m) }
        let total = e.reduce(0, +)
        return e.map { $0 / total }
    }

    /// The objective and its gradient at `parameters` (`W` row-major, then `b`).
    package static func objective(parameters: [Double], data: Data, classes: Int, c: Double, withGradient: Bool = true) -> (value: Double, gradient: [Double]) {
        let d = data.dimension, n = data.count, k = classes
        var gradient = [Double](repeating: 0, count: parameters.count)
        var loss = 0.0
        var z = [Double](repeating: 0, count: k)
        parameters.withUnsafeBufferPointer { p in
            data.features.withUnsafeBufferPointer { x in
                gradient.withUnsafeMutableBufferPointer { g in
                    z.withUnsafeMutableBufferPointer { z in
                        let w = p.baseAddress!, b = w + k * d
                        let gw = g.baseAddress!, gb = gw + k * d
                        for i in 0..<n {
                            let row = x.baseAddress! + i * d
                            var m = -Double.infinity
                            for c in 0..<k {
                                let wc = w + c * d
                                var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
                                var j = 0
                                while j + 4 <= d {
                                    s0 += wc[j] * row[j]; s1 += wc[j + 1] * row[j + 1]
                                    s2 += wc[j + 2] * row[j + 2]; s3 += wc[j + 3] * row[j + 3]
                                    j += 4
                                }
                                while j < d { s0 += wc[j] * row[j]; j += 1 }
                                z[c] = (s0 + s1) + (s2 + s3) + b[c]
                                m = Swift.max(m, z[c])
                            }
                            var total = 0.0
                            for c in 0..<k { z[c] = Foundation.exp(z[c] - m); total += z[c] }
                            let y = data.labels[i]
                            loss += Foundation.log(total) + m - (Foundation.log(z[y]) + m)
                            if !withGradient { continue }
                            for c in 0..<k {
                                let r = z[c] / total - (c == y ? 1 : 0)
                                if r == 0 { continue }
                                gb[c] += r
                                let gc = gw + c * d
                                for j in 0..<d { gc[j] += r * row[j] }
                            }
                        }
                    }
                }
            }
        }
        let inverseN = 1 / Double(max(n, 1))
        let lambda = 1 / (c * Double(max(n, 1)))
        var penalty = 0.0
        for j in 0..<(k * d) {
            penalty += parameters[j] * parameters[j]
            gradient[j] = gradient[j] * inverseN + lambda * parameters[j]
        }
        for j in (k * d)..<parameters.count { gradient[j] *= inverseN }
        return (loss * inverseN + 0.5 * lambda * penalty, gradient)
    }

    /// Which penalty `fit` uses (the library's `RegularizationPenalty`).
    package typealias Penalty = RegularizationPenalty

    /// Fits the weights and biases to `data` (starting from the current ones) with regularisation strength `c`
    /// (larger: weaker penalty).
    @discardableResult
    package mutating func fit(_ data: Data, c: Double, penalty: Penalty, maxIterations: Int? = nil) -> FitReport {
        switch penalty {
        case .l2: return fit(data, c: c, maxIterations: maxIterations ?? 500)
        case .l1: return fitL1(data, c: c, maxIterations: maxIterations ?? 500)
        }
    }

    /// The lasso objective's minimiser by FISTA: `x+ = prox(y - grad(y) / L)` with soft thresholding of the
    /// weights (biases are not penalised), momentum `(t - 1) / t+`, `L` doubled until the quadratic upper bound
    /// holds. Stops when no parameter moves by more than `tolerance` times the largest one.
    @discardableResult
    package mutating func fitL1(_ data: Data, c: Double, maxIterations: Int = 500, tolerance: Double = 1e-4) -> FitReport {
        precondition(data.dimension == dimension && c > 0)
        let classes = self.classes, dimension = self.dimension, penalised = classes * dimension
        let lambda = 1 / (c * Double(max(data.count, 1)))
        func smooth(_ p: [Double]) -> (value: Double, gradient: [Double]) {
            Self.objective(parameters: p, data: data, classes: classes, c: .infinity)
        }
        func l1(_ p: [Double]) -> Double {
            var s = 0.0
            for j in 0..<penalised { s += abs(p[j]) }
            return lambda * s
        }
        var x = weights + biases
        var y = x
        var t = 1.0
        var meanSquare = 1.0
        for v in data.features { meanSquare += v * v }
        var lipschitz = max(1e-6, 0.5 * meanSquare / Double(max(data.count, 1)) / 64)
        var evaluations = 0, iteration = 0, converged = false
        var objective = smooth(x).value + l1(x)
        while iteration < maxIterations {
            iteration += 1
            let (fy, gy) = smooth(y)
            evaluations += 1
            var next = y
            while true {
                var bound = fy
                for j in x.indices {
                    var v = y[j] - gy[j] / lipschitz
                    if j < penalised {
                        let threshold = lambda / lipschitz
                        v = v > threshold ? v - threshold : (v < -threshold ? v + threshold : 0)
                    }
                    next[j] = v
                    let d = v - y[j]
                    bound += gy[j] * d + 0.5 * lipschitz * d * d
                }
                let fNext = Self.objective(parameters: next, data: data, classes: classes, c: .infinity, withGradient: false).value
                evaluations += 1
                if fNext <= bound + 1e-12 * max(1, abs(bound)) {
                    objective = fNext + l1(next)
                    break
                }
                lipschitz *= 2
            }
            let tNext = (1 + (1 + 4 * t * t).squareRoot()) / 2
            var largestStep = 0.0, largest = 1.0
            for j in x.indices {
                largestStep = max(largestStep, abs(next[j] - x[j]))
                largest = max(largest, abs(next[j]))
                y[j] = next[j] + (t - 1) / tNext * (next[j] - x[j])
            }
            x = next
            t = tNext
            if largestStep <= tolerance * largest { converged = true; break }
        }
        weights = Array(x[0..<penalised])
        biases = Array(x[penalised...])
        let gradient = smooth(x).gradient
        return FitReport(iterations: iteration, evaluations: evaluations, objective: objective,
                         gradientNorm: gradient[penalised...].reduce(0) { max($0, abs($1)) }, converged: converged)
    }

    /// Fits the model to `data` starting from the current parameters (a warm start when fitting a grid of C).
    @discardableResult
    package mutating func fit(_ data: Data, c: Double, maxIterations: Int = 500, tolerance: Double = 1e-6) -> FitReport {
        precondition(data.dimension == dimension && c > 0)
        let classes = self.classes, dimension = self.dimension
        var x = weights + biases
        let result = LBFGS.minimize(start: &x, maxIterations: maxIterations, tolerance: tolerance) { p in
            Self.objective(parameters: p, data: data, classes: classes, c: c)
        }
        weights = Array(x[0..<(classes * dimension)])
        biases = Array(x[(classes * dimension)...])
        return result
    }
}

/// Limited-memory BFGS (Nocedal and Wright, "Numerical Optimization", Algorithm 7.4, two-loop recursion) with a
/// backtracking line search on the Armijo condition, which suffices for a smooth convex objective (curvature
/// pairs with `s . y <= 0` are skipped, so the update stays positive definite).
package enum LBFGS {
    /// Minimises `function` (value and gradient) from `x`, leaving the minimiser in `x`.
    package static func minimize(start x: inout [Double], memory: Int = 10, maxIterations: Int = 500, tolerance: Double = 1e-6,
                                function: ([Double]) -> (value: Double, gradient: [Double])) -> SoftmaxRegression.FitReport {
        var (f, g) = function(x)
        var evaluations = 1
        var sHistory: [[Double]] = [], yHistory: [[Double]] = [], rhoHistory: [Double] = []
        func dot(_ a: [Double], _ b: [Double]) -> Double {
            var s = 0.0
            for i in a.indices { s += a[i] * b[i] }
            return s
        }
        func maxAbs(_ a: [Double]) -> Double { a.reduce(0) { Swift.max($0, abs($1)) } }
        var iteration = 0
        var converged = maxAbs(g) <= tolerance
        while !converged, iteration < maxIterations {
            iteration += 1
            // Two-loop recursion: direction = -H g.
            var q = g
            var alphas = [Double](repeating: 0, count: sHistory.count)
            for i in stride(from: sHistory.count - 1, through: 0, by: -1) {
                alphas[i] = rhoHistory[i] * dot(sHistory[i], q)
                for j in q.indices { q[j] -= alphas[i] * yHistory[i][j] }
            }
            if let s = sHistory.last, let y = yHistory.last {
                let gamma = dot(s, y) / dot(y, y)
                for j in q.indices { q[j] *= gamma }
            } else {
                let scale = 1 / Swift.max(1, maxAbs(g))
                for j in q.indices { q[j] *= scale }
            }
            for i in sHistory.indices {
                let beta = rhoHistory[i] * dot(yHistory[i], q)
                for j in q.indices { q[j] += (alphas[i] - beta) * sHistory[i][j] }
            }
            var direction = q.map { -$0 }
            var slope = dot(g, direction)
            if slope >= 0 {  // not a descent direction (numerical trouble): restart from steepest descent
                sHistory.removeAll(); yHistory.removeAll(); rhoHistory.removeAll()
                direction = g.map { -$0 }
                slope = dot(g, direction)
            }
            var step = 1.0
            var accepted = false
            var newX = x, newF = f, newG = g
            for _ in 0..<40 {
                for j in x.indices { newX[j] = x[j] + step * direction[j] }
                (newF, newG) = function(newX)
                evaluations += 1
                if newF <= f + 1e-4 * step * slope { accepted = true; break }
                step *= 0.5
            }
            if !accepted { break }
            let s = zip(newX, x).map { $0 - $1 }
            let y = zip(newG, g).map { $0 - $1 }
            let sy = dot(s, y)
            let decrease = f - newF
            x = newX; g = newG
            let previous = f
            f = newF
            if sy > 1e-12 {
                sHistory.append(s); yHistory.append(y); rhoHistory.append(1 / sy)
                if sHistory.count > memory { sHistory.removeFirst(); yHistory.removeFirst(); rhoHistory.removeFirst() }
            }
            converged = maxAbs(g) <= tolerance || decrease <= 1e-14 * Swift.max(1, abs(previous))
        }
        return SoftmaxRegression.FitReport(iterations: iteration, evaluations: evaluations, objective: f,
                                           gradientNorm: maxAbs(g), converged: converged)
    }
}
