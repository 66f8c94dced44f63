// `marketctl admin backup` and `admin restore-check`: run on the server host,
// they read and write files (data dirs, a backup folder) and call no RPC.
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "clients/marketctl/command_helpers.h"
#include "clients/marketctl/commands.h"
#include "common/config/files.h"
#include "common/crypto/crypto.h"
#include "common/sqlite/backup.h"
#include "common/sqlite/connection.h"
#include "common/status/status.h"
#include "nlohmann/json.hpp"
#include "services/credit/ledger_audit.h"

namespace market::ctl {
namespace {

namespace fs = std::filesystem;

constexpr char kManifestName[] = "MANIFEST.json";
constexpr char kManifestFormat[] = "market-backup/1";
// Where a credit data dir keeps the ledger's signing key, beside credit.db.
constexpr char kLedgerDatabase[] = "credit.db";
constexpr char kLedgerKey[] = "credit/ledger-key.pem";

// One file of a backup, as the manifest lists it.
struct FileEntry {
  std::string path;  // relative to the backup folder, '/'-separated
  std::string kind;  // "sqlite" or "file"
  int64_t size = 0;
  std::string sha256;  // lower-case hex
};

// A ledger found in a backup, as the manifest lists it.
struct LedgerEntry {
  std::string database;    // path of credit.db in the backup
  std::string key_file;    // path of its ledger-key.pem in the backup
  std::string public_key;  // hex
  credit::LedgerAudit audit;
};

absl::Status ErrnoStatus(const std::string& what, int err) {
  return absl::Status(err == ENOENT ? absl::StatusCode::kNotFound : absl::StatusCode::kInternal,
                      absl::StrCat(what, ": ", std::strerror(err)));
}

// Files marketd may have half-written, or that belong to a database and are
// folded into its copy: SQLite side files, and the temporary files of
// config::WriteOwnerOnlyFile (".tmp"), the photo store (".tmp-…") and
// sqlite::Database::Backup (".partial").
bool IsTransientFile(const std::string& name) {
  for (const char* suffix : {"-wal", "-shm", "-journal", ".tmp", ".partial"}) {
    if (absl::EndsWith(name, suffix)) return true;
  }
  return absl::StrContains(name, ".tmp-");
}

// SHA-256 (hex) of whatever `feed` hands to the update function.
class Sha256Stream {
 public:
  Sha256Stream() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr); }
  void Update(const char* data, size_t n) { EVP_DigestUpdate(ctx_.get(), data, n); }
  std::string HexDigest() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_.get(), digest, &len);
    return HexEncode(absl::string_view(reinterpret_cast<const char*>(digest), len));
  }

 private:
  struct Free {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx_;
};

// Reads `src` to its end, hashing it and (if `dst_fd` >= 0) writing it there.
absl::Status ReadHashing(const std::string& src, int dst_fd, const std::string& dst,
                         FileEntry* entry) {
  int fd = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(absl::StrCat("open ", src), errno);
  Sha256Stream sha;
  std::vector<char> buffer(1 << 16);
  entry->size = 0;
  absl::Status status;
  for (;;) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = ErrnoStatus(absl::StrCat("read ", src), errno);
      break;
    }
    if (n == 0) break;
    sha.Update(buffer.data(), static_cast<size_t>(n));
    entry->size += n;
    for (ssize_t off = 0; dst_fd >= 0 && off < n;) {
      ssize_t w = ::write(dst_fd, buffer.data() + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        status = ErrnoStatus(absl::StrCat("write ", dst), errno);
        break;
      }
      off += w;
    }
    if (!status.ok()) break;
  }
  ::close(fd);
  entry->sha256 = sha.HexDigest();
  return status;
}

absl::Status HashFile(const std::string& path, FileEntry* entry) {
  return ReadHashing(path, -1, "", entry);
}

// Copies `src` to `dst` (mode 0600, synced), hashing the bytes copied.
absl::Status CopyFileHashing(const std::string& src, const std::string& dst, FileEntry* entry) {
  int out = ::open(dst.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0) return ErrnoStatus(absl::StrCat("create ", dst), errno);
  absl::Status status = ::fchmod(out, 0600) == 0 ? ReadHashing(src, out, dst, entry)
                                                 : ErrnoStatus(absl::StrCat("chmod ", dst), errno);
  if (status.ok() && ::fsync(out) != 0) status = ErrnoStatus(absl::StrCat("fsync ", dst), errno);
  ::close(out);
  if (!status.ok()) ::unlink(dst.c_str());
  return status;
}

