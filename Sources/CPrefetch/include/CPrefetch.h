#ifndef CPREFETCH_H
#define CPREFETCH_H

/// Asks the CPU to bring the cache line at `address` in ahead of its use, ready to be written (the
/// allocator writes the records it reads). Only a hint: no fault, no effect on what the program
/// computes. Swift has no prefetch of its own.
static inline void calltrack_prefetch(const void *address) { __builtin_prefetch(address, 1, 3); }

#endif
