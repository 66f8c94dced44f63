// TLS through real servers on loopback, with real certificates made by
// deploy/pki.sh (the OpenSSL command line) in a temporary folder.
#include "common/server/tls.h"

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/config/files.h"
#include "common/server/runner.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"

namespace market::server {
namespace {

using ::testing::HasSubstr;

// Runs deploy/pki.sh with `args`; true on success.
bool Pki(const std::string& args) {
  const char* src = std::getenv("MARKET_SOURCE_DIR");
  std::string cmd = absl::StrCat("bash ", src != nullptr ? src : ".", "/deploy/pki.sh ", args,
                                 " >/dev/null");
  return std::system(cmd.c_str()) == 0;
}

std::string Read(const std::string& path) { return config::ReadFile(path).value_or(""); }

// The outcome of one grpc.health.v1.Health/Check call, and the serial of the
// certificate the server presented (over TLS).
struct CallResult {
  grpc::Status status;
  std::string server_serial;
};

CallResult CheckHealth(std::shared_ptr<grpc::ChannelCredentials> creds, int port,
                       const std::string& host = "127.0.0.1") {
  grpc::ChannelArguments args;
  // A connection of its own: no subchannel shared with earlier channels.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel = grpc::CreateCustomChannel(absl::StrCat(host, ":", port), creds, args);
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1), response;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  CallResult out;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) {
                   std::lock_guard<std::mutex> lock(mu);
                   out.status = s;
                   done = true;
                   cv.notify_all();
                 });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  if (auto auth = ctx.auth_context(); auth != nullptr) {
    auto pem = auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
    if (!pem.empty()) out.server_serial = CertificateSerialHex(std::string(pem[0].data(), pem[0].size()));
  }
  return out;
}

std::shared_ptr<grpc::ChannelCredentials> Ssl(const std::string& ca, const std::string& cert = "",
                                              const std::string& key = "") {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = Read(ca);
  if (!cert.empty()) {
    ssl.pem_cert_chain = Read(cert);
    ssl.pem_private_key = Read(key);
  }
  return grpc::SslCredentials(ssl);
}

// The serial of the certificate served on 127.0.0.1:`port`, read with a
// plain OpenSSL handshake trusting `ca` ("" when the handshake fails).
std::string HandshakeSerial(int port, const std::string& ca) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(ctx, ca.c_str(), nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  BIO* bio = BIO_new_ssl_connect(ctx);
  BIO_set_conn_hostname(bio, absl::StrCat("127.0.0.1:", port).c_str());
  std::string serial;
  if (BIO_do_handshake(bio) == 1) {
    SSL* ssl = nullptr;
    BIO_get_ssl(bio, &ssl);
    if (X509* peer = SSL_get1_peer_certificate(ssl); peer != nullptr) {
      BIO* mem = BIO_new(BIO_s_mem());
      PEM_write_bio_X509(mem, peer);
      char* data = nullptr;
      long n = BIO_get_mem_data(mem, &data);
      serial = CertificateSerialHex(std::string(data, n));
      BIO_free(mem);
      X509_free(peer);
    }
  }
  BIO_free_all(bio);
  SSL_CTX_free(ctx);
  return serial;
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "tls_test_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    ca_ = dir_ + "/pki";
    other_ = dir_ + "/other";
    ASSERT_TRUE(Pki("ca " + ca_));
    ASSERT_TRUE(Pki("server " + ca_ + " marketd --dns localhost --ip 127.0.0.1"));
    ASSERT_TRUE(Pki("client " + ca_ + " svc-credit"));
    ASSERT_TRUE(Pki("ca " + other_));
    ASSERT_TRUE(Pki("client " + other_ + " intruder"));
  }
  void TearDown() override {
    if (runner_ != nullptr) runner_->Shutdown(absl::ZeroDuration());
    std::filesystem::remove_all(dir_);
  }

  TlsOptions ServerTls(bool mtls) const {
    TlsOptions tls;
    tls.cert_file = ca_ + "/marketd.crt";
    tls.key_file = ca_ + "/marketd.key";
    if (mtls) tls.client_ca_file = ca_ + "/ca.crt";
    tls.reload_seconds = 1;
    return tls;
  }
  absl::Status Start(const TlsOptions& tls, const std::string& listen = "127.0.0.1:0") {
    ServerOptions options;
    options.service = "tls-test";
    options.listen = listen;
    options.http_listen = "127.0.0.1:0";
    options.tls = tls;
    runner_ = std::make_unique<ServerRunner>(options, nullptr);
    return runner_->Start();
  }
  int port() const { return runner_->grpc_port(); }

  std::string dir_, ca_, other_;
  std::unique_ptr<ServerRunner> runner_;
};

