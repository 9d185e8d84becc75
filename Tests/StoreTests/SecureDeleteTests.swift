import Foundation
import GRDB
import Logging
@testable import Store
import Testing
import TestSupport

/// Forgetting and redaction replace values in place; the old bytes must not stay readable in the database file's
/// free space once the WAL is copied into it. (Debian's SQLite zeroes freed space by default; the store asks for it
/// on every connection, so a SQLite built otherwise behaves the same.)
@Suite("Erased values leave the database file")
struct SecureDeleteTests {
    @Test("a value replaced and checkpointed is no longer anywhere in the file's bytes")
    func replacedValueLeavesTheFile() async throws {
        let dir = TemporaryDirectory("secure-delete")
        defer { dir.remove() }
        let path = dir.file("state.sqlite")
        let store = try SQLiteStore(path: path, logger: Logger(label: "test"))
        let secret = "Ivan-Petrov-secret-7f3a-" + String(repeating: "x", count: 200)
        try await store.database.write { db in
            try db.execute(sql: "CREATE TABLE scratch (id INTEGER PRIMARY KEY, name TEXT)")
            for id in 1...20 { try db.execute(sql: "INSERT INTO scratch (id, name) VALUES (?, ?)", arguments: [id, "\(secret)-\(id)"]) }
        }
        try await store.database.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(before.range(of: Data(secret.utf8)) != nil, "the value is in the file before (the check can fail)")

        // One row among others: its old cell becomes free space inside a page that is not rebuilt.
        try await store.database.write { db in try db.execute(sql: "UPDATE scratch SET name = 'gone' WHERE id = 10") }
        try await store.database.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        let after = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(try await store.database.read { db in try Int.fetchOne(db, sql: "PRAGMA secure_delete") } == 1)
        #expect(after.range(of: Data("\(secret)-10".utf8)) == nil, "the replaced value's bytes are still in the file")
        #expect(after.range(of: Data("\(secret)-11".utf8)) != nil, "the other rows are there")
    }
}
