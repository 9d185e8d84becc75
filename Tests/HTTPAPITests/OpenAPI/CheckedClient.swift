import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TestSupport

/// The test client every HTTP test gets (`TestDaemon.with`): each answer is checked against docs/openapi.yaml
/// as it arrives, and whatever the document does not describe is an issue of the test that got the answer.
/// So every answer the suite produces is validated, and the document cannot drift from the code unseen.
struct CheckedClient: TestClientProtocol {
    let inner: any TestClientProtocol

    var port: Int? { inner.port }

    func executeRequest(uri: String, method: HTTPRequest.Method, headers: HTTPFields, body: ByteBuffer?) async throws -> TestResponse {
        let response = try await inner.executeRequest(uri: uri, method: method, headers: headers, body: body)
        OpenAPIConformance.check(
            method: method.rawValue, uri: uri, status: Int(response.status.code), contentType: response.headers[.contentType],
            body: Array(response.body.readableBytesView))
        return response
    }
}