absl::Status MakePrivateDir(const std::string& path) {
  std::error_code error;
  fs::create_directories(path, error);
  if (error) return absl::InternalError(absl::StrCat("mkdir ", path, ": ", error.message()));
  fs::permissions(path, fs::perms::owner_all, fs::perm_options::replace, error);
  if (error) return absl::InternalError(absl::StrCat("chmod ", path, ": ", error.message()));
  return absl::OkStatus();
}

std::string Join(const std::string& prefix, const std::string& rel) {
  return prefix.empty() ? rel : absl::StrCat(prefix, "/", rel);
}

std::string Parent(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? "" : rel.substr(0, slash);
}

sqlite::Options ReadOnlyOptions() {
  sqlite::Options options;
  options.read_only = true;
  options.wal = false;
  return options;
}

// Audits the ledger in the database `dir`/`database`, whose key is `dir`/`key_file`.
absl::StatusOr<LedgerEntry> AuditCopy(const std::string& dir, const std::string& database,
                                      const std::string& key_file) {
  LedgerEntry entry{database, key_file, "", {}};
  absl::StatusOr<Ed25519PrivateKey> key = ReadPrivateKeyFile(absl::StrCat(dir, "/", key_file));
  if (!key.ok()) {
    return absl::Status(key.status().code(),
                        absl::StrCat(key_file, " (the ledger key marketd needs to run on ",
                                     database, "): ", key.status().message()));
  }
  const std::string public_key = key->PublicKeyRaw();
  entry.public_key = HexEncode(public_key);
  MARKET_ASSIGN_OR_RETURN(
      sqlite::Connection c,
      sqlite::Connection::Open(sqlite::ImmutableUri(absl::StrCat(dir, "/", database)),
                               ReadOnlyOptions()));
  MARKET_ASSIGN_OR_RETURN(entry.audit, credit::AuditLedger(c, public_key));
  return entry;
}

// ---- backup ----

struct BackupFlags {
  std::string dir;
  std::vector<std::string> data_dirs;
  bool force = false;
};

class Backup {
 public:
  Backup(Client& client, const BackupFlags& flags) : client_(client), flags_(flags) {}

  int Run() {
    std::vector<std::string> data_dirs = flags_.data_dirs;
    if (data_dirs.empty()) data_dirs.push_back("./var");
    std::error_code error;
    const std::string dest = fs::weakly_canonical(fs::absolute(flags_.dir), error).string();
    if (error) return Usage(absl::StrCat("DIR ", flags_.dir, ": ", error.message()));
    std::vector<std::pair<std::string, std::string>> sources;  // (canonical dir, prefix)
    std::set<std::string> prefixes;
    for (const std::string& d : data_dirs) {
      if (!fs::is_directory(d, error)) {
        return Local(absl::StrCat("--data-dir ", d, ": not a folder (give marketd's --data-dir)"));
      }
      std::string canonical = fs::canonical(d, error).string();
      if (dest == canonical || absl::StartsWith(dest, canonical + "/")) {
        return Usage(absl::StrCat("DIR ", flags_.dir, " is inside --data-dir ", d));
      }
      // Several data dirs (one per service): each goes to DIR/<its folder name>.
      std::string prefix = data_dirs.size() == 1 ? "" : fs::path(canonical).filename().string();
      if (!prefixes.insert(prefix).second) {
        return Usage(absl::StrCat("two --data-dir folders are named \"", prefix,
                                  "\"; each goes to DIR/<folder name>, so names must differ"));
      }
      sources.emplace_back(canonical, prefix);
    }
    if (fs::exists(dest, error)) {
      if (!fs::is_directory(dest, error)) return Local(absl::StrCat(flags_.dir, ": not a folder"));
      if (!fs::is_empty(dest, error) && !flags_.force) {
        return Local(absl::StrCat(
            "DIR ", flags_.dir,
            " is not empty; give a new folder, or --force to write over an earlier backup"));
      }
      fs::remove(fs::path(dest) / kManifestName, error);
    }
    if (absl::Status s = MakePrivateDir(dest); !s.ok()) return Local(s.message());
    dest_ = dest;
    std::vector<Job> jobs;
    for (const auto& [source, prefix] : sources) {
      if (absl::Status s = PlanDataDir(source, prefix, &jobs); !s.ok()) return Local(s.message());
    }
    if (absl::Status s = CopyAll(std::move(jobs)); !s.ok()) return Local(s.message());
    for (const FileEntry& f : files_) {
      if (f.kind != "sqlite" || fs::path(f.path).filename() != kLedgerDatabase) continue;
      absl::StatusOr<LedgerEntry> ledger =
          AuditCopy(dest_, f.path, Join(Parent(f.path), kLedgerKey));
      if (!ledger.ok()) {
        client_.err() << "BACKUP FAILED: the ledger in the copy of " << f.path
                      << " does not verify: " << ledger.status().message() << "\n";
        return kExitVerificationFailed;
      }
      client_.out() << absl::StrFormat("ledger  %-40s %d records, root %s (signature verified)\n",
                                       f.path, ledger->audit.tree_size,
                                       HexEncode(ledger->audit.root));
      ledgers_.push_back(*std::move(ledger));
    }
    if (absl::Status s = WriteManifest(sources); !s.ok()) return Local(s.message());
    int databases = static_cast<int>(std::count_if(
        files_.begin(), files_.end(), [](const auto& f) { return f.kind == "sqlite"; }));
    client_.out() << "backup complete: " << files_.size() << " files (" << databases
                  << " SQLite databases) in " << dest_ << ", manifest " << dest_ << "/"
                  << kManifestName << "\n";
    return 0;
  }