TEST_F(TlsTest, ClientTrustingTheCaIsServed) {
  ASSERT_TRUE(Start(ServerTls(false)).ok());
  CallResult r = CheckHealth(Ssl(ca_ + "/ca.crt"), port());
  EXPECT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.server_serial, CertificateSerialHex(Read(ca_ + "/marketd.crt")));
}

TEST_F(TlsTest, PlaintextClientIsRefused) {
  ASSERT_TRUE(Start(ServerTls(false)).ok());
  CallResult r = CheckHealth(grpc::InsecureChannelCredentials(), port());
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, ClientTrustingAnotherCaIsRefused) {
  ASSERT_TRUE(Start(ServerTls(false)).ok());
  CallResult r = CheckHealth(Ssl(other_ + "/ca.crt"), port());
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, MutualTlsServesClientWithCertificateFromTheCa) {
  ASSERT_TRUE(Start(ServerTls(true)).ok());
  CallResult r =
      CheckHealth(Ssl(ca_ + "/ca.crt", ca_ + "/svc-credit.crt", ca_ + "/svc-credit.key"), port());
  EXPECT_TRUE(r.status.ok()) << r.status.error_message();
}

TEST_F(TlsTest, MutualTlsRefusesClientWithoutCertificate) {
  ASSERT_TRUE(Start(ServerTls(true)).ok());
  CallResult r = CheckHealth(Ssl(ca_ + "/ca.crt"), port());
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, MutualTlsRefusesClientCertificateFromAnotherCa) {
  ASSERT_TRUE(Start(ServerTls(true)).ok());
  CallResult r =
      CheckHealth(Ssl(ca_ + "/ca.crt", other_ + "/intruder.crt", other_ + "/intruder.key"), port());
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, RenewedCertificateIsServedToTheNextConnectionWithoutRestart) {
  ASSERT_TRUE(Start(ServerTls(false)).ok());
  const std::string before = CheckHealth(Ssl(ca_ + "/ca.crt"), port()).server_serial;
  ASSERT_EQ(before, CertificateSerialHex(Read(ca_ + "/marketd.crt")));
  ASSERT_TRUE(Pki("server " + ca_ + " marketd --dns localhost --ip 127.0.0.1"));
  const std::string renewed = CertificateSerialHex(Read(ca_ + "/marketd.crt"));
  ASSERT_NE(renewed, before);
  std::string seen;
  for (int i = 0; i < 100 && seen != renewed; ++i) {  // reload_seconds is 1
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    seen = CheckHealth(Ssl(ca_ + "/ca.crt"), port()).server_serial;
  }
  EXPECT_EQ(seen, renewed);
}

TEST_F(TlsTest, HttpPortServesHttpsWithTheSameCertificate) {
  ASSERT_TRUE(Start(ServerTls(false)).ok());
  httplib::SSLClient https("127.0.0.1", runner_->http_port());
  https.set_ca_cert_path((ca_ + "/ca.crt").c_str());
  https.enable_server_certificate_verification(true);
  auto res = https.Get("/healthz");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(HandshakeSerial(runner_->http_port(), ca_ + "/ca.crt"),
            CertificateSerialHex(Read(ca_ + "/marketd.crt")));
}

TEST_F(TlsTest, HttpPortRefusesPlaintext) {
  ASSERT_TRUE(Start(ServerTls(false)).ok());
  httplib::Client http("127.0.0.1", runner_->http_port());
  auto res = http.Get("/healthz");
  EXPECT_FALSE(res && res->status == 200);
}

