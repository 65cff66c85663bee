import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Turns the signals an audit daemon answers into `DaemonControl` commands, on a thread of its own.
///
/// The answered signals are blocked in every thread (the mask is set before any other thread
/// starts and is inherited), and one thread takes them with `sigwaitinfo`, so no work ever runs in
/// a signal handler and the record path is never interrupted. As auditd, which sets every signal
/// to `SIG_IGN` first (src/auditd.c: `main`), every other signal a process can be sent is ignored:
/// SIGPIPE (a write to a closed pipe is an error to report, not a reason to die), SIGQUIT, SIGALRM,
/// the terminal stop signals, the real-time ones. Left alone: SIGKILL and SIGSTOP (they cannot be
/// caught), the fault signals (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS: a crash
/// must stay a crash, with its backtrace, so systemd restarts the daemon), SIGCHLD (ignoring it
/// changes how children are reaped) and SIGPROF (the Swift runtime's crash handler uses it).
public enum SignalWatcher {
    /// The signals turned into commands.
    static let answered: [Int32] = [SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGCONT]
    /// The signals left with their default action.
    static let leftAlone: Set<Int32> = [SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT,
                                        SIGSYS, SIGCHLD, SIGPROF]

    /// Blocks the answered signals in the calling thread and ignores the rest. Call first thing in
    /// `main`, before any thread starts.
    public static func blockSignals() {
        let realTimeLast = Int32(__libc_current_sigrtmax())
        for number in 1...realTimeLast where !leftAlone.contains(number) && !answered.contains(number) {
            if number > 31 && number < Int32(__libc_current_sigrtmin()) { continue }  // glibc's own
            signal(number, SIG_IGN)
        }
        var set = sigset_t()
        sigemptyset(&set)
        for number in answered { sigaddset(&set, number) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// The command a signal asks for, or nil for a signal the daemon does not answer.
    public static func command(for signal: Int32, origin: SignalOrigin) -> DaemonControl.Command? {
        switch signal {
        case SIGTERM, SIGINT: .stop(reason: "\(origin)", origin: origin)
        case SIGHUP: .reload(origin: origin)
        case SIGUSR1: .rotate(origin: origin)
        case SIGUSR2: .resume(origin: origin)
        case SIGCONT: .reportState(origin: origin)
        default: nil
        }
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
            for number in SignalWatcher.answered { sigaddset(&set, number) }
            while true {
                var info = siginfo_t()
                let number = sigwaitinfo(&set, &info)
                guard number > 0 else { continue }
                let origin = SignalOrigin(signal: number, pid: info._sifields._kill.si_pid,
                                          uid: info._sifields._kill.si_uid,
                                          sentByProcess: info.si_code == SI_USER)
                if let command = SignalWatcher.command(for: number, origin: origin) {
                    control.send(command)
                }
            }
        }
    }
}
