#include "common/sqlite/backup.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <system_error>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/sqlite/connection.h"
#include "common/sqlite/internal.h"
#include "common/status/status.h"

namespace market::sqlite {
namespace {

constexpr char kHeader[] = "SQLite format 3";  // 16 bytes with the terminating NUL
constexpr int kBusyTimeoutMs = 10000;
constexpr int kAttempts = 5;

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, CloseDb>;

absl::Status ErrnoStatus(const std::string& what, int err) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(err)));
}

void RemoveWithSideFiles(const std::string& path) {
  std::error_code ignored;
  for (const char* suffix : {"", "-journal", "-wal", "-shm"}) {
    std::filesystem::remove(path + suffix, ignored);
  }
}

// fsync of a file or folder by path.
absl::Status SyncPath(const std::string& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(absl::StrCat("open ", path), errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus(absl::StrCat("fsync ", path), err);
  return absl::OkStatus();
}

// One attempt: the whole source copied under one read transaction.
absl::Status CopyOnce(const std::string& source_path, const std::string& partial) {
  sqlite3* raw = nullptr;
  // Read-write (never created) but query_only: a read-only connection to a
  // WAL database whose writer is stopped would leave new -wal/-shm files
  // behind, owned by whoever ran the backup; this one removes them on close
  // as the last connection, like marketd does.
  internal::ConfigureOnce();
  int rc = sqlite3_open_v2(source_path.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
  DbPtr source(raw);
  if (rc != SQLITE_OK) {
    return internal::StatusFromDb(rc, raw, absl::StrCat("open ", source_path));
  }
  sqlite3_busy_timeout(source.get(), kBusyTimeoutMs);
  rc = sqlite3_exec(source.get(), "PRAGMA query_only=1", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    return internal::StatusFromDb(rc, source.get(), absl::StrCat("query_only ", source_path));
  }

  RemoveWithSideFiles(partial);
  // Created here so that SQLite keeps the mode (it gives journals the same).
  int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus(absl::StrCat("create ", partial), errno);
  ::close(fd);
  raw = nullptr;
  rc = sqlite3_open_v2(partial.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
  DbPtr dest(raw);
  if (rc != SQLITE_OK) return internal::StatusFromDb(rc, raw, absl::StrCat("open ", partial));
  sqlite3_backup* backup = sqlite3_backup_init(dest.get(), "main", source.get(), "main");
  if (backup == nullptr) {
    return internal::StatusFromDb(sqlite3_extended_errcode(dest.get()), dest.get(),
                                  absl::StrCat("backup ", source_path));
  }
  int step = sqlite3_backup_step(backup, -1);
  int finish = sqlite3_backup_finish(backup);
  if (step != SQLITE_DONE) {
    return internal::StatusFromCode(step, sqlite3_errstr(step),
                                    absl::StrCat("backup ", source_path));
  }
  if (finish != SQLITE_OK) {
    return internal::StatusFromDb(finish, dest.get(), absl::StrCat("backup ", source_path));
  }
  rc = sqlite3_close_v2(dest.release());
  if (rc != SQLITE_OK) {
    return internal::StatusFromCode(rc, sqlite3_errstr(rc), absl::StrCat("close ", partial));
  }
  return SyncPath(partial, /*directory=*/false);
}

std::string PercentEncodePath(const std::string& path) {
  std::string out;
  for (unsigned char c : path) {
    if (absl::ascii_isalnum(c) || c == '/' || c == '.' || c == '-' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppend(&out, "%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

}  // namespace

bool IsDatabaseFile(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) return false;
  std::ifstream in(path, std::ios::binary);
  char header[sizeof(kHeader)] = {};
  if (!in.read(header, sizeof(header))) return false;
  return std::memcmp(header, kHeader, sizeof(kHeader)) == 0;
}

absl::Status BackupDatabaseFile(const std::string& source_path, const std::string& dest_path) {
  std::error_code error;
  if (!std::filesystem::exists(source_path, error)) {
    return absl::NotFoundError(absl::StrCat(source_path, ": no such database file"));
  }
  const std::string partial = dest_path + ".partial";
  absl::Status status;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    status = CopyOnce(source_path, partial);
    if (!absl::IsUnavailable(status)) break;
    absl::SleepFor(absl::Milliseconds(100 * attempt));
  }
  if (status.ok()) {
    // A stale -wal beside dest_path would be replayed into the copy.
    for (const char* suffix : {"-journal", "-wal", "-shm"}) {
      std::filesystem::remove(dest_path + suffix, error);
    }
    std::filesystem::rename(partial, dest_path, error);
    if (error) {
      status = absl::InternalError(
          absl::StrCat("rename ", partial, " to ", dest_path, ": ", error.message()));
    } else {
      std::string parent = std::filesystem::path(dest_path).parent_path().string();
      status = SyncPath(parent.empty() ? "." : parent, /*directory=*/true);
    }
  }
  if (!status.ok()) RemoveWithSideFiles(partial);
  return status;
}

std::string ImmutableUri(const std::string& path) {
  return absl::StrCat("file:", PercentEncodePath(path), "?mode=ro&immutable=1");
}

absl::Status CheckIntegrity(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  }
  Options options;
  options.read_only = true;
  options.wal = false;
  auto data_loss = [&path](const absl::Status& s) {
    return absl::DataLossError(absl::StrCat(path, ": ", s.message()));
  };
  absl::StatusOr<Connection> connection = Connection::Open(ImmutableUri(path), options);
  if (!connection.ok()) return data_loss(connection.status());
  absl::StatusOr<Statement> check = connection->Prepare("PRAGMA integrity_check(10)");
  if (!check.ok()) return data_loss(check.status());
  std::vector<std::string> problems;
  for (;;) {
    absl::StatusOr<bool> row = check->Step();
    if (!row.ok()) return data_loss(row.status());
    if (!*row) break;
    problems.push_back(check->ColumnText(0));
  }
  if (problems.size() == 1 && problems[0] == "ok") return absl::OkStatus();
  return absl::DataLossError(
      absl::StrCat(path, ": integrity_check: ", absl::StrJoin(problems, "; ")));
}

}  // namespace market::sqlite
