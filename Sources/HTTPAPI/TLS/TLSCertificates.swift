import Logging
import NIOPosix
import NIOSSL
import Synchronization

/// The certificate and key HTTPS is served with (`http.tls.cert`, `http.tls.key`, PEM files), read again on
/// SIGHUP: connections opened after a reload get the new certificate, open ones keep theirs (nothing is dropped).
/// A reload that cannot read the files keeps the certificate in use and says why.
public final class TLSCertificates: Sendable {
    public let certificatePath: String
    public let keyPath: String
    private let context: Mutex<NIOSSLContext>

    public struct Unreadable: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads both files now: a daemon configured for HTTPS never starts without a certificate it can serve.
    public init(certificatePath: String, keyPath: String) throws(Unreadable) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        context = Mutex(try Self.load(certificatePath: certificatePath, keyPath: keyPath))
    }

    /// The context new connections get.
    var current: NIOSSLContext { context.withLock { $0 } }

    /// Reads the files again, off the event loops; keeps the old certificate when they cannot be read.
    public func reload(logger: Logger) async {
        let (certificatePath, keyPath) = (self.certificatePath, self.keyPath)
        do {
            let fresh = try await NIOThreadPool.singleton.runIfActive {
                try Self.load(certificatePath: certificatePath, keyPath: keyPath)
            }
            context.withLock { $0 = fresh }
            logger.notice("TLS certificate reloaded: new connections get it", metadata: ["http.tls.cert": "\(certificatePath)"])
        } catch {
            logger.error("TLS certificate not reloaded: the one in use stays", metadata: [
                "http.tls.cert": "\(certificatePath)", "error": "\(error)",
            ])
        }
    }

    static func load(certificatePath: String, keyPath: String) throws(Unreadable) -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
        } catch {
            throw Unreadable(description: "cannot read the certificate http.tls.cert = \(certificatePath) (\(error)): write the path of a PEM file with the certificate and its chain")
        }
        guard !chain.isEmpty else {
            throw Unreadable(description: "no certificate in http.tls.cert = \(certificatePath): write the path of a PEM file with the certificate and its chain")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        } catch {
            throw Unreadable(description: "cannot read the private key http.tls.key = \(keyPath) (\(error)): write the path of its PEM file, readable by the daemon's user")
        }
        do {
            return try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key)))
        } catch {
            throw Unreadable(description: "http.tls.cert and http.tls.key do not make a usable pair (\(error)): check that the key belongs to the certificate")
        }
    }
}
