import CallTrackCore
import Hummingbird

/// `/v1/admin/dealers`: list, create or replace (`PUT /v1/admin/dealers/{dealer}`), and retire the dealers routing
/// uses, without a restart. Changes are stored and outrank the config file at the next start.
struct DealerRoutes {
    let directory: any DealerDirectory
    let maxBodyBytes: Int

    func register(on admin: RouterGroup<APIContext>) {
        admin.get("/dealers") { _, _ in try jsonResponse(await directory.dealers()) }
        admin.put("/dealers/{dealer}") { request, context in
            var definition = try await decodeBody(DealerDefinition.self, from: request, limit: maxBodyBytes)
            definition.id = try context.parameters.decoded("dealer")
            return try jsonResponse(try await directory.put(definition))
        }
        admin.delete("/dealers/{dealer}") { _, context in
            let id: String = try context.parameters.decoded("dealer")
            guard try await directory.retire(id) else { throw APIError(.notFound, "unknown dealer '\(id)'") }
            return Response(status: .noContent)
        }
    }
}
