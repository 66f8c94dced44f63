// marketd with TLS and mTLS (certificates from deploy/pki.sh) driven by the
// marketctl binary: the TLS flags' checks, and a failed handshake reported in
// one readable line (no gRPC core log lines).
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/process_helpers.h"

namespace market::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

bool Pki(const std::string& args) {
  std::string cmd =
      absl::StrCat("bash ", MARKET_SOURCE_DIR, "/deploy/pki.sh ", args, " >/dev/null");
  return std::system(cmd.c_str()) == 0;
}

// The non-empty lines of `text`.
std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

class TlsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("tls");
    ASSERT_FALSE(dir_.empty());
    pki_ = dir_ + "/pki";
    ASSERT_TRUE(Pki("ca " + pki_));
    ASSERT_TRUE(Pki("server " + pki_ + " marketd --dns localhost --ip 127.0.0.1"));
    ASSERT_TRUE(Pki("client " + pki_ + " clerk"));
    ASSERT_TRUE(Pki("ca " + dir_ + "/other"));
    ASSERT_TRUE(Pki("client " + dir_ + "/other intruder"));
  }
  void TearDown() override {
    if (marketd_) marketd_->Stop(SIGKILL, 10);
    std::filesystem::remove_all(dir_);
  }
  // Starts marketd with `extra` flags; false (log in marketd.err) when it
  // does not serve.
  bool StartMarketd(const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {MARKETD_BIN,      "--data-dir",     dir_ + "/var",
                                     "--listen",       kAnyLoopbackPort, "--http-listen",
                                     kAnyLoopbackPort};
    argv.insert(argv.end(), extra.begin(), extra.end());
    marketd_ = std::make_unique<Child>(argv, dir_ + "/marketd.out", dir_ + "/marketd.err");
    auto ports = WaitForServing(*marketd_, dir_ + "/marketd.err", 60);
    if (!ports) return false;
    ports_ = *ports;
    return true;
  }
  std::vector<std::string> TlsFlags(bool mtls) const {
    std::vector<std::string> flags = {"--tls-cert", pki_ + "/marketd.crt", "--tls-key",
                                      pki_ + "/marketd.key"};
    if (mtls) flags.insert(flags.end(), {"--tls-client-ca", pki_ + "/ca.crt"});
    return flags;
  }
  // marketctl login --bootstrap with `flags` before the command.
  RunResult Login(const std::vector<std::string>& flags) {
    std::vector<std::string> argv = {MARKETCTL_BIN, "--credentials", dir_ + "/creds.json",
                                     "--server", absl::StrCat("127.0.0.1:", ports_.grpc)};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), {"login", "--bootstrap", dir_ + "/var/bootstrap-admin.json"});
    return market::testing::Run(argv);
  }

  std::string dir_, pki_;
  std::unique_ptr<Child> marketd_;
  ServingPorts ports_;
};

