#include "common/server/tls.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <mutex>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/config/files.h"
#include "common/server/log.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "httplib.h"

namespace market::server {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::unique_ptr<BIO, BioFree> MemBio(const std::string& pem) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// Every certificate in `pem`, in order (none when it holds no PEM certificate).
std::vector<X509Ptr> ParseCertificates(const std::string& pem) {
  std::vector<X509Ptr> out;
  auto bio = MemBio(pem);
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(x);
  ERR_clear_error();  // the end of the input reads as an error
  return out;
}

PkeyPtr ParsePrivateKey(const std::string& pem) {
  auto bio = MemBio(pem);
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  return key;
}

absl::StatusOr<std::vector<X509Ptr>> LoadCertificates(const std::string& flag,
                                                      const std::string& path) {
  auto pem = config::ReadFile(path);
  if (!pem.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": cannot read ", path, ": ",
                                                   pem.status().message()));
  }
  std::vector<X509Ptr> certs = ParseCertificates(*pem);
  if (certs.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": ", path, " holds no PEM certificate (-----BEGIN CERTIFICATE-----)"));
  }
  return certs;
}

// The key file's permission check: a private key others can read is no longer private.
absl::Status CheckKeyMode(const std::string& flag, const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": cannot read ", path));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s: %s is readable by group or others (mode %04o); run: chmod 600 %s",
                        flag, path, st.st_mode & 07777, path));
  }
  return absl::OkStatus();
}

// The private key in `key_pem` (from `path`) when it belongs to `cert`.
absl::StatusOr<PkeyPtr> KeyOfCertificate(const std::string& flag, const std::string& path,
                                         const std::string& key_pem, X509* cert) {
  PkeyPtr key = ParsePrivateKey(key_pem);
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": ", path, " holds no PEM private key"));
  }
  if (X509_check_private_key(cert, key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": ", path, " is not the private key of the certificate"));
  }
  return key;
}

// The certificate chain and key of the HTTPS port, re-read when either file
// changes (compared by inode, size and modification time at each handshake).
class CertReloader {
 public:
  CertReloader(std::string cert_file, std::string key_file)
      : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)) {}
  ~CertReloader() { FreeChain(); }

  absl::Status Load() {
    std::lock_guard<std::mutex> lock(mu_);
    return LoadLocked();
  }

  // SSL_CTX_set_cert_cb: installs the current certificate on `ssl`.
  static int CertCallback(SSL* ssl, void* arg) {
    auto* self = static_cast<CertReloader*>(arg);
    std::lock_guard<std::mutex> lock(self->mu_);
    if (self->Stamp() != self->stamp_) {
      if (absl::Status s = self->LoadLocked(); !s.ok()) {
        LogJson("warn", "TLS certificate not reloaded; keeping the previous one",
                {{"error", s.ToString()}});
        self->stamp_ = self->Stamp();  // one warning per change
      } else {
        LogJson("info", "TLS certificate reloaded",
                {{"file", self->cert_file_}, {"serial", self->serial_}});
      }
    }
    return SSL_use_cert_and_key(ssl, self->leaf_.get(), self->key_.get(), self->chain_, 1) == 1
               ? 1
               : 0;
  }

 private:
  std::string Stamp() const {
    std::string out;
    for (const std::string* path : {&cert_file_, &key_file_}) {
      struct stat st {};
      if (::stat(path->c_str(), &st) == 0) {
        absl::StrAppend(&out, st.st_ino, ":", st.st_size, ":", st.st_mtim.tv_sec, ".",
                        st.st_mtim.tv_nsec, ";");
      }
    }
    return out;
  }

  void FreeChain() {
    if (chain_ != nullptr) sk_X509_pop_free(chain_, X509_free);
    chain_ = nullptr;
  }

  absl::Status LoadLocked() {
    const std::string stamp = Stamp();
    auto certs = LoadCertificates("--tls-cert", cert_file_);
    if (!certs.ok()) return certs.status();
    auto key_pem = config::ReadFile(key_file_);
    if (!key_pem.ok()) return absl::InvalidArgumentError("--tls-key: cannot read " + key_file_);
    auto key = KeyOfCertificate("--tls-key", key_file_, *key_pem, (*certs)[0].get());
    if (!key.ok()) return key.status();
    FreeChain();
    chain_ = sk_X509_new_null();
    for (size_t i = 1; i < certs->size(); ++i) sk_X509_push(chain_, (*certs)[i].release());
    leaf_ = std::move((*certs)[0]);
    key_ = std::move(*key);
    serial_ = CertificateSerialHex(*config::ReadFile(cert_file_));
    stamp_ = stamp;
    return absl::OkStatus();
  }

  const std::string cert_file_;
  const std::string key_file_;
  std::mutex mu_;
  std::string stamp_;
  std::string serial_;
  X509Ptr leaf_;
  PkeyPtr key_;
  STACK_OF(X509)* chain_ = nullptr;
};

