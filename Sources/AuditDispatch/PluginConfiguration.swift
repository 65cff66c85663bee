/// One plugin as a file in `plugin_dir` describes it, read as auditd 3.0.9 reads it
/// (`audisp/audispd-pconfig.c`): `active`, `direction`, `path`, `type`, `args` (at most two),
/// `format`, one `key = value [option]` a line, keywords and values case-insensitive.
public struct PluginConfiguration: Equatable, Sendable {
    public enum Kind: String, Sendable { case always, builtin }
    public enum Format: String, Sendable { case string, binary }

    /// The file's base name: a plugin is known by it across reloads, as in auditd.
    public var name: String
    public var isActive = false
    public var path: String?
    public var kind = Kind.always
    /// `args`: at most two words, which become argv[1] and argv[2].
    public var arguments: [String] = []
    public var format = Format.string

    public init(name: String) { self.name = name }

    /// The built-in that `path = builtin_af_unix` names, served inside the daemon.
    public var isBuiltinAfUnix: Bool { path?.lowercased() == "builtin_af_unix" }
    public var isBuiltin: Bool { path?.lowercased().hasPrefix("builtin_") == true }

    /// Reads `text`, the contents of `file`. Throws at the first line auditd would refuse, naming
    /// the file and line; auditd then skips the whole plugin, and so does the dispatcher.
    public static func parse(_ text: String, file: String) throws(PluginConfigurationError) -> PluginConfiguration {
        var configuration = PluginConfiguration(name: String(file.split(separator: "/").last ?? Substring(file)))
        var lineNumber = 0
        var activeLine = 0, pathLine = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            // auditd reads lines into a 160-byte buffer and skips a longer one with a message.
            if rawLine.utf8.count >= 160 { throw PluginConfigurationError(file: file, line: lineNumber, "line too long (auditd skips it)") }
            // auditd splits on spaces only (strtok_r with " "): a tab is part of a word.
            let words = rawLine.split(separator: " ", omittingEmptySubsequences: true)
            guard let keyword = words.first, !keyword.hasPrefix("#") else { continue }
            guard words.count >= 2 else { throw PluginConfigurationError(file: file, line: lineNumber, "wrong number of arguments for \"\(keyword)\"") }
            guard words[1] == "=" else { throw PluginConfigurationError(file: file, line: lineNumber, "missing equal sign after \"\(keyword)\"") }
            guard words.count >= 3, words.count <= 4 else {
                throw PluginConfigurationError(file: file, line: lineNumber, "wrong number of arguments for \"\(keyword)\"")
            }
            let value = String(words[2])
            let option = words.count == 4 ? String(words[3]) : nil
            let name = keyword.lowercased()
            if option != nil, name != "args" {
                throw PluginConfigurationError(file: file, line: lineNumber, "keyword \"\(keyword)\" has invalid option \"\(option!)\"")
            }
            func choice<T>(_ options: [String: T]) throws(PluginConfigurationError) -> T {
                guard let chosen = options[value.lowercased()] else {
                    throw PluginConfigurationError(file: file, line: lineNumber, "option \(value) not found for \"\(keyword)\"")
                }
                return chosen
            }
            switch name {
            case "active":
                configuration.isActive = try choice(["yes": true, "no": false])
                activeLine = lineNumber
            case "direction": _ = try choice(["out": true])  // auditd 3.0.9 knows only `out`
            case "type": configuration.kind = try choice(["always": Kind.always, "builtin": Kind.builtin])
            case "format": configuration.format = try choice(["string": Format.string, "binary": Format.binary])
            case "args": configuration.arguments = [value] + (option.map { [$0] } ?? [])
            case "path":
                pathLine = lineNumber
                if value.lowercased().hasPrefix("builtin_") {
                    configuration.path = value
                } else {
                    // auditd: '/var' is the shortest directory it accepts.
                    let directory = value.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
                    guard directory.utf8.count >= 4 else {
                        throw PluginConfigurationError(file: file, line: lineNumber, "the directory name of \(value) is too short")
                    }
                    configuration.path = value
                }
            default:
                throw PluginConfigurationError(file: file, line: lineNumber, "unknown keyword \"\(keyword)\"")
            }
        }
        if configuration.isActive, configuration.path == nil {
            throw PluginConfigurationError(file: file, line: activeLine, "the plugin is active but no path is given")
        }
        if configuration.isBuiltin, !configuration.isBuiltinAfUnix {
            throw PluginConfigurationError(file: file, line: pathLine, "unknown builtin \(configuration.path!)")
        }
        return configuration
    }
}

/// A plugin file auditd would refuse: `FILE:LINE: what is wrong`.
public struct PluginConfigurationError: Error, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let problem: String

    public init(file: String, line: Int, _ problem: String) {
        self.file = file
        self.line = line
        self.problem = problem
    }

    public var description: String { "\(file):\(line): \(problem)" }
}
