// Online backup of SQLite database files by another process than the one
// writing them (WAL mode), and read-only checks of the copies. Thread-safe:
// every function uses connections of its own.
#ifndef MARKET_COMMON_SQLITE_BACKUP_H_
#define MARKET_COMMON_SQLITE_BACKUP_H_

#include <string>

#include "absl/status/status.h"

namespace market::sqlite {

// True when `path` is a regular file that starts with the SQLite 3 header
// ("SQLite format 3\0"). False for missing, short or other files.
bool IsDatabaseFile(const std::string& path);

// Copies the database at `source_path` to `dest_path` with the SQLite online
// backup API while other connections (in this or another process) keep
// reading and writing. The source is opened query-only (nothing written; as
// the last connection it removes its -wal/-shm on close, so a stopped
// server's folder is left as found) and copied in one
// sqlite3_backup_step(-1), i.e. under one read transaction: the copy holds
// exactly the commits before that snapshot, and writers are not blocked (WAL).
// The copy is a self-contained file in rollback-journal mode (no -wal), made
// as `dest_path`.partial with mode 0600, synced, then renamed over
// `dest_path`. NOT_FOUND when `source_path` does not exist; UNAVAILABLE when
// it stayed locked; INTERNAL on other SQLite or I/O errors. Messages name the
// file.
absl::Status BackupDatabaseFile(const std::string& source_path, const std::string& dest_path);

// A "file:" URI opening the database at `path` read-only and immutable: no
// locks, no -wal/-shm files, nothing written. Only for files nobody writes.
std::string ImmutableUri(const std::string& path);

// Runs PRAGMA integrity_check on the database at `path`, opened through
// ImmutableUri(). OK when it reports "ok"; DATA_LOSS with the reported
// problems (at most 10), or with SQLite's error for a file that is not a
// database; NOT_FOUND when the file does not exist.
absl::Status CheckIntegrity(const std::string& path);

}  // namespace market::sqlite

#endif  // MARKET_COMMON_SQLITE_BACKUP_H_
