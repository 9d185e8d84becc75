import Logging
import PostgresSink
import Testing
import TestSupport

@Suite(.postgresCluster)
struct PostgresConnectionTests {
    @Test func parametersRoundTripWithNullsAndWithoutNULBytes() async throws {
        let pg = try Scratch().connection()
        let rows = try await pg.query("SELECT $1::text AS a, $2::text AS b, $3::int + 1 AS c", ["a\u{0}b", nil, "41"])
        #expect(rows.columns == ["a", "b", "c"])
        #expect(rows.rows == [["ab", nil, "42"]])
    }

    @Test func serverErrorsCarrySQLStateAndAKind() async throws {
        let pg = try Scratch().connection()
        await #expect {
            try await pg.query("SELECT 1 / $1::int", ["0"])
        } throws: { error in
            let error = error as? PostgresError
            return error?.sqlState == "22012" && error?.kind == .badData
        }
        await #expect {
            try await pg.query("SELECT * FROM no_such_table")
        } throws: { error in
            let error = error as? PostgresError
            return error?.sqlState == "42P01" && error?.kind == .refused && error?.description.contains("schema") == true
        }
        // The connection is still usable after a failed command.
        #expect(try await pg.query("SELECT 7").scalar() == "7")
    }

    @Test func wrongPasswordSaysWhatToFix() async throws {
        let pg = try Scratch().connection(password: "not-the-password")
        await #expect {
            try await pg.query("SELECT 1")
        } throws: { error in
            guard let error = error as? PostgresError else { return false }
            return error.kind == .authentication && error.description.contains("password") && error.description.contains("pgpass")
        }
    }

    @Test func unreachableServerSaysWhereItLooked() async throws {
        let pg = PostgresConnection("host=/tmp/ctpg-nowhere port=5999 user=x connect_timeout=2", logger: Logger(label: "test"))
        await #expect {
            try await pg.query("SELECT 1")
        } throws: { error in
            guard let error = error as? PostgresError else { return false }
            return error.kind == .cannotConnect && error.description.contains("5999")
        }
    }

    @Test func anIdleConnectionTheServerDroppedIsReplacedBeforeTheNextCommand() async throws {
        let scratch = try Scratch()
        let pg = scratch.connection(), admin = scratch.connection()
        let pid = try #require(try await pg.query("SELECT pg_backend_pid()").scalar())
        try await admin.query("SELECT pg_terminate_backend($1::int, 5000)", [pid])
        let newPID = try await pg.query("SELECT pg_backend_pid()").scalar()
        #expect(newPID != nil && newPID != pid)
    }

    @Test func aListenerKeepsListeningAcrossAReconnect() async throws {
        let scratch = try Scratch()
        let listener = scratch.connection(), admin = scratch.connection()
        try await listener.listen(scratch.schema.channel)
        let pid = try #require(try await listener.query("SELECT pg_backend_pid()").scalar())
        try await admin.query("SELECT pg_terminate_backend($1::int, 5000)", [pid])
        // The next command runs on a new connection, which LISTENs again before it.
        #expect(try await listener.query("SELECT pg_backend_pid()").scalar() != pid)
        let heard = Task { try await collect(listener, count: 1) }
        try await admin.query("SELECT pg_notify($1, 'after')", [scratch.schema.channel])
        #expect(try await heard.value.map(\.payload) == ["after"])
    }

    @Test func listenerReceivesNotifications() async throws {
        let scratch = try Scratch()
        let listener = scratch.connection(), sender = scratch.connection()
        try await listener.listen(scratch.schema.channel)
        async let received = collect(listener, count: 3)
        for payload in ["a", "b", "c"] {
            try await sender.query("SELECT pg_notify($1, $2)", [scratch.schema.channel, payload])
        }
        #expect(try await received.map(\.payload) == ["a", "b", "c"])
        #expect(try await received.allSatisfy { $0.channel == scratch.schema.channel })
    }
}