TEST_F(TlsTest, HttpPortServesRenewedCertificateWithoutRestart) {
  ASSERT_TRUE(Start(ServerTls(false)).ok());
  ASSERT_TRUE(Pki("server " + ca_ + " marketd --dns localhost --ip 127.0.0.1"));
  EXPECT_EQ(HandshakeSerial(runner_->http_port(), ca_ + "/ca.crt"),
            CertificateSerialHex(Read(ca_ + "/marketd.crt")));
}

TEST_F(TlsTest, KeyReadableByOthersIsRefusedAtStart) {
  ASSERT_EQ(::chmod((ca_ + "/marketd.key").c_str(), 0640), 0);
  absl::Status s = Start(ServerTls(false));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("readable by group or others (mode 0640)"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("chmod 600"));
}

TEST_F(TlsTest, CertificateFileThatIsNotPemIsRefusedAtStart) {
  std::ofstream(ca_ + "/marketd.crt") << "not a certificate\n";
  absl::Status s = Start(ServerTls(false));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("--tls-cert"));
}

TEST_F(TlsTest, KeyOfAnotherCertificateIsRefusedAtStart) {
  TlsOptions tls = ServerTls(false);
  tls.key_file = ca_ + "/svc-credit.key";
  absl::Status s = Start(tls);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("not the private key of the certificate"));
}

TEST_F(TlsTest, CertificateWithoutKeyIsRefused) {
  TlsOptions tls = ServerTls(false);
  tls.key_file.clear();
  EXPECT_EQ(Start(tls).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(TlsTest, PlaintextOnNonLoopbackAddressLogsWarning) {
  ::testing::internal::CaptureStderr();
  ASSERT_TRUE(Start(TlsOptions{}, "0.0.0.0:0").ok());
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(log, HasSubstr("serving plaintext on a non-loopback address"));
}

TEST_F(TlsTest, PlaintextOnLoopbackLogsNoWarning) {
  ::testing::internal::CaptureStderr();
  ASSERT_TRUE(Start(TlsOptions{}).ok());
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(log, ::testing::Not(HasSubstr("plaintext")));
}

TEST_F(TlsTest, PeerChannelPresentsItsCertificateToMutualTlsServer) {
  ASSERT_TRUE(Start(ServerTls(true)).ok());
  TlsOptions peer;
  peer.cert_file = ca_ + "/svc-credit.crt";
  peer.key_file = ca_ + "/svc-credit.key";
  peer.peer_ca_file = ca_ + "/ca.crt";
  CallResult r = CheckHealth(PeerCredentials(peer), port());
  EXPECT_TRUE(r.status.ok()) << r.status.error_message();
}

TEST_F(TlsTest, PeerChannelVerifiesTheServerName) {
  ASSERT_TRUE(Pki("server " + ca_ + " elsewhere --dns elsewhere.example --ip 10.9.9.9"));
  TlsOptions server = ServerTls(false);
  server.cert_file = ca_ + "/elsewhere.crt";
  server.key_file = ca_ + "/elsewhere.key";
  ASSERT_TRUE(Start(server).ok());
  TlsOptions peer;
  peer.peer_ca_file = ca_ + "/ca.crt";
  CallResult r = CheckHealth(PeerCredentials(peer), port());
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, PeerChannelTrustingAnotherCaIsRefused) {
  ASSERT_TRUE(Start(ServerTls(false)).ok());
  TlsOptions peer;
  peer.peer_ca_file = other_ + "/ca.crt";
  EXPECT_EQ(CheckHealth(PeerCredentials(peer), port()).status.error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST(IsLoopbackAddressTest, KnowsLoopbackFromNetworkAddresses) {
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1:7400"));
  EXPECT_TRUE(IsLoopbackAddress("localhost:7400"));
  EXPECT_TRUE(IsLoopbackAddress("[::1]:7400"));
  EXPECT_TRUE(IsLoopbackAddress("unix:/run/market/identity.sock"));
  EXPECT_FALSE(IsLoopbackAddress("0.0.0.0:7400"));
  EXPECT_FALSE(IsLoopbackAddress("[::]:7400"));
  EXPECT_FALSE(IsLoopbackAddress("10.0.3.7:7400"));
}

}  // namespace
}  // namespace market::server
