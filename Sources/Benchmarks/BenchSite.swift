import CallTrackCore

/// The benchmarks' tracking numbers and site, one definition for all of them: pool numbers from
/// +7 495 100-00-00 upward, the default number +7 495 000-00-00.
enum BenchSite {
    static func numbers(_ count: Int) -> [PhoneNumber] {
        (0..<count).map { i in
            do { return try PhoneNumber.e164("+7495" + String(1_000_000 + i)) } catch { fatalError("benchmark number: \(error)") }
        }
    }

    static func site(pool: String, numbers: [PhoneNumber], policy: PoolPolicy) -> Site {
        do {
            return Site(id: "bench", defaultNumber: try PhoneNumber.e164("+74950000000"), displayMask: DisplayMask("+7 (XXX) XXX-XX-XX"),
                        pools: [Pool(id: pool, numbers: numbers, policy: policy)])
        } catch {
            fatalError("benchmark default number: \(error)")
        }
    }
}