// Holds the reloader so that it is built before, and outlives, the SSL_CTX.
struct ReloaderHolder {
  std::unique_ptr<CertReloader> reloader;
};

class HttpsServer : private ReloaderHolder, public httplib::SSLServer {
 public:
  explicit HttpsServer(std::unique_ptr<CertReloader> reloader)
      : ReloaderHolder{std::move(reloader)},
        httplib::SSLServer([this](SSL_CTX& ctx) {
          SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
          SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION |
                                        SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
          SSL_CTX_set_cert_cb(&ctx, &CertReloader::CertCallback, this->reloader.get());
          return true;
        }) {}
};

}  // namespace

void AddTlsFlags(CLI::App& app, TlsOptions* options, bool with_peers) {
  app.add_option("--tls-cert", options->cert_file,
                 "PEM certificate (chain) to serve gRPC and HTTP over TLS; re-read when the file "
                 "changes ($MARKET_TLS_CERT)")
      ->envname("MARKET_TLS_CERT");
  app.add_option("--tls-key", options->key_file,
                 "PEM private key of --tls-cert, mode 0600 ($MARKET_TLS_KEY)")
      ->envname("MARKET_TLS_KEY");
  app.add_option("--tls-client-ca", options->client_ca_file,
                 "PEM CA certificate(s): require gRPC clients to present a certificate it "
                 "signed (mTLS) ($MARKET_TLS_CLIENT_CA)")
      ->envname("MARKET_TLS_CLIENT_CA");
  app.add_option("--tls-reload-period", options->reload_seconds,
                 "Seconds between checks of the TLS files for a renewed certificate")
      ->check(CLI::Range(1u, 86400u))
      ->capture_default_str();
  if (with_peers) {
    app.add_option("--peer-ca", options->peer_ca_file,
                   "PEM CA certificate(s): call peer services over TLS, verifying their "
                   "certificate and name; --tls-cert is presented as client certificate "
                   "($MARKET_PEER_CA)")
        ->envname("MARKET_PEER_CA");
  }
}

absl::Status CheckTlsOptions(const TlsOptions& options) {
  if (options.cert_file.empty() != options.key_file.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key must be given together");
  }
  if (!options.client_ca_file.empty() && !options.enabled()) {
    return absl::InvalidArgumentError("--tls-client-ca needs --tls-cert and --tls-key");
  }
  if (options.enabled()) {
    if (absl::Status s = CheckKeyMode("--tls-key", options.key_file); !s.ok()) return s;
    CertReloader pair(options.cert_file, options.key_file);
    if (absl::Status s = pair.Load(); !s.ok()) return s;
  }
  if (!options.client_ca_file.empty()) {
    if (auto s = LoadCertificates("--tls-client-ca", options.client_ca_file); !s.ok()) {
      return s.status();
    }
  }
  if (!options.peer_ca_file.empty()) {
    if (auto s = LoadCertificates("--peer-ca", options.peer_ca_file); !s.ok()) return s.status();
  }
  return absl::OkStatus();
}