 private:
  int Usage(absl::string_view message) {
    client_.err() << "error: " << message << "\n";
    return kExitUsage;
  }
  int Local(absl::string_view message) {
    client_.err() << "error: " << message << "\n";
    return kExitLocal;
  }

  // A file to copy: from `in` to DIR/`out_rel`.
  struct Job {
    std::string in;
    std::string out_rel;
    bool database;
  };

  // Creates DIR/`prefix` and its folders as in `source`, and lists the files
  // to copy in `*jobs`.
  absl::Status PlanDataDir(const std::string& source, const std::string& prefix,
                           std::vector<Job>* jobs) {
    std::error_code error;
    std::vector<fs::directory_entry> entries;
    for (auto it = fs::recursive_directory_iterator(source, error);
         !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
      entries.push_back(*it);
    }
    if (error) return absl::InternalError(absl::StrCat("read ", source, ": ", error.message()));
    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return a.path() < b.path(); });
    MARKET_RETURN_IF_ERROR(MakePrivateDir(Join(dest_, prefix)));
    for (const fs::directory_entry& entry : entries) {
      const std::string rel = fs::relative(entry.path(), source).generic_string();
      const std::string out_rel = Join(prefix, rel);
      if (entry.is_symlink(error)) {
        client_.out() << absl::StrFormat("skip    %-40s a symbolic link\n", out_rel);
      } else if (entry.is_directory(error)) {
        MARKET_RETURN_IF_ERROR(MakePrivateDir(absl::StrCat(dest_, "/", out_rel)));
      } else if (!entry.is_regular_file(error)) {
        client_.out() << absl::StrFormat("skip    %-40s not a regular file\n", out_rel);
      } else if (rel != kManifestName && !IsTransientFile(entry.path().filename().string())) {
        jobs->push_back({entry.path().string(), out_rel, sqlite::IsDatabaseFile(entry.path())});
      }
    }
    return absl::OkStatus();
  }

  // Where a database comes in the copy order: the senders of outbox events
  // before their receivers (appraisal -> listing -> credit and stats,
  // warranty -> credit, appraisal and warranty -> webhook), identity last, so that an event delivered after its sender's
  // snapshot is still pending in the copy (and redelivered, deduplicated by
  // event id) rather than lost, and every subject a copy names is in the
  // identity copy. Unknown databases first.
  static int CopyRank(const std::string& path) {
    static const char* const kOrder[] = {"appraisal.db", "warranty.db", "listing.db", "stats.db",
                                         "credit.db",    "webhook.db",  "identity.db"};
    const std::string name = fs::path(path).filename().string();
    for (int i = 0; i < 7; ++i) {
      if (name == kOrder[i]) return i + 1;
    }
    return 0;
  }

  // Copies every planned file: the databases in CopyRank order, then the
  // other files (keys, photos: a photo is written before the listing row
  // naming it, so copying photos after listing.db finds every one it names).
  absl::Status CopyAll(std::vector<Job> jobs) {
    std::stable_sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) {
      if (a.database != b.database) return a.database;
      return a.database && CopyRank(a.in) < CopyRank(b.in);
    });
    for (const Job& job : jobs) {
      FileEntry f{job.out_rel, job.database ? "sqlite" : "file", 0, ""};
      const std::string out = absl::StrCat(dest_, "/", job.out_rel);
      absl::Status copied;
      if (job.database) {
        copied = sqlite::BackupDatabaseFile(job.in, out);
        if (copied.ok()) copied = HashFile(out, &f);
      } else {
        copied = CopyFileHashing(job.in, out, &f);
        // A file marketd removed meanwhile was not part of the data.
        if (absl::IsNotFound(copied)) continue;
      }
      MARKET_RETURN_IF_ERROR(copied);
      client_.out() << absl::StrFormat("copied  %-40s %-6s %d bytes\n", f.path, f.kind, f.size);
      files_.push_back(std::move(f));
    }
    std::sort(files_.begin(), files_.end(),
              [](const FileEntry& a, const FileEntry& b) { return a.path < b.path; });
    return absl::OkStatus();
  }

  absl::Status WriteManifest(const std::vector<std::pair<std::string, std::string>>& sources) {
    nlohmann::json manifest = {
        {"format", kManifestFormat},
        {"created_time", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone())},
        {"data_dirs", nlohmann::json::array()},
        {"files", nlohmann::json::array()},
        {"ledgers", nlohmann::json::array()}};
    for (const auto& [source, prefix] : sources) {
      manifest["data_dirs"].push_back(
          {{"source", source}, {"path", prefix.empty() ? "." : prefix}});
    }
    for (const FileEntry& f : files_) {
      manifest["files"].push_back(
          {{"path", f.path}, {"kind", f.kind}, {"size", f.size}, {"sha256", f.sha256}});
    }
    for (const LedgerEntry& l : ledgers_) {
      manifest["ledgers"].push_back({{"database", l.database},
                                     {"key_file", l.key_file},
                                     {"origin", l.audit.origin},
                                     {"tree_size", l.audit.tree_size},
                                     {"root_hash", HexEncode(l.audit.root)},
                                     {"public_key", l.public_key},
                                     {"checkpoint", l.audit.note}});
    }
    return config::WriteOwnerOnlyFile(absl::StrCat(dest_, "/", kManifestName),
                                      manifest.dump(2) + "\n");
  }

  Client& client_;
  const BackupFlags& flags_;
  std::string dest_;
  std::vector<FileEntry> files_;
  std::vector<LedgerEntry> ledgers_;
};

