import CallTrackCore
import Foundation
import HTTPAPI
import Logging
import Store

/// The dealers routing uses, changed through the admin API without a restart: a definition is checked as the config
/// file's are, stored (a store that refuses changes nothing), then routing takes it at once. One change at a time,
/// so two concurrent changes never lose each other.
public actor DealerDirectoryDesk: DealerDirectory {
    let routing: RoutingDesk
    let store: any DealerDefinitions
    let country: Country
    let clock: any WallClock
    let logger: Logger
    /// Dealers whose definition came from the admin API (the rest from the config file).
    private var fromAdmin: Set<String>

    public init(routing: RoutingDesk, store: any DealerDefinitions, country: Country, clock: any WallClock, logger: Logger, fromAdmin: Set<String>) {
        self.routing = routing
        self.store = store
        self.country = country
        self.clock = clock
        self.logger = logger
        self.fromAdmin = fromAdmin
    }

    public func dealers() -> [DealerEntry] {
        let busy = routing.busyLines()
        return routing.book.dealers.map { entry($0, busy: busy[$0.id] ?? 0) }
    }

    public func put(_ definition: DealerDefinition) async throws -> DealerEntry {
        let dealer: Dealer
        do { dealer = try definition.resolve(country: country, keyPrefix: "") } catch {
            throw APIError(.badRequest, "\(error.key): \(error.message)")
        }
        var dealers = routing.book.dealers
        if let index = dealers.firstIndex(where: { $0.id == dealer.id }) { dealers[index] = dealer } else { dealers.append(dealer) }
        do {
            try await store.put(id: dealer.id, definition: Self.json(definition), at: clock.now())
        } catch {
            throw APIError(.serviceUnavailable, "the dealer was not stored (\(error)); nothing changed, try again")
        }
        try? routing.replace(dealers: dealers)  // ids are unique: the list was keyed by them
        fromAdmin.insert(dealer.id)
        logger.notice("dealer changed through the admin API", metadata: ["dealer": "\(dealer.id)"])
        return entry(dealer, busy: routing.busyLines()[dealer.id] ?? 0)
    }

    public func retire(_ id: String) async throws -> Bool {
        var dealers = routing.book.dealers
        guard let index = dealers.firstIndex(where: { $0.id == id }) else { return false }
        let retired = dealers.remove(at: index)
        do {
            try await store.retire(id: id, definition: Self.json(DealerDefinition(retired)), at: clock.now())
        } catch {
            throw APIError(.serviceUnavailable, "the retirement was not stored (\(error)); nothing changed, try again")
        }
        try? routing.replace(dealers: dealers)
        fromAdmin.insert(id)
        logger.notice("dealer retired through the admin API", metadata: ["dealer": "\(id)"])
        return true
    }

    private func entry(_ dealer: Dealer, busy: Int) -> DealerEntry {
        DealerEntry(dealer: DealerDefinition(dealer), origin: fromAdmin.contains(dealer.id) ? "admin" : "config",
                    weight_in_use: dealer.weight, busy_lines: busy)
    }

    static func json(_ definition: DealerDefinition) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(definition)) ?? Data("{}".utf8), as: UTF8.self)
    }
}

/// Which dealers routing starts with: the config file's, with the admin API's changes on top (a dealer changed
/// there keeps that change, one retired there stays retired). A stored definition that no longer reads (a time
/// zone this build does not know) is skipped with a warning, and the file's dealer of that id applies.
enum DealerOrigins {
    /// The dealers of the config file settled with the ones the admin API stored in `store`.
    static func settled(config: AppConfig, store: SQLiteStore, logger: Logger) async throws -> [Dealer] {
        settle(configured: config.routing.book.dealers, stored: try await AdminDealers(store: store).all(), country: config.country,
               logger: logger).dealers
    }

    static func settle(
        configured: [Dealer], stored: [StoredDealer], country: Country, logger: Logger
    ) -> (dealers: [Dealer], fromAdmin: Set<String>) {
        var dealers = configured
        var fromAdmin: Set<String> = []
        for entry in stored {
            let index = dealers.firstIndex { $0.id == entry.id }
            if entry.retired {
                if let index { dealers.remove(at: index) }
                fromAdmin.insert(entry.id)
                continue
            }
            let dealer: Dealer
            do {
                var definition = try JSONDecoder().decode(DealerDefinition.self, from: Data(entry.definition.utf8))
                definition.id = entry.id
                dealer = try definition.resolve(country: country, keyPrefix: "")
            } catch {
                logger.warning("a dealer stored by the admin API does not read; the config file's applies", metadata: [
                    "dealer": "\(entry.id)", "error": "\(error)",
                ])
                continue
            }
            if let index { dealers[index] = dealer } else { dealers.append(dealer) }
            fromAdmin.insert(entry.id)
        }
        return (dealers, fromAdmin)
    }
}
