/// Why PostgreSQL did not do what was asked, with the SQLSTATE when the server sent one.
///
/// `description` says what to fix and never contains SQL or parameter values (they may hold
/// caller numbers); the server's own words are in `message`, `detail` and `hint`.
public struct PostgresError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure, which decides what a caller does next (retry, bisect, give up).
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String { case cannotConnect, authentication, connectionLost, badData, refused, transient }
        private let base: Base
        /// The server is unreachable (down, wrong host or port, socket missing): retry later.
        public static let cannotConnect = Kind(base: .cannotConnect)
        /// The server refused our credentials: retry later, an operator must fix the password.
        public static let authentication = Kind(base: .authentication)
        /// The connection broke during a command: its outcome is unknown, retry (writes are idempotent).
        public static let connectionLost = Kind(base: .connectionLost)
        /// The values of this command are unacceptable (SQLSTATE classes 22, 23): retrying cannot help.
        public static let badData = Kind(base: .badData)
        /// The server refuses the command itself (permissions, missing or conflicting schema): retry later.
        public static let refused = Kind(base: .refused)
        /// Conflicts and exhausted resources (serialization, deadlock, disk full, shutdown): retry.
        public static let transient = Kind(base: .transient)
        public var description: String { base.rawValue }
    }

    public var kind: Kind
    /// The five-character SQLSTATE, e.g. `28P01` (wrong password), `23514` (check violation).
    public var sqlState: String?
    /// The server's (or libpq's) primary message.
    public var message: String
    public var detail: String?
    public var hint: String?
    /// What an operator should do about it.
    public var advice: String

    public init(kind: Kind, sqlState: String? = nil, message: String, detail: String? = nil, hint: String? = nil, advice: String) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
        self.advice = advice
    }

    public var description: String {
        let state = sqlState.map { " [SQLSTATE \($0)]" } ?? ""
        return "\(advice)\(state): \(message)"
    }

    /// Classifies a failed command by its SQLSTATE.
    static func server(sqlState: String?, message: String, detail: String?, hint: String?, connectionBroken: Bool) -> PostgresError {
        if connectionBroken {
            return PostgresError(kind: .connectionLost, sqlState: sqlState, message: message, detail: detail, hint: hint,
                                 advice: "the connection to PostgreSQL broke during a command; it is retried")
        }
        let kind: Kind
        let advice: String
        switch sqlState.map({ String($0.prefix(2)) }) {
        case "22", "23":
            kind = .badData
            advice = "PostgreSQL rejected a value; the row is set aside with this error"
        case "28":
            kind = .authentication
            advice = "PostgreSQL refused the credentials; fix the user or password (connection string, PGPASSWORD or ~/.pgpass)"
        case "40", "53", "55", "57", "58", "08":
            kind = .transient
            advice = "PostgreSQL cannot take the command now (conflict, shutdown or no resources); it is retried"
        case "42":
            kind = .refused
            advice = "PostgreSQL refused the command: the schema is missing or differs, or the user lacks privileges on it"
        case "3D":
            kind = .refused
            advice = "the database does not exist; create it or fix dbname in the connection string"
        default:
            kind = .refused
            advice = "PostgreSQL refused the command"
        }
        return PostgresError(kind: kind, sqlState: sqlState, message: message, detail: detail, hint: hint, advice: advice)
    }

    /// Classifies a failed connection attempt; libpq has no SQLSTATE for these, so it looks at what was tried.
    static func connect(message: String, usedPassword: Bool, neededPassword: Bool, target: String) -> PostgresError {
        let lowered = message.lowercased()
        if neededPassword {
            return PostgresError(kind: .authentication, message: message,
                                 advice: "PostgreSQL at \(target) asks for a password and none was given; set password in the connection string, PGPASSWORD or ~/.pgpass")
        }
        if lowered.contains("password authentication failed") || lowered.contains("authentication failed")
            || (usedPassword && lowered.contains("fatal")) {
            return PostgresError(kind: .authentication, sqlState: "28P01", message: message,
                                 advice: "PostgreSQL at \(target) refused the password; fix the user or password (connection string, PGPASSWORD or ~/.pgpass)")
        }
        if lowered.contains("does not exist") {
            return PostgresError(kind: .refused, message: message,
                                 advice: "PostgreSQL at \(target) has no such database or role; create it or fix the connection string")
        }
        return PostgresError(kind: .cannotConnect, message: message,
                             advice: "cannot connect to PostgreSQL at \(target); is the server running and is host/port (or PGHOST/PGPORT) right?")
    }
}
