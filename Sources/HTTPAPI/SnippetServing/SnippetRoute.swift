import Foundation
import Hummingbird
import NIOCore

/// `GET /ct.js`: the snippet, from the module's resources, with an ETag so browsers revalidate cheaply.
struct SnippetRoute {
    let body: ByteBuffer
    /// The same bytes gzip-compressed, for browsers that accept it (all do).
    let gzipped: ByteBuffer?
    let etag: String

    init() {
        let url = Bundle.module.url(forResource: "ct", withExtension: "js", subdirectory: "Snippet")
        let bytes = url.flatMap { try? Data(contentsOf: $0) } ?? Data("/* calltrackd: snippet missing from the build */".utf8)
        body = ByteBuffer(bytes: bytes)
        gzipped = Gzip.compress(Array(bytes)).map { ByteBuffer(bytes: $0) }
        etag = "\"\(Self.fingerprint(bytes))\""
    }

    func register(on router: Router<APIContext>) {
        router.get("/ct.js") { request, _ in respond(to: request) }
    }

    func respond(to request: Request) -> Response {
        var headers: HTTPFields = [
            .contentType: "application/javascript; charset=utf-8",
            // Short max-age: a new daemon version reaches pages within minutes; the ETag makes revalidation free.
            .cacheControl: "public, max-age=300",
            .eTag: etag,
            .accessControlAllowOrigin: "*",
            .vary: "Accept-Encoding",
        ]
        let gzip = gzipped != nil && (request.headers[.acceptEncoding]?.contains("gzip") ?? false)
        // One ETag per representation: a cache must not answer a gzip request with plain bytes or back.
        let tag = gzip ? etag.dropLast() + "-gz\"" : etag[...]
        headers[.eTag] = String(tag)
        if request.headers[.ifNoneMatch] == String(tag) {
            headers[.contentType] = nil
            return Response(status: .notModified, headers: headers)
        }
        if gzip, let gzipped {
            headers[.contentEncoding] = "gzip"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: gzipped))
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }

    /// FNV-1a 64: stable across runs and platforms, enough to tell versions of one file apart.
    static func fingerprint(_ bytes: Data) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(hash, radix: 16)
    }
}
