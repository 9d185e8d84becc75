// swift-tools-version: 6.2
import PackageDescription

// Dependencies only point down: CallTrackCore (pure domain) <- AMI (pure protocol) <-
// adapters (AMIClient, Store, PostgresSink, HTTPAPI) <- CallTrackApp (wiring) <- calltrackd.
let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "calltrackd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "calltrackd", targets: ["calltrackd"]),
        .executable(name: "calltrackd-bench", targets: ["Benchmarks"]),
        .executable(name: "calltrackd-fuzz", targets: ["Fuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: ["YAML"]),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        // The webhook destinations' HTTP(S) client (WebhookSender only): pooled connections, TLS per endpoint, deadlines.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // To read docs/openapi.yaml in tests and a config file's keys; already in the graph as swift-configuration's YAML reader.
        .package(url: "https://github.com/jpsim/Yams", "5.4.0"..<"7.0.0"),
    ],
    targets: [
        // A cache prefetch hint for the allocator (Swift has none): one inline C function, no I/O.
        .target(name: "CPrefetch"),
        // Pure domain: numbers, pools, leases, sessions, sources, matching. No I/O, clock passed in.
        .target(
            name: "CallTrackCore",
            dependencies: [
                "CPrefetch",
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: strict
        ),
        // Pure AMI protocol: messages, codec with caps, client state machine, call assembler.
        .target(
            name: "AMI",
            dependencies: [
                "CallTrackCore",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // Pure FastAGI protocol: the agi_* environment, a capped line reader, the session state machine.
        .target(
            name: "AGI",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strict
        ),
        // SwiftNIO adapter: the FastAGI server the dialplan asks for a route, run as a Service.
        .target(
            name: "FastAGI",
            dependencies: [
                "AGI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // SwiftNIO adapter: the TCP connection to Asterisk, run as a Service.
        .target(
            name: "AMIClient",
            dependencies: [
                "AMI", "CallTrackCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // SQLite (GRDB) state store: sessions, leases, visitors, outbox. Append-only migrations.
        .target(
            name: "Store",
            dependencies: [
                "CallTrackCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                // The C API, for binding the hot path's statement values directly (StatementBinder).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                // Only to resume each committed writer on the event loop it waited on (GroupCommitter).
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // Lead destinations and the delivery loop that feeds each from the delivery log at its own pace. Neither
        // SQLite nor PostgreSQL: it reads the state through CallTrackCore's store protocols.
        .target(
            name: "Destinations",
            dependencies: [
                "CallTrackCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // Pure webhook logic: payload encoding, HMAC-SHA256 signing, the retry schedule and dead-letter decisions,
        // endpoint settings. No I/O; the clock and the random source are passed in.
        .target(
            name: "Webhooks",
            dependencies: [
                "CallTrackCore", "Destinations",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // The HTTP destinations' shared client (async-http-client): a connection pool and trust roots per destination,
        // POST and a 2xx-or-why answer; used by the webhook and GA4 senders.
        .target(
            name: "DestinationHTTP",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // HTTP adapter: each webhook endpoint as a lead destination, posting through async-http-client.
        .target(
            name: "WebhookSender",
            dependencies: [
                "CallTrackCore", "Destinations", "Webhooks", "DestinationHTTP",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // Pure web-analytics logic: which conversion events a lead earns for a GA4 property, the Measurement Protocol
        // payload and its rules (event names, the 72-hour backdating limit). No I/O; the time is passed in.
        .target(
            name: "Analytics",
            dependencies: ["CallTrackCore", "Destinations"],
            swiftSettings: strict
        ),
        // HTTP adapter: each GA4 property as a lead destination, posting Measurement Protocol events.
        .target(
            name: "AnalyticsSender",
            dependencies: [
                "CallTrackCore", "Destinations", "Analytics", "DestinationHTTP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        // The system libpq, for the PostgreSQL lead sink.
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // The system zlib, to serve the snippet gzip-compressed.
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // PostgreSQL through libpq: schema, upsert, NOTIFY; the PostgreSQL lead destination.
        .target(
            name: "PostgresSink",
            dependencies: [
                "CallTrackCore", "CLibPQ", "Destinations",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // HTTP adapter: public API, admin API, snippet, metrics.
        .target(
            name: "HTTPAPI",
            dependencies: [
                "CallTrackCore", "CZlib",
                // SHA-256 of the admin API's tokens: only digests are kept.
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                // HTTPS served directly, with certificates reloaded on SIGHUP (TLS/).
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            // Snippet/ct.js is the minified build of SnippetSource/ct.js (scripts/build-snippet).
            exclude: ["SnippetSource"],
            resources: [.copy("Snippet")],
            swiftSettings: strict
        ),
        // Wiring: config -> services. Used by the executable and by tests.
        .target(
            name: "CallTrackApp",
            dependencies: [
                "CallTrackCore", "AMI", "AMIClient", "Store", "Destinations", "PostgresSink", "HTTPAPI", "AGI", "FastAGI",
                "Webhooks", "WebhookSender", "Analytics", "AnalyticsSender", "DestinationHTTP",
                .product(name: "Configuration", package: "swift-configuration"),
                // To list the keys a config file sets, so a mistyped key is an error (UnknownKeys).
                .product(name: "Yams", package: "Yams"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // SIGHUP reloads the TLS certificate (TLSReloader).
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "calltrackd",
            dependencies: [
                "CallTrackApp", "CallTrackCore", "HTTPAPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // The network parsers under libFuzzer (`scripts/fuzz`); built plainly, it replays saved inputs (the suite does).
        .executableTarget(
            name: "Fuzz",
            dependencies: ["AMI", "AGI", "CallTrackCore", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strict
        ),
        // Release-mode benchmarks: `swift run -c release calltrackd-bench --help`.
        .executableTarget(
            name: "Benchmarks",
            dependencies: [
                "CallTrackCore", "AMI", "Store", "Destinations", "PostgresSink", "CallTrackApp", "HTTPAPI", "TestSupport", "AGI", "FastAGI",
                "Webhooks", "WebhookSender",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // Test helpers: manual clock, fixtures, fake Asterisk over TCP, throwaway PostgreSQL, daemon process.
        .target(
            name: "TestSupport",
            dependencies: [
                "CallTrackCore", "AMI",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                // Reads docs/openapi.yaml to check every answer the tests get against it.
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: strict
        ),
        .testTarget(name: "CallTrackCoreTests", dependencies: ["CallTrackCore", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "RoutingTests",
            dependencies: ["AGI", "FastAGI", "CallTrackApp", "CallTrackCore", "TestSupport",
                           .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")],
            swiftSettings: strict),
        .testTarget(name: "AMITests", dependencies: ["AMI", "AMIClient", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "StoreTests",
            dependencies: ["Store", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")], swiftSettings: strict),
        .testTarget(name: "PostgresSinkTests", dependencies: ["PostgresSink", "Destinations", "Store", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "HTTPAPITests",
            dependencies: [
                "HTTPAPI", "CallTrackApp", "CallTrackCore", "Store", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                // Counted values (RecordingMetrics through withMetricsFactory).
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "WebhookTests",
            dependencies: [
                "Webhooks", "WebhookSender", "Destinations", "CallTrackApp", "CallTrackCore", "Store", "TestSupport",
                // The receiving end: a real HTTPS server made in the test.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "AnalyticsTests",
            dependencies: [
                "Analytics", "AnalyticsSender", "DestinationHTTP", "Destinations", "CallTrackApp", "CallTrackCore", "Store", "TestSupport",
                // The receiving end: a plain HTTP server on loopback playing GA4's collect endpoint.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "DaemonTests",
            dependencies: [
                "CallTrackApp", "CallTrackCore", "AMI", "AMIClient", "Store", "Destinations", "PostgresSink", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                // Where the lead path's SQLite statements run: traced on each connection, checked against the event loops.
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOPosix", package: "swift-nio"),
                // The snippet's browser tests: a static page server and a loopback HTTP client for chromedriver.
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
    ]
)
