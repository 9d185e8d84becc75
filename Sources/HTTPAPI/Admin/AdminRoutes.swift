import CallTrackCore
import Foundation
import Hummingbird

/// `/v1/admin/…`: sites, pools and numbers changed without a restart. Every change is applied to the
/// lease book, then stored (marked as an admin change, which outranks the config file at the next start);
/// if the store refuses, the book is put back and the answer is 503.
struct AdminRoutes {
    let desk: SessionDesk
    let settings: APISettings
    let country: Country
    let ledger: (any IdentityBook & PersonalDataStore)?
    let leads: (any LeadSource)?
    let statistics: (any PoolHistory)?
    let dealerStats: (any DealerStatsSource)?
    let dealers: (any DealerDirectory)?
    let money: (any MoneySource)?
    let webhookReplays: (any WebhookReplays)?

    /// `?limit=`: 1 to 1000, 50 when absent; anything else is a 400 that says what to write.
    static func limit(_ request: Request) throws -> Int {
        guard let text = request.uri.queryParameters["limit"] else { return 50 }
        guard let limit = Int(text), (1...1000).contains(limit) else {
            throw APIError(.badRequest, "limit: '\(text)' is not a whole number from 1 to 1000")
        }
        return limit
    }

    func register(on router: Router<APIContext>) {
        let admin = router.group("/v1/admin").add(middleware: AdminAuth(tokens: settings.acceptedTokens))
        if let statistics { StatsRoutes(desk: desk, statistics: statistics).register(on: admin) }
        if let dealerStats { DealerStatsRoute(source: dealerStats, clock: desk.clock).register(on: admin) }
        if let dealers { DealerRoutes(directory: dealers, maxBodyBytes: settings.maxBodyBytes * 16).register(on: admin) }
        ExportRoutes(leads: leads).register(on: admin)
        OutcomeRoutes(leads: leads, clock: desk.clock, maxBodyBytes: settings.maxBodyBytes).register(on: admin)
        if let money { MoneyRoutes(source: money, maxBodyBytes: max(settings.maxBodyBytes * 256, 4 << 20)).register(on: admin) }
        if let webhookReplays { WebhookReplayRoute(replays: webhookReplays, clock: desk.clock).register(on: admin) }
        admin.get("/sites") { _, _ in try jsonResponse(desk.book.allSites.map(SiteDefinition.init)) }
        admin.get("/sites/{site}") { _, context in
            try jsonResponse(SiteDefinition(try site(context.parameters.decoded("site"))))
        }
        admin.put("/sites/{site}") { request, context in
            var definition = try await decodeBody(SiteDefinition.self, from: request, limit: settings.maxBodyBytes * 64)
            definition.id = try context.parameters.decoded("site")
            let new = try resolve { () throws(DefinitionError) in try definition.resolve(country: country, keyPrefix: "site") }
            return try await change(from: desk.book.site(definition.id), to: new)
        }
        admin.delete("/sites/{site}") { _, context in
            let old = try site(context.parameters.decoded("site"))
            do {
                try await desk.store.apply([.siteRetired(old)])
            } catch {
                throw APIError(.serviceUnavailable, "the retirement was not stored (\(error)); nothing changed, try again")
            }
            desk.book.remove(site: old.id)
            desk.logger.notice("site retired through the admin API", metadata: ["site": "\(old.id)"])
            return Response(status: .noContent)
        }
        admin.get("/calls") { request, _ in
            let limit = try Self.limit(request)
            return try jsonResponse(try await desk.store.recentCalls(limit: limit).map(CallView.init))
        }
        admin.get("/leads") { request, _ in
            guard let leads else { throw APIError(.notFound, "leads are not kept by this daemon") }
            let limit = try Self.limit(request)
            return try await Self.list(leads, limit: limit)
        }
        admin.get("/pools") { _, _ in
            try jsonResponse(desk.book.snapshot(at: desk.clock.now()).map(PoolStatus.init))
        }
        admin.put("/sites/{site}/pools/{pool}") { request, context in
            var definition = try await decodeBody(PoolDefinition.self, from: request, limit: settings.maxBodyBytes * 64)
            definition.id = try context.parameters.decoded("pool")
            let pool = try resolve { () throws(DefinitionError) in try definition.resolve(country: country, keyPrefix: "pool") }
            let old = try site(context.parameters.decoded("site"))
            var new = old
            if let index = new.pools.firstIndex(where: { $0.id == pool.id }) { new.pools[index] = pool } else { new.pools.append(pool) }
            return try await change(from: old, to: new)
        }
        admin.delete("/sites/{site}/pools/{pool}") { _, context in
            let old = try site(context.parameters.decoded("site"))
            let poolID = try context.parameters.decoded("pool")
            guard old.pools.contains(where: { $0.id == poolID }) else { throw APIError(.notFound, "site '\(old.id)' has no pool '\(poolID)'") }
            var new = old
            new.pools.removeAll { $0.id == poolID }
            return try await change(from: old, to: new)
        }
        admin.post("/pools/{pool}/numbers") { request, context in
            struct Body: Decodable { var number: String }
            let body = try await decodeBody(Body.self, from: request, limit: settings.maxBodyBytes)
            let number = try resolve { () throws(DefinitionError) in try DefinitionError.number(body.number, key: "number", country: country) }
            let (old, index) = try owner(ofPool: context.parameters.decoded("pool"))
            var new = old
            if !new.pools[index].numbers.contains(number) { new.pools[index].numbers.append(number) }
            return try await change(from: old, to: new)
        }
        admin.delete("/pools/{pool}/numbers/{number}") { _, context in
            let raw = try context.parameters.decoded("number")
            let number = try resolve { () throws(DefinitionError) in try DefinitionError.number(raw, key: "number", country: country) }
            let (old, index) = try owner(ofPool: context.parameters.decoded("pool"))
            guard old.pools[index].numbers.contains(number) else {
                throw APIError(.notFound, "pool '\(old.pools[index].id)' has no number \(number)")
            }
            var new = old
            new.pools[index].numbers.removeAll { $0 == number }
            return try await change(from: old, to: new)
        }
        registerIdentity(on: admin)
        registerPeople(on: admin)
    }

