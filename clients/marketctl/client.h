// What every marketctl command shares: the server address, the stored
// credentials, output format, and printing of results and errors.
// Not thread-safe (one command per process).
#ifndef MARKET_CLIENTS_MARKETCTL_CLIENT_H_
#define MARKET_CLIENTS_MARKETCTL_CLIENT_H_

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
#include "grpcpp/grpcpp.h"

namespace market::ctl {

struct GlobalFlags {
  std::string server;       // HOST:PORT; default from credentials, then 127.0.0.1:7400
  std::string token;        // explicit access token (overrides the credentials file)
  std::string credentials;  // path of the credentials file
  std::string output = "table";
  std::string tls_ca;    // PEM file: use TLS and trust this CA ($MARKET_TLS_CA)
  std::string tls_cert;  // PEM client certificate for servers that require one (mTLS)
  std::string tls_key;   // its PEM private key (mode 0600)
};

// Stored by `marketctl login` (mode 0600).
struct Credentials {
  std::string server;
  std::string subject;
  std::string access_token;
  std::string expire_time;
};

// Default credentials path: $MARKETCTL_CREDENTIALS, else
// $XDG_CONFIG_HOME/marketctl/credentials.json, else ~/.config/marketctl/credentials.json.
std::string DefaultCredentialsPath();
absl::StatusOr<Credentials> LoadCredentials(const std::string& path);
absl::Status SaveCredentials(const std::string& path, const Credentials& creds);

class Client {
 public:
  // `flags` is read when commands run (after parsing), so it must outlive the
  // client. `err_is_tty`: whether `err` is a terminal (progress bars are drawn
  // only then).
  Client(const GlobalFlags& flags, std::ostream& out, std::ostream& err, bool err_is_tty = false)
      : flags_(flags), out_(out), err_(err), err_is_tty_(err_is_tty) {}

  const GlobalFlags& flags() const { return flags_; }
  // The server address to dial.
  std::string Server() const;
  std::shared_ptr<grpc::Channel> Channel();
  // Reads and checks the --tls-ca, --tls-cert and --tls-key files (call once
  // flags are parsed, before Channel()): INVALID_ARGUMENT naming the flag when
  // a file is missing or not PEM, FAILED_PRECONDITION for a key others can read.
  absl::Status LoadTls();
  // Multi-process mode: the top-level command `group` (login, subject,
  // listing, credit, claim, …) is served by one service; when its
  // MARKET_<SERVICE>_ADDR variable (IDENTITY, LISTING, CREDIT, APPRAISAL,
  // WARRANTY) is set, calls go there unless --server was given.
  void RouteCommandGroup(const std::string& group);
  // A context carrying the access token (if any) and a deadline.
  std::unique_ptr<grpc::ClientContext> Context(bool with_token = true);

  // Prints a message as JSON (--output json, amounts in fen as on the wire) or
  // as "field  value" rows aligned by display width, Money fields at any depth
  // shown as yuan ("1299.50元"), nested messages as compact JSON.
  void Print(const google::protobuf::Message& message);
  // Prints a list: JSON array, or a table with `columns` (top-level field
  // names, upper-cased as the header; Money cells in yuan as in Print).
  void PrintList(const std::vector<const google::protobuf::Message*>& items,
                 const std::vector<std::string>& columns);
  // Prints `rows` under `header`, each column as wide as its widest cell in
  // display columns (CJK and full-width characters count two).
  void PrintTable(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows);
  // Prints code, message, reason and bad fields to stderr; returns the exit code.
  int Fail(const grpc::Status& status);
  int Fail(const absl::Status& status);
  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }
  bool err_is_tty() const { return err_is_tty_; }

 private:
  const GlobalFlags& flags_;
  std::ostream& out_;
  std::ostream& err_;
  const bool err_is_tty_;
  std::shared_ptr<grpc::Channel> channel_;
  std::shared_ptr<grpc::ChannelCredentials> channel_credentials_;  // set by LoadTls
  std::string route_;  // address from MARKET_<SERVICE>_ADDR, or ""
};

// A connection failure (UNAVAILABLE) as one line a user can act on: TLS
// handshake failures (unknown authority, wrong name, client certificate
// required or refused, plaintext against TLS and back) name the flag to pass;
// "" when `message` is no such failure.
std::string DescribeConnectionFailure(const std::string& message, const GlobalFlags& flags,
                                      const std::string& server);

// Exit codes: 0 success; the gRPC status code (1-16) for a failed RPC; 64 for
// a usage error; 65 for a local error (files, credentials).
inline constexpr int kExitUsage = 64;
inline constexpr int kExitLocal = 65;
// A verification failed: `ledger verify` found the ledger inconsistent
// (LEDGER VERIFICATION FAILED), `appraisal verify` a verdict other than valid.
inline constexpr int kExitVerificationFailed = 66;

}  // namespace market::ctl

#endif  // MARKET_CLIENTS_MARKETCTL_CLIENT_H_
