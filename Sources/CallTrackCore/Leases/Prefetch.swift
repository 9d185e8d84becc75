import CPrefetch

extension Array {
    /// Asks the CPU to load the first `bytes` of element `index` (all of it by default) ahead of
    /// their use. On a large pool the allocator's records are far apart in memory; a load it can
    /// name one operation ahead (the next lease due, the next free number, the new session's
    /// bucket) then overlaps other work instead of stalling it. Only a hint: results are the same
    /// with or without it.
    func prefetch(_ index: Int, bytes: Int = MemoryLayout<Element>.size) {
        guard index >= 0, index < count else { return }
        withUnsafeBufferPointer { buffer in
            // Elements are not aligned to cache lines: every line the bytes touch, last byte included.
            let start = UnsafeRawPointer(buffer.baseAddress! + index)
            for offset in stride(from: 0, to: bytes, by: 64) { calltrack_prefetch(start + offset) }
            calltrack_prefetch(start + (bytes - 1))
        }
    }
}
