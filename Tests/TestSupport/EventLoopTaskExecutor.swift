import NIOCore

/// Runs a task's jobs on one NIO event loop, as the daemon runs everything with NIO as the global executor. A test
/// of code that must not block a loop runs it there (`withTaskExecutorPreference`); default actors it calls run
/// there too.
public final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    public init(_ loop: any EventLoop) { self.loop = loop }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
