import AuditSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The thread that runs `fsync` for `flush = incremental_async`, so the record path never waits
/// for the disk (auditd: `flush_thread_main`, src/auditd-event.c).
///
/// Each request hands the thread its own `dup` of the log descriptor, so a rotation that closes
/// the writer's descriptor meanwhile cannot make the thread sync a closed or reused one (auditd
/// shares one `log_fd` between the threads). Requests made while a sync runs are merged: the
/// thread syncs the newest descriptor next.
final class BackgroundSync: @unchecked Sendable {  // `thread` is set once in init, then only joined in stop()
    private struct State {
        /// The newest `dup` of the log to sync; a newer request drops (closes) an older one.
        var pending: Descriptor?
        var stopping = false
    }

    private let state = Mutex(State())
    private let wakeReader: Descriptor
    private let wakeWriter: Descriptor
    private var thread = pthread_t()
    private var running = false
    /// Syncs done, and the errno of the last one that failed (0 when none did since last read).
    let completed = Atomic<UInt64>(0)
    private let lastError = Atomic<Int32>(0)

    init?() {
        guard let (reader, writer) = try? Descriptor.pipe() else { return nil }
        wakeReader = reader
        wakeWriter = writer
        let context = Unmanaged.passRetained(self).toOpaque()
        guard pthread_create(&thread, nil, { raw in
            let me = Unmanaged<BackgroundSync>.fromOpaque(raw!).takeRetainedValue()
            me.loop()
            return nil
        }, context) == 0 else {
            Unmanaged<BackgroundSync>.fromOpaque(context).release()
            return nil
        }
        running = true
    }

    /// Asks for `fsync(descriptor)` soon. Returns at once.
    func request(_ descriptor: Int32) {
        let copy = dup(descriptor)
        guard copy >= 0 else { return }
        let newest = Descriptor(owning: copy)
        let replaced = state.withLock { state -> Descriptor? in
            defer { state.pending = newest }
            return state.pending
        }
        _ = replaced  // closed here, outside the lock
        var byte: UInt8 = 1
        _ = write(wakeWriter.rawValue, &byte, 1)
    }

    /// The errno of a failed sync since the last call, or nil.
    func takeError() -> Int32? {
        let code = lastError.exchange(0, ordering: .relaxed)
        return code == 0 ? nil : code
    }

    /// Syncs what is pending, then ends the thread and waits for it.
    func stop() {
        guard running else { return }
        running = false
        state.withLock { $0.stopping = true }
        var byte: UInt8 = 1
        _ = write(wakeWriter.rawValue, &byte, 1)
        pthread_join(thread, nil)
    }

    private func loop() {
        var drained = [UInt8](repeating: 0, count: 64)
        while true {
            let (pending, stopping) = state.withLock { state -> (Descriptor?, Bool) in
                defer { state.pending = nil }
                return (state.pending, state.stopping)
            }
            if let pending {
                if fsync(pending.rawValue) != 0 { lastError.store(errno, ordering: .relaxed) }
                completed.add(1, ordering: .relaxed)
            }
            if stopping { return }
            let count = read(wakeReader.rawValue, &drained, drained.count)
            if count < 0, errno != EINTR { return }
        }
    }
}