// ---- restore-check ----

struct RestoreCheckFlags {
  std::string dir;
  std::string ledger_public_key;  // hex, optional
};

class RestoreCheck {
 public:
  RestoreCheck(Client& client, const RestoreCheckFlags& flags) : client_(client), flags_(flags) {}

  int Run() {
    std::string pinned;
    if (!flags_.ledger_public_key.empty()) {
      if (flags_.ledger_public_key.size() != 64 ||
          !std::all_of(flags_.ledger_public_key.begin(), flags_.ledger_public_key.end(),
                       [](char c) { return absl::ascii_isxdigit(c); })) {
        client_.err() << "error: --ledger-public-key: want 64 hex digits (the public_key "
                         "`marketctl ledger checkpoint` prints)\n";
        return kExitUsage;
      }
      pinned = absl::AsciiStrToLower(flags_.ledger_public_key);
    }
    const std::string manifest_path = absl::StrCat(flags_.dir, "/", kManifestName);
    absl::StatusOr<std::string> text = config::ReadFile(manifest_path);
    if (!text.ok()) return Verdict(absl::StrCat(manifest_path, ": ", text.status().message()));
    nlohmann::json manifest = nlohmann::json::parse(*text, nullptr, false);
    if (!manifest.is_object() || manifest.value("format", "") != kManifestFormat ||
        !manifest.contains("files") || !manifest["files"].is_array()) {
      return Verdict(absl::StrCat(manifest_path, ": not a ", kManifestFormat, " manifest"));
    }
    std::vector<FileEntry> files;
    for (const nlohmann::json& f : manifest["files"]) {
      FileEntry entry;
      if (!f.is_object() || !f.contains("path") || !f["path"].is_string() || !f.contains("size") ||
          !f["size"].is_number_integer() || !f.contains("sha256") || !f["sha256"].is_string()) {
        return Verdict(absl::StrCat(manifest_path, ": a files entry lacks path, size or sha256"));
      }
      entry.path = f["path"].get<std::string>();
      entry.kind = f.value("kind", "file");
      entry.size = f["size"].get<int64_t>();
      entry.sha256 = f["sha256"].get<std::string>();
      if (!SafeRelativePath(entry.path)) {
        return Verdict(absl::StrCat(manifest_path, ": file path \"", entry.path,
                                    "\" leaves the backup folder"));
      }
      files.push_back(std::move(entry));
    }
    for (const FileEntry& f : files) CheckFile(f);
    int databases = 0;
    for (const FileEntry& f : files) {
      if (f.kind != "sqlite") continue;
      ++databases;
      absl::Status s = sqlite::CheckIntegrity(absl::StrCat(flags_.dir, "/", f.path));
      Line(s.ok(), "integrity_check", f.path, s.ok() ? "ok" : std::string(s.message()));
    }
    CheckLedgers(manifest, files, pinned);
    if (!failures_.empty()) return Verdict(absl::StrJoin(failures_, "; "));
    client_.out() << "restore check passed: " << files.size() << " files, " << databases
                  << " databases";
    for (const std::string& l : ledger_summaries_) client_.out() << ", " << l;
    client_.out() << "\n";
    return 0;
  }

