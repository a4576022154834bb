/// A CPU bandwidth limit of one cgroup: at most `quota` microseconds of CPU time every `period` microseconds,
/// i.e. `quota / period` CPUs' worth, spread over any number of threads.
package enum CgroupCPUQuota: Sendable, Equatable {
    case unlimited
    case limited(quota: Int, period: Int)

    /// Whole CPUs needed to use the quota: 1.5 CPUs' worth keeps 2 threads busy part of the time, so round up.
    package var cpus: Int? {
        guard case .limited(let quota, let period) = self else { return nil }
        return quota / period + (quota % period > 0 ? 1 : 0)
    }

    /// The smallest quota, in CPUs, on the process's cgroup and its ancestors, in the v2 hierarchy and in
    /// the v1 `cpu` hierarchy; nil when there is none. `readFile` returns a file's text or nil when missing.
    ///
    /// Ancestors count because container runtimes nest (a Kubernetes pod's limit sits on the pod's cgroup,
    /// the container's own may say "max"); a child can never use more than its parent allows. A missing or
    /// malformed file is no limit: the default thread count must not fail a run.
    package static func cpus(readFile: (String) -> String?) -> Int? {
        guard let cgroupText = readFile("/proc/self/cgroup") else { return nil }
        let membership = CgroupMembership(procSelfCgroup: cgroupText)
        let mountInfo = readFile("/proc/self/mountinfo") ?? ""
        var limits: [Int] = []
        if let path = membership.v2Path {
            // Pure v2 systems mount it at /sys/fs/cgroup; hybrid ones elsewhere (/sys/fs/cgroup/unified).
            let mount = CgroupMount.v2(inMountInfo: mountInfo) ?? CgroupMount(root: "/", mountPoint: "/sys/fs/cgroup")
            for directory in mount.directories(forCgroup: path) {
                guard let text = readFile(directory + "/cpu.max"),
                      let cpus = (try? parseCPUMax(text))?.cpus else { continue }
                limits.append(cpus)
            }
        }
        if let path = membership.v1CPUPath, let mount = CgroupMount.v1CPU(inMountInfo: mountInfo) {
            for directory in mount.directories(forCgroup: path) {
                guard let quota = readFile(directory + "/cpu.cfs_quota_us"),
                      let period = readFile(directory + "/cpu.cfs_period_us"),
                      let cpus = (try? parseCFS(quota: quota, period: period))?.cpus else { continue }
                limits.append(cpus)
            }
        }
        return limits.min()
    }

    /// cgroup v2 `cpu.max`: "max 100000" (no limit) or "200000 100000" (quota, period).
    package static func parseCPUMax(_ text: String) throws(CgroupParseError) -> CgroupCPUQuota {
        let fields = text.split(whereSeparator: \.isWhitespace)
        guard (1...2).contains(fields.count) else { throw .malformed(file: "cpu.max", text: text) }
        if fields.count == 2, positiveInteger(fields[1]) == nil { throw .malformed(file: "cpu.max", text: text) }
        if fields[0] == "max" { return .unlimited }
        guard fields.count == 2, let quota = positiveInteger(fields[0]), let period = positiveInteger(fields[1]) else {
            throw .malformed(file: "cpu.max", text: text)
        }
        return .limited(quota: quota, period: period)
    }

    /// cgroup v1 `cpu.cfs_quota_us` ("-1": no limit) and `cpu.cfs_period_us`.
    package static func parseCFS(quota quotaText: String, period periodText: String) throws(CgroupParseError) -> CgroupCPUQuota {
        let quotaField = quotaText.trimmingWhitespace, periodField = periodText.trimmingWhitespace
        if quotaField == "-1" { return .unlimited }
        guard let quota = positiveInteger(Substring(quotaField)) else { throw .malformed(file: "cpu.cfs_quota_us", text: quotaText) }
        guard let period = positiveInteger(Substring(periodField)) else { throw .malformed(file: "cpu.cfs_period_us", text: periodText) }
        return .limited(quota: quota, period: period)
    }

    private static func positiveInteger(_ text: Substring) -> Int? {
        guard let value = Int(text), value > 0 else { return nil }
        return value
    }
}

/// A cgroup file whose text is not what the kernel writes.
package enum CgroupParseError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformed(file: String, text: String)

    package var description: String {
        switch self {
        case .malformed(let file, let text): "\(file): unexpected content \"\(text)\""
        }
    }
}

extension String {
    var trimmingWhitespace: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
