import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Turns the signals an audit daemon answers into `DaemonControl` commands, on a thread of its own.
///
/// The signals are blocked in every thread (the mask is set before any other thread starts and is
/// inherited), and one thread takes them with `sigwaitinfo`, so no work ever runs in a signal
/// handler and the record path is never interrupted. SIGPIPE is ignored: a write to a closed pipe
/// is an error to report, not a reason to die.
public enum SignalWatcher {
    static let handled: [Int32] = [SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGCONT]

    /// Blocks the handled signals in the calling thread. Call first thing in `main`.
    public static func blockSignals() {
        signal(SIGPIPE, SIG_IGN)
        var set = sigset_t()
        sigemptyset(&set)
        for number in handled { sigaddset(&set, number) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Starts the thread that forwards signals to `control`.
    public static func start(control: DaemonControl, logger: Logger) {
        let context = Unmanaged.passRetained(Context(control: control, logger: logger)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { raw in
            let context = Unmanaged<Context>.fromOpaque(raw!).takeRetainedValue()
            context.run()
            return nil
        }, context)
        if result != 0 {
            logger.error("cannot start the signal thread (errno \(result)); SIGTERM will not stop the daemon cleanly")
        } else {
            pthread_detach(thread)
        }
    }

    private final class Context: @unchecked Sendable {  // handed to one thread, then only used there
        let control: DaemonControl
        let logger: Logger
        init(control: DaemonControl, logger: Logger) {
            self.control = control
            self.logger = logger
        }

        func run() {
            var set = sigset_t()
            sigemptyset(&set)
            for number in SignalWatcher.handled { sigaddset(&set, number) }
            while true {
                var info = siginfo_t()
                let number = sigwaitinfo(&set, &info)
                guard number > 0 else { continue }
                let sender = info._sifields._kill.si_pid
                switch number {
                case SIGTERM, SIGINT:
                    let name = number == SIGTERM ? "SIGTERM" : "SIGINT"
                    control.send(.stop(reason: "\(name) from pid \(sender)"))
                default:
                    logger.notice("ignoring signal \(number) from pid \(sender): not handled yet")
                }
            }
        }
    }
}