 private:
  static bool SafeRelativePath(const std::string& path) {
    if (path.empty() || path[0] == '/' || path == kManifestName) return false;
    for (absl::string_view part : absl::StrSplit(path, '/')) {
      if (part.empty() || part == "." || part == "..") return false;
    }
    return true;
  }

  void Line(bool ok, const std::string& check, const std::string& subject,
            const std::string& detail) {
    client_.out() << absl::StrFormat("%-6s  %-15s  %s: %s\n", ok ? "ok" : "FAILED", check, subject,
                                     detail);
    if (!ok) failures_.push_back(absl::StrCat(subject, ": ", check, ": ", detail));
  }

  int Verdict(const std::string& what) {
    client_.out() << "RESTORE CHECK FAILED: " << what << "\n";
    client_.err() << "RESTORE CHECK FAILED: " << what << "\n";
    return kExitVerificationFailed;
  }

  void CheckFile(const FileEntry& want) {
    FileEntry got;
    absl::Status s = HashFile(absl::StrCat(flags_.dir, "/", want.path), &got);
    if (!s.ok()) return Line(false, "sha256", want.path, std::string(s.message()));
    if (got.size != want.size) {
      return Line(false, "sha256", want.path,
                  absl::StrCat("size ", got.size, ", the manifest says ", want.size));
    }
    if (got.sha256 != want.sha256) {
      return Line(false, "sha256", want.path,
                  absl::StrCat("SHA-256 ", got.sha256, ", the manifest says ", want.sha256));
    }
    Line(true, "sha256", want.path, absl::StrCat(got.size, " bytes match the manifest"));
  }

  void CheckLedgers(const nlohmann::json& manifest, const std::vector<FileEntry>& files,
                    const std::string& pinned) {
    std::set<std::string> audited;
    if (manifest.contains("ledgers") && manifest["ledgers"].is_array()) {
      for (const nlohmann::json& l : manifest["ledgers"]) CheckLedger(l, pinned, &audited);
    }
    // A credit.db the manifest has no ledger for (e.g. an entry deleted).
    for (const FileEntry& f : files) {
      if (f.kind == "sqlite" && fs::path(f.path).filename() == kLedgerDatabase &&
          !audited.contains(f.path)) {
        Line(false, "ledger", f.path, "the manifest records no ledger checkpoint for it");
      }
    }
  }