TEST_F(TlsE2eTest, MarketctlTrustingTheCaLogsIn) {
  ASSERT_TRUE(StartMarketd(TlsFlags(false))) << ReadWholeFile(dir_ + "/marketd.err");
  RunResult r = Login({"--tls-ca", pki_ + "/ca.crt"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("logged in as subjects/supervisor"));
}

TEST_F(TlsE2eTest, MarketdLogsThatItServesTls) {
  ASSERT_TRUE(StartMarketd(TlsFlags(true))) << ReadWholeFile(dir_ + "/marketd.err");
  EXPECT_THAT(ReadWholeFile(dir_ + "/marketd.err"), HasSubstr("\"tls\":\"mtls\""));
}

TEST_F(TlsE2eTest, PlaintextMarketctlGetsOneReadableLine) {
  ASSERT_TRUE(StartMarketd(TlsFlags(false))) << ReadWholeFile(dir_ + "/marketd.err");
  RunResult r = Login({});
  EXPECT_EQ(r.exit_code, 14);
  ASSERT_EQ(Lines(r.err).size(), 1u) << r.err;
  EXPECT_THAT(r.err, HasSubstr("pass --tls-ca"));
}

TEST_F(TlsE2eTest, UnknownAuthorityGetsOneReadableLine) {
  ASSERT_TRUE(StartMarketd(TlsFlags(false))) << ReadWholeFile(dir_ + "/marketd.err");
  RunResult r = Login({"--tls-ca", dir_ + "/other/ca.crt"});
  EXPECT_EQ(r.exit_code, 14);
  ASSERT_EQ(Lines(r.err).size(), 1u) << r.err;
  EXPECT_THAT(r.err, HasSubstr("certificate signed by an unknown authority: pass --tls-ca"));
  EXPECT_THAT(r.err, Not(HasSubstr("ssl_transport_security")));
}

TEST_F(TlsE2eTest, MutualTlsRefusesMarketctlWithoutCertificate) {
  ASSERT_TRUE(StartMarketd(TlsFlags(true))) << ReadWholeFile(dir_ + "/marketd.err");
  RunResult r = Login({"--tls-ca", pki_ + "/ca.crt"});
  EXPECT_EQ(r.exit_code, 14);
  ASSERT_EQ(Lines(r.err).size(), 1u) << r.err;
  EXPECT_THAT(r.err, HasSubstr("requires a client certificate: pass --tls-cert and --tls-key"));
}

TEST_F(TlsE2eTest, MutualTlsRefusesCertificateOfAnotherCa) {
  ASSERT_TRUE(StartMarketd(TlsFlags(true))) << ReadWholeFile(dir_ + "/marketd.err");
  RunResult r = Login({"--tls-ca", pki_ + "/ca.crt", "--tls-cert",
                       dir_ + "/other/intruder.crt", "--tls-key", dir_ + "/other/intruder.key"});
  EXPECT_EQ(r.exit_code, 14);
  EXPECT_THAT(r.err, HasSubstr("refused the client certificate"));
}

TEST_F(TlsE2eTest, MutualTlsServesMarketctlWithCertificateFromTheCa) {
  ASSERT_TRUE(StartMarketd(TlsFlags(true))) << ReadWholeFile(dir_ + "/marketd.err");
  RunResult r = Login({"--tls-ca", pki_ + "/ca.crt", "--tls-cert", pki_ + "/clerk.crt",
                       "--tls-key", pki_ + "/clerk.key"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(TlsE2eTest, MissingCaFileIsALocalErrorNamingTheFlag) {
  ASSERT_TRUE(StartMarketd(TlsFlags(false))) << ReadWholeFile(dir_ + "/marketd.err");
  RunResult r = Login({"--tls-ca", dir_ + "/absent.crt"});
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_THAT(r.err, HasSubstr("--tls-ca: cannot read"));
}

TEST_F(TlsE2eTest, CaFromEnvironmentThatIsNotPemIsALocalError) {
  ASSERT_TRUE(StartMarketd(TlsFlags(false))) << ReadWholeFile(dir_ + "/marketd.err");
  std::ofstream(dir_ + "/ca.txt") << "just text\n";
  setenv("MARKET_TLS_CA", (dir_ + "/ca.txt").c_str(), 1);
  RunResult r = Login({});
  unsetenv("MARKET_TLS_CA");
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_THAT(r.err, HasSubstr("--tls-ca: " + dir_ + "/ca.txt holds no PEM certificate"));
}

TEST_F(TlsE2eTest, MarketdRefusesKeyReadableByOthers) {
  ASSERT_EQ(::chmod((pki_ + "/marketd.key").c_str(), 0644), 0);
  EXPECT_FALSE(StartMarketd(TlsFlags(false)));
  EXPECT_NE(marketd_->Stop(SIGKILL, 10), 0);
  EXPECT_THAT(ReadWholeFile(dir_ + "/marketd.err"),
              HasSubstr("is readable by group or others (mode 0644); run: chmod 600"));
}

TEST_F(TlsE2eTest, HttpPortServesHealthOverHttps) {
  ASSERT_TRUE(StartMarketd(TlsFlags(true))) << ReadWholeFile(dir_ + "/marketd.err");
  httplib::SSLClient https("127.0.0.1", ports_.http);
  https.set_ca_cert_path((pki_ + "/ca.crt").c_str());
  https.enable_server_certificate_verification(true);
  auto res = https.Get("/healthz");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
}

}  // namespace
}  // namespace market::testing
