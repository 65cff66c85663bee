#if canImport(Glibc)
import Glibc
#endif

/// The plugin the tests attach to a daemon: a shell script that appends what it reads on standard
/// input to the file its first argument names. It ignores SIGHUP, which a reload sends to every
/// plugin it keeps (as auditd does). Owned by root with mode 0750, as auditd requires of a
/// plugin's program, when the test runs as root.
public enum CapturePlugin {
    /// Writes the program as `name` in `directory`; returns its path.
    public static func program(in directory: TemporaryDirectory, name: String = "capture",
                               body: String = "trap '' HUP\nexec /bin/cat >> \"$1\"") throws -> String {
        let path = try directory.write("#!/bin/sh\n\(body)\n", to: name)
        chmod(path, 0o750)
        return path
    }
}