  void CheckLedger(const nlohmann::json& l, const std::string& pinned,
                   std::set<std::string>* audited) {
    auto text = [&l](const char* key) {
      return l.contains(key) && l[key].is_string() ? l[key].get<std::string>() : std::string();
    };
    const std::string database = text("database");
    const std::string key_file = text("key_file");
    if (!l.is_object() || !SafeRelativePath(database) || !SafeRelativePath(key_file) ||
        !l.contains("tree_size") || !l["tree_size"].is_number_integer()) {
      return Line(false, "ledger", "MANIFEST.json", "a ledgers entry is malformed");
    }
    audited->insert(database);
    absl::StatusOr<LedgerEntry> got = AuditCopy(flags_.dir, database, key_file);
    if (!got.ok()) return Line(false, "ledger", database, std::string(got.status().message()));
    const int64_t want_size = l["tree_size"].get<int64_t>();
    if (got->public_key != text("public_key")) {
      return Line(false, "ledger", database,
                  absl::StrCat("key ", key_file, " is ", got->public_key, ", the manifest says ",
                               text("public_key")));
    }
    if (!pinned.empty() && got->public_key != pinned) {
      return Line(false, "ledger", database,
                  absl::StrCat("signed with key ", got->public_key,
                               ", not the --ledger-public-key ", pinned));
    }
    if (got->audit.tree_size != want_size || HexEncode(got->audit.root) != text("root_hash") ||
        got->audit.origin != text("origin")) {
      return Line(
          false, "ledger", database,
          absl::StrCat("the copy's signed checkpoint is ", got->audit.tree_size,
                       " records with root ", HexEncode(got->audit.root), ", the manifest says ",
                       want_size, " records with root ", text("root_hash")));
    }
    Line(true, "ledger", database,
         absl::StrCat(want_size, " records rehashed to root ", text("root_hash"),
                      ", equal to the signed checkpoint (signature verified",
                      pinned.empty() ? "" : " with the pinned key", ") and the manifest"));
    ledger_summaries_.push_back(absl::StrCat("ledger ", database, " of ", want_size,
                                             " records with root ", text("root_hash")));
  }

  Client& client_;
  const RestoreCheckFlags& flags_;
  std::vector<std::string> failures_;
  std::vector<std::string> ledger_summaries_;
};

}  // namespace

void AddAdminCommands(CLI::App& app, Client& client, std::function<int()>* run) {
  auto* admin = AddGroup(&app, "admin", "Server-host administration: backup and restore check");

  auto* backup = admin->add_subcommand(
      "backup",
      "Copy every database of a deployment with the SQLite online backup API while marketd "
      "keeps running, plus its keys and photos; write DIR/MANIFEST.json");
  backup->footer(
      "Run on the server host, as marketd's user or root; marketd may keep running. Each\n"
      "database is copied in one read transaction, in the order appraisal, warranty, listing,\n"
      "stats, credit, webhook, identity (outbox senders first), then key files and photos. DIR is created\n"
      "(mode 0700); files in it are mode 0600. One --data-dir: its files go to DIR. Several\n"
      "(one per service, e.g. var-multi/identity ... var-multi/warranty): each goes to\n"
      "DIR/<folder name>.\n"
      "Exit codes: 0 ok; 64 usage; 65 a file could not be read or written (or DIR is not "
      "empty);\n66 the ledger in the copy does not verify.\n"
      "Example:\n  marketctl admin backup --data-dir /var/lib/marketd /srv/backup/2026-12-07");
  auto bflags = std::make_shared<BackupFlags>();
  backup->add_option("DIR", bflags->dir, "Backup folder (new or empty)")->required();
  backup->add_option("--data-dir", bflags->data_dirs,
                     "marketd's --data-dir (default ./var); repeat for one data dir per service");
  backup->add_flag("--force", bflags->force, "Write into a non-empty DIR (an earlier backup)");
  OnRun(backup, run, [&client, bflags] { return Backup(client, *bflags).Run(); });

  auto* check = admin->add_subcommand(
      "restore-check",
      "Verify a backup: every file's SHA-256 against the manifest, PRAGMA integrity_check of "
      "every database, and the ledger rehashed against its signed checkpoint");
  check->footer(
      "Opens the copies read-only and immutable; changes nothing.\n"
      "Exit codes: 0 the backup is sound; 64 usage; 66 a check failed (RESTORE CHECK FAILED).\n"
      "Example:\n  marketctl admin restore-check /srv/backup/2026-12-07");
  auto cflags = std::make_shared<RestoreCheckFlags>();
  check->add_option("DIR", cflags->dir, "Folder written by `admin backup`")->required();
  check->add_option("--ledger-public-key", cflags->ledger_public_key,
                    "Also require the ledger to be signed by this key (hex, as `marketctl ledger "
                    "checkpoint` prints it)");
  OnRun(check, run, [&client, cflags] { return RestoreCheck(client, *cflags).Run(); });
}

}  // namespace market::ctl
