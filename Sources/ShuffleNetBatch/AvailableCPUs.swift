import Foundation

/// How many CPUs this process may really use, the default number of worker threads.
///
/// The core count alone over-counts in two common cases, and too many busy threads on too few CPUs make the
/// run slower (each layer's threads meet twice per unit, so a descheduled one stalls the others):
/// - the affinity mask (`taskset`, `docker --cpuset-cpus`, Slurm) allows only some of the cores;
/// - a cgroup CPU quota (`docker --cpus`, Kubernetes `limits.cpu`) allows, say, 2 CPUs' worth of time per
///   period on a 64-core host; threads beyond that are throttled, not run.
///
/// Result: `max(1, min(affinity count, ceil(quota / period)))`, the quota being the smallest one found on
/// the process's cgroup and its ancestors (v2 `cpu.max`, v1 `cpu.cfs_quota_us`/`cpu.cfs_period_us`).
/// Every file is parsed by a pure function on its text (`CgroupCPUQuota`), so each case is testable.
public enum AvailableCPUs {
    /// Worked out once per process: the mask and quota are set by whoever starts the process.
    public static let count: Int = resolve(affinity: affinityCount(), quotaCPUs: CgroupCPUQuota.cpus(readFile: readTextFile))

    /// The rule itself; nil means unknown (affinity) or no limit (quota).
    public static func resolve(affinity: Int?, quotaCPUs: Int?) -> Int {
        // Without sched_getaffinity (not Linux, or it failed), Foundation's count is the best we know.
        let granted = affinity ?? ProcessInfo.processInfo.activeProcessorCount
        return max(1, min(granted, quotaCPUs ?? Int.max))
    }

    /// nil when the file is missing or unreadable: a missing cgroup file means "no limit here".
    static func readTextFile(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
