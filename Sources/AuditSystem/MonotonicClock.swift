#if canImport(Glibc)
import Glibc
#endif

/// The one monotonic clock (`CLOCK_MONOTONIC`): deadlines, the write schedule, the cadence of the
/// free-space check, systemd's `MONOTONIC_USEC`. The account-name cache reads its coarse variant,
/// which the vDSO answers without reading the hardware clock, once per looked-up name.
public enum MonotonicClock {
    /// Nanoseconds.
    public static func nanoseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    /// Milliseconds.
    public static func milliseconds() -> Int64 { nanoseconds() / 1_000_000 }

    /// Milliseconds of `CLOCK_MONOTONIC_COARSE` (the last tick, a few ms behind at most).
    public static func coarseMilliseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC_COARSE, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }
}

extension Duration {
    /// The duration in whole milliseconds, rounded down.
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// The duration in whole nanoseconds (clamped to what an `Int64` holds).
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? (seconds < 0 ? .min : .max) : whole &+ attoseconds / 1_000_000_000
    }
}
