import AuditEvents
#if canImport(Glibc)
import Glibc
#endif

/// Reads a log and the files rotated from it in order (`FILE.N` … `FILE.1`, then `FILE`) and,
/// when asked, follows `FILE` as the daemon writes it and rotates it, line by line.
///
/// Rotation is noticed by inode: when `FILE` names another file than the one being read, the old
/// one is read to its end first (the daemon has closed it by then), so no line is lost; the
/// descriptor, not the name, is read, so none is read twice. A line the daemon was still writing
/// stays in the buffer until its newline comes, in whichever read. A file that ends without a
/// newline gives its last bytes as a line of their own, and a note.
public final class LogFollower {
    public let path: String
    public let follow: Bool
    public let pollInterval: Duration
    /// Where notes go (files not readable, torn lines, truncation); one line each, no newline.
    private let note: (String) -> Void
    private var buffer = LineBuffer()

    public init(path: String, follow: Bool, pollInterval: Duration = .milliseconds(100), note: @escaping (String) -> Void) {
        self.path = path
        self.follow = follow
        self.pollInterval = pollInterval
        self.note = note
    }

    /// A file open for reading, and which one it is.
    struct OpenFile {
        var descriptor: Int32
        var name: String
        var device: UInt64
        var inode: UInt64
    }

    /// Reads everything, calling `line` for each line (without its newline) and `idle` whenever
    /// the input has nothing more for now (each end of file, and each poll while following);
    /// `idle` returns false to stop. Returns when the files are read (not following) or `idle`
    /// says stop.
    public func run(line: (UnsafeBufferPointer<UInt8>) -> Void, idle: () -> Bool) {
        var live = open(path, quietWhenMissing: follow)
        var seen = Set<[UInt64]>()
        if let live { seen.insert([live.device, live.inode]) }
        for rotated in rotatedFiles() {
            guard let file = open(rotated, quietWhenMissing: true) else { continue }
            guard seen.insert([file.device, file.inode]).inserted else { close(file.descriptor); continue }
            readToEnd(file, line: line)
            endOfFile(file, line: line)
            close(file.descriptor)
            if !idle() { if let live { close(live.descriptor) }; return }
        }
        guard follow else {
            if let live {
                readToEnd(live, line: line)
                endOfFile(live, line: line)
                close(live.descriptor)
            }
            _ = idle()
            return
        }
        while true {
            if var current = live {
                readToEnd(current, line: line)
                switch whatIsAtPath(comparedTo: current) {
                case .same(let size):
                    let offset = lseek(current.descriptor, 0, SEEK_CUR)
                    if offset > size {
                        note("\(current.name) was truncated (now \(size) bytes, read up to \(offset)): reading it again from the start")
                        _ = buffer.takeRemainder()
                        lseek(current.descriptor, 0, SEEK_SET)
                    }
                case .missing:
                    break  // renamed, the new one not made yet: keep reading the old one
                case .other:
                    // Rotated: what the daemon wrote before it let go of the old file comes first.
                    readToEnd(current, line: line)
                    endOfFile(current, line: line)
                    close(current.descriptor)
                    live = open(path, quietWhenMissing: true)
                    if let next = live { current = next; continue }
                }
            } else {
                live = open(path, quietWhenMissing: true)
                if live != nil { continue }
            }
            if !idle() { break }
            sleep(pollInterval)
        }
        if let live { close(live.descriptor) }
    }

    /// `FILE.1`, `FILE.2`, … as far as they go, oldest (highest number) first.
    func rotatedFiles() -> [String] {
        var names: [String] = []
        var number = 1
        while number < 1000 {
            var status = stat()
            let name = "\(path).\(number)"
            guard lstat(name, &status) == 0 else { break }
            names.append(name)
            number += 1
        }
        return names.reversed()
    }

    private func open(_ name: String, quietWhenMissing: Bool) -> OpenFile? {
        let descriptor = Glibc.open(name, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let error = errno
            if error == ENOENT && quietWhenMissing { return nil }
            if error == EACCES || error == EPERM {
                note("cannot read \(name): \(String(cString: strerror(error))) (the logs are for root and log_group; skipping it)")
            } else {
                note("cannot open \(name): \(String(cString: strerror(error)))")
            }
            return nil
        }
        var status = stat()
        fstat(descriptor, &status)
        return OpenFile(descriptor: descriptor, name: name, device: UInt64(status.st_dev), inode: UInt64(status.st_ino))
    }

    enum PathState { case same(size: Int), missing, other }

    private func whatIsAtPath(comparedTo file: OpenFile) -> PathState {
        var status = stat()
        guard stat(path, &status) == 0 else { return .missing }
        if UInt64(status.st_dev) == file.device && UInt64(status.st_ino) == file.inode { return .same(size: Int(status.st_size)) }
        return .other
    }

    private func readToEnd(_ file: OpenFile, line: (UnsafeBufferPointer<UInt8>) -> Void) {
        while true {
            let got = buffer.fill { space in read(file.descriptor, space.baseAddress, space.count) }
            if got < 0 {
                if errno == EINTR { continue }
                note("cannot read \(file.name): \(String(cString: strerror(errno)))")
                return
            }
            while buffer.nextLine(line) != nil {}
            if got == 0 { return }
        }
    }

    /// The file is done: a last line without its newline is a line of its own.
    private func endOfFile(_ file: OpenFile, line: (UnsafeBufferPointer<UInt8>) -> Void) {
        guard buffer.pendingCount > 0 else { return }
        let torn = buffer.takeRemainder()
        note("\(file.name) ends with \(torn.count) bytes without a newline (a torn line): passed on as a line of its own")
        torn.withUnsafeBufferPointer { line($0) }
    }

    private func sleep(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