    private static func list<Source: LeadSource>(_ source: Source, limit: Int) async throws -> Response {
        let leads: [Source.Lead]
        do { leads = try await source.leads(limit: limit) } catch {
            throw APIError(.serviceUnavailable, "the leads cannot be read now (\(error)); try again")
        }
        return try jsonResponse(leads)
    }

    private func change(from old: Site?, to new: Site) async throws -> Response {
        do {
            try desk.book.upsert(new)
        } catch {
            throw APIError(.conflict, "\(error): a number belongs to at most one pool; retire it there first")
        }
        do {
            try await desk.store.apply([.site(new, fromAdmin: true)])
        } catch {
            if let old { try? desk.book.upsert(old) }
            throw APIError(.serviceUnavailable, "the change was not stored (\(error)); nothing changed, try again")
        }
        desk.logger.notice("site changed through the admin API", metadata: ["site": "\(new.id)"])
        return try jsonResponse(SiteDefinition(desk.book.site(new.id) ?? new))
    }

    private func site(_ id: String) throws -> Site {
        guard let site = desk.book.site(id) else { throw APIError(.notFound, "unknown site '\(id)'") }
        return site
    }

    private func owner(ofPool poolID: String) throws -> (Site, Int) {
        for site in desk.book.allSites {
            if let index = site.pools.firstIndex(where: { $0.id == poolID }) { return (site, index) }
        }
        throw APIError(.notFound, "unknown pool '\(poolID)'")
    }

    private func resolve<T>(_ body: () throws(DefinitionError) -> T) throws -> T {
        do { return try body() } catch { throw APIError(.badRequest, error.description) }
    }
}

/// A call as ops see it in `GET /v1/admin/calls`.
struct CallView: Encodable {
    var id: String
    var tracking_number: String
    var caller: String
    var caller_withheld: Bool
    var caller_name: String?
    var started_at: String
    var answered_at: String?
    var ended_at: String?
    var answered_by: String?
    var disposition: String?
    var talk_seconds: Double?
    var resumed: Bool
    var ended_while_disconnected: Bool

    init(_ call: CallRecord) {
        id = call.id
        tracking_number = call.trackingNumber?.e164 ?? call.dialled
        caller = call.caller?.e164 ?? call.callerRaw
        caller_withheld = call.callerWithheld
        caller_name = call.callerName
        started_at = APITime.format(call.startedAt)
        answered_at = call.answeredAt.map(APITime.format)
        ended_at = call.endedAt.map(APITime.format)
        answered_by = call.answeredBy
        disposition = call.disposition
        talk_seconds = call.talkSeconds
        resumed = call.resumed
        ended_while_disconnected = call.endedWhileDisconnected
    }
}

/// A pool as ops see it in `GET /v1/admin/pools`.
struct PoolStatus: Encodable {
    var site_id: String
    var pool_id: String
    var size: Int
    var live: Int
    var free: Int

    init(_ snapshot: LeaseBook.PoolSnapshot) {
        (site_id, pool_id, size, live, free) = (snapshot.siteID, snapshot.poolID, snapshot.size, snapshot.live, snapshot.free)
    }
}
