import Foundation

/// Checks `condition` every `interval` until it holds or `timeout` has passed, and says whether it
/// held: the one way a test waits for an effect it cannot be told about (a line reaching a file, a
/// process registering, a child exiting). A test never sleeps a fixed time to let something happen.
@discardableResult
public func eventually(
    timeout: Duration = .seconds(10), interval: Duration = .milliseconds(5), _ condition: () throws -> Bool
) rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: interval.seconds)
    }
    return try condition()
}

extension Duration {
    /// The duration in seconds, for the few Foundation calls that take a `TimeInterval`.
    public var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}
