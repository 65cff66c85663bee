import AuditSystem
#if canImport(Glibc)
import Glibc
#endif

/// The plugins `plugin_dir` holds, loaded as auditd 3.0.9 loads them (`audisp/audispd.c:
/// load_plugin_conf`, `audispd-pconfig.c`): every entry whose name does not start with a dot and
/// has at most one dot, each file owned by root, not world-writable and regular, each active
/// plugin's program regular, owned by root and at least `rwxr-x---`. A file that fails is
/// reported and its plugin not started; the others go on.
public struct PluginDirectory: Sendable {
    /// A plugin ready to start: its configuration and, for a program, the inode it had when read
    /// (a reload restarts a plugin whose program was replaced, as auditd does).
    public struct Entry: Equatable, Sendable {
        public var configuration: PluginConfiguration
        public var programInode: UInt64?
    }

    public var active: [Entry] = []
    public var problems: [String] = []

    /// Reads `path`; a missing directory is no plugins, as in auditd.
    public static func load(_ path: String) -> PluginDirectory {
        var loaded = PluginDirectory()
        guard let directory = opendir(path) else {
            if errno != ENOENT { loaded.problems.append("\(path): cannot open the plugin directory (\(Errno(errno)))") }
            return loaded
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            // auditd skips hidden files, backups (`x.conf.rpmsave`) and the directory's own entries.
            guard !name.hasPrefix("."), name.filter({ $0 == "." }).count <= 1 else { continue }
            names.append(name)
        }
        for name in names.sorted() {
            let file = path + "/" + name
            do {
                let entry = try loadFile(file)
                if entry.configuration.isActive { loaded.active.append(entry) }
            } catch {
                loaded.problems.append(error.description)
            }
        }
        return loaded
    }

    /// Reads and checks one plugin file.
    static func loadFile(_ file: String) throws(PluginConfigurationError) -> Entry {
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PluginConfigurationError(file: file, line: 0, "cannot open (\(Errno(errno)))") }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw PluginConfigurationError(file: file, line: 0, "cannot fstat (\(Errno(errno)))") }
        guard status.st_uid == 0 else { throw PluginConfigurationError(file: file, line: 0, "not owned by root") }
        guard status.st_mode & S_IWOTH == 0 else { throw PluginConfigurationError(file: file, line: 0, "world writable") }
        guard status.st_mode & S_IFMT == S_IFREG else { throw PluginConfigurationError(file: file, line: 0, "not a regular file") }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fd, &chunk, chunk.count)
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw PluginConfigurationError(file: file, line: 0, "cannot read (\(Errno(errno)))") }
            if count == 0 { break }
            bytes += chunk[0..<count]
            guard bytes.count <= 65536 else { throw PluginConfigurationError(file: file, line: 0, "larger than 64 KiB") }
        }
        let configuration = try PluginConfiguration.parse(String(decoding: bytes, as: UTF8.self), file: file)
        guard configuration.isActive, !configuration.isBuiltin, let program = configuration.path else {
            return Entry(configuration: configuration, programInode: nil)
        }
        var programStatus = stat()
        guard stat(program, &programStatus) == 0 else {
            throw PluginConfigurationError(file: file, line: 0, "unable to stat \(program) (\(Errno(errno)))")
        }
        guard programStatus.st_mode & S_IFMT == S_IFREG else { throw PluginConfigurationError(file: file, line: 0, "\(program) is not a regular file") }
        guard programStatus.st_uid == 0 else { throw PluginConfigurationError(file: file, line: 0, "\(program) is not owned by root") }
        let needed: mode_t = S_IRUSR | S_IWUSR | S_IXUSR | S_IRGRP | S_IXGRP
        guard programStatus.st_mode & needed == needed else {
            throw PluginConfigurationError(file: file, line: 0, "\(program) permissions should be 0750")
        }
        return Entry(configuration: configuration, programInode: UInt64(programStatus.st_ino))
    }
}

