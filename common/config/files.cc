#include "common/config/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/crypto/crypto.h"
#include "common/status/status.h"

namespace market::config {
namespace {

absl::Status ErrnoStatus(const std::string& what, int err) {
  return absl::ErrnoToStatus(err, what);
}

}  // namespace

absl::Status EnsureDir(const std::string& path) {
  std::error_code ec;
  bool created = std::filesystem::create_directories(path, ec);
  if (ec) return ErrnoStatus(absl::StrCat("create ", path), ec.value());
  if (created) {
    // Data folders hold password hashes, signing keys and personal data.
    std::filesystem::permissions(path, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
    if (ec) return ErrnoStatus(absl::StrCat("chmod ", path), ec.value());
  }
  return absl::OkStatus();
}

absl::Status WriteOwnerOnlyFile(const std::string& path, absl::string_view content) {
  if (size_t slash = path.rfind('/'); slash != std::string::npos && slash > 0) {
    MARKET_RETURN_IF_ERROR(EnsureDir(path.substr(0, slash)));
  }
  std::string tmp = absl::StrCat(path, ".tmp");
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus(absl::StrCat("open ", tmp), errno);
  ::fchmod(fd, 0600);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return ErrnoStatus(absl::StrCat("write ", tmp), err);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) return ErrnoStatus(absl::StrCat("sync ", tmp), errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return ErrnoStatus(absl::StrCat("rename to ", path), errno);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(absl::StrCat("open ", path), errno);
  std::string out;
  char buf[8192];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return ErrnoStatus(absl::StrCat("read ", path), err);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

absl::StatusOr<std::string> LoadOrCreateSecret(const std::string& path, size_t size) {
  absl::StatusOr<std::string> existing = ReadFile(path);
  if (existing.ok()) {
    if (existing->size() < size) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, " holds ", existing->size(), " bytes, want ", size));
    }
    return existing;
  }
  if (!absl::IsNotFound(existing.status())) return existing.status();
  std::string secret = RandomBytes(size);
  MARKET_RETURN_IF_ERROR(WriteOwnerOnlyFile(path, secret));
  return secret;
}

}  // namespace market::config
