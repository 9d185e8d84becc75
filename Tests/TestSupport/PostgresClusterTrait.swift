import Testing

extension PostgresCluster {
    /// The cluster a `.postgresCluster` suite shares; nil outside one.
    @TaskLocal public static var shared: PostgresCluster?
}

/// Starts one throwaway cluster around a whole suite and removes it afterwards:
/// `@Suite(.postgresCluster) struct LeadTests { … PostgresCluster.shared! … }`.
public struct PostgresClusterScope: SuiteTrait, TestScoping {
    public var isRecursive: Bool { false }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        if PostgresCluster.shared != nil { return try await function() }
        try await PostgresCluster.with { cluster in
            try await PostgresCluster.$shared.withValue(cluster) { try await function() }
        }
    }
}

extension Trait where Self == PostgresClusterScope {
    public static var postgresCluster: Self { PostgresClusterScope() }
}