std::shared_ptr<grpc::ServerCredentials> ServerCredentials(const TlsOptions& options) {
  if (!options.enabled()) return grpc::InsecureServerCredentials();
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      options.key_file, options.cert_file, options.client_ca_file, options.reload_seconds);
  grpc::experimental::TlsServerCredentialsOptions tls(provider);
  tls.watch_identity_key_cert_pairs();
  if (options.client_ca_file.empty()) {
    tls.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  } else {
    tls.watch_root_certs();
    tls.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  return grpc::experimental::TlsServerCredentials(tls);
}

std::shared_ptr<grpc::ChannelCredentials> PeerCredentials(const TlsOptions& options) {
  if (options.peer_ca_file.empty()) return grpc::InsecureChannelCredentials();
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider;
  if (options.enabled()) {
    provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
        options.key_file, options.cert_file, options.peer_ca_file, options.reload_seconds);
  } else {
    provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
        options.peer_ca_file, options.reload_seconds);
  }
  grpc::experimental::TlsChannelCredentialsOptions tls;
  tls.set_certificate_provider(provider);
  tls.watch_root_certs();
  if (options.enabled()) tls.watch_identity_key_cert_pairs();
  tls.set_verify_server_certs(true);
  tls.set_certificate_verifier(std::make_shared<grpc::experimental::HostNameCertificateVerifier>());
  return grpc::experimental::TlsCredentials(tls);
}

absl::StatusOr<std::unique_ptr<httplib::Server>> MakeHttpServer(const TlsOptions& options) {
  if (!options.enabled()) return std::make_unique<httplib::Server>();
  auto reloader = std::make_unique<CertReloader>(options.cert_file, options.key_file);
  if (absl::Status s = reloader->Load(); !s.ok()) return s;
  auto server = std::make_unique<HttpsServer>(std::move(reloader));
  if (!server->is_valid()) return absl::InternalError("cannot set up the HTTPS context");
  return server;
}

bool IsLoopbackAddress(const std::string& hostport) {
  if (absl::StartsWith(hostport, "unix:")) return true;
  std::string host = hostport;
  auto colon = host.rfind(':');
  if (colon != std::string::npos && host.find(']') == std::string::npos &&
      host.find(':') == colon) {
    host = host.substr(0, colon);
  } else if (!host.empty() && host.front() == '[') {
    host = host.substr(1, host.find(']') - 1);
  }
  return host == "localhost" || absl::StartsWith(host, "127.") || host == "::1";
}

absl::StatusOr<std::string> ReadCertificateFile(const std::string& flag, const std::string& path) {
  if (auto certs = LoadCertificates(flag, path); !certs.ok()) return certs.status();
  return config::ReadFile(path);
}

absl::StatusOr<std::string> ReadPrivateKeyFile(const std::string& flag, const std::string& path,
                                               const std::string& cert_pem) {
  if (absl::Status s = CheckKeyMode(flag, path); !s.ok()) return s;
  auto pem = config::ReadFile(path);
  if (!pem.ok()) return absl::InvalidArgumentError(absl::StrCat(flag, ": cannot read ", path));
  std::vector<X509Ptr> certs = ParseCertificates(cert_pem);
  if (certs.empty()) return absl::InvalidArgumentError(absl::StrCat(flag, ": no certificate"));
  if (auto key = KeyOfCertificate(flag, path, *pem, certs[0].get()); !key.ok()) {
    return key.status();
  }
  return pem;
}

std::string CertificateSerialHex(const std::string& pem) {
  std::vector<X509Ptr> certs = ParseCertificates(pem);
  if (certs.empty()) return "";
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(certs[0].get()), nullptr);
  if (bn == nullptr) return "";
  char* hex = BN_bn2hex(bn);
  std::string out = hex != nullptr ? hex : "";
  OPENSSL_free(hex);
  BN_free(bn);
  return out;
}

}  // namespace market::server
