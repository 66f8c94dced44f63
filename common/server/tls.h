// Transport security for every listener and every peer channel: the TLS
// flags, the checks made at start-up, gRPC server and channel credentials
// that re-read renewed certificate files without a restart, and an HTTPS
// server for the HTTP port that does the same. Thread-safe after start-up.
#ifndef MARKET_COMMON_SERVER_TLS_H_
#define MARKET_COMMON_SERVER_TLS_H_

#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"

namespace httplib {
class Server;
}

namespace market::server {

struct TlsOptions {
  std::string cert_file;       // PEM certificate (chain) of this process; "" = plaintext
  std::string key_file;        // PEM private key; mode 0600 or stricter
  std::string client_ca_file;  // PEM CA(s): require and verify client certificates (mTLS)
  std::string peer_ca_file;    // PEM CA(s) trusted for peer channels; "" = plaintext peers
  // Seconds between checks of the files for a renewed certificate or key.
  unsigned reload_seconds = 10;

  bool enabled() const { return !cert_file.empty() || !key_file.empty(); }
};

// Adds --tls-cert, --tls-key, --tls-client-ca ($MARKET_TLS_CERT, …) to `app`,
// and --peer-ca ($MARKET_PEER_CA) when `with_peers`.
void AddTlsFlags(CLI::App& app, TlsOptions* options, bool with_peers);

// The start-up checks: cert and key given together, each file readable and
// PEM (a certificate, a private key), the key matching the certificate and
// not readable by group or others (mode & 077), the CA files holding
// certificates. INVALID_ARGUMENT naming the flag, or FAILED_PRECONDITION for
// the key's mode.
absl::Status CheckTlsOptions(const TlsOptions& options);

// Credentials for the gRPC listener: TLS with the certificate and key files
// (re-read every reload_seconds), mTLS when client_ca_file is set, otherwise
// plaintext. Call after CheckTlsOptions.
std::shared_ptr<grpc::ServerCredentials> ServerCredentials(const TlsOptions& options);

// Credentials for a channel to a peer service: TLS trusting peer_ca_file and
// verifying the server's name, presenting cert_file/key_file as the client
// certificate when set (re-read as on the server); plaintext without
// peer_ca_file.
std::shared_ptr<grpc::ChannelCredentials> PeerCredentials(const TlsOptions& options);

// The HTTP port's server: httplib::SSLServer with the same certificate and key
// (re-read on the first handshake after either file changes) when TLS is on,
// else a plaintext httplib::Server. INVALID_ARGUMENT when the files cannot be
// loaded. The HTTP port does not ask for client certificates (probes and
// scrapers).
absl::StatusOr<std::unique_ptr<httplib::Server>> MakeHttpServer(const TlsOptions& options);

// Whether `host` (from HOST:PORT; "unix:…" counts) is reachable only from this
// machine: localhost, 127.0.0.0/8, ::1 or a Unix socket.
bool IsLoopbackAddress(const std::string& hostport);

// The text of the PEM certificate file `path`; INVALID_ARGUMENT naming `flag`
// when it cannot be read or holds no PEM certificate.
absl::StatusOr<std::string> ReadCertificateFile(const std::string& flag, const std::string& path);

// The text of the PEM private key file `path` that belongs to the first
// certificate in `cert_pem`; INVALID_ARGUMENT naming `flag` when unreadable,
// not a PEM key or not the certificate's, FAILED_PRECONDITION when group or
// others may read it.
absl::StatusOr<std::string> ReadPrivateKeyFile(const std::string& flag, const std::string& path,
                                               const std::string& cert_pem);

// The serial number of the first certificate in `pem`, as upper-case hex;
// "" when `pem` holds no certificate.
std::string CertificateSerialHex(const std::string& pem);

}  // namespace market::server

#endif  // MARKET_COMMON_SERVER_TLS_H_
