import Foundation

/// CPU time of this process's threads, for the per-request figures of the benchmarks (the daemon runs
/// in the benchmark's process; wrk does not).
enum ThreadCPU {
    /// User + system CPU time of the whole process.
    static func processSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// Nanoseconds on CPU so far per thread name (`/proc/self/task/*/comm`), threads of one name summed:
    /// the event loops are `NIO-SGLTN-…`, the store writer `SQLiteStore.writerThreadName`.
    static func nanosecondsByThreadName() -> [String: UInt64] {
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return [:] }
        var byName: [String: UInt64] = [:]
        for task in tasks {
            guard let comm = try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8),
                  let schedstat = try? String(contentsOfFile: "/proc/self/task/\(task)/schedstat", encoding: .utf8),
                  let onCPU = schedstat.split(separator: " ").first.flatMap({ UInt64($0) })
            else { continue }
            byName[group(comm.trimmingCharacters(in: .whitespacesAndNewlines)), default: 0] += onCPU
        }
        return byName
    }

    /// The singleton event loops are named `NIO-SGLTN-<group>-#<n>`: counted as one, "event loops".
    private static func group(_ name: String) -> String {
        name.hasPrefix("NIO-SGLTN-") ? "event loops" : name
    }

    /// µs per operation of the named threads between two snapshots.
    static func microseconds(_ name: String, from before: [String: UInt64], to after: [String: UInt64], per count: Int) -> Double {
        Double((after[name] ?? 0) &- (before[name] ?? 0)) / 1e3 / Double(max(count, 1))
    }
}
