#include "services/listing/photo_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/config/files.h"
#include "common/crypto/crypto.h"
#include "common/status/status.h"
#include "services/listing/listing_rules.h"

namespace market::listing {
namespace {

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::ErrnoToStatus(errno, absl::StrCat(what, " ", path));
}

}  // namespace

std::string SniffImageType(absl::string_view b) {
  if (b.size() >= 3 && b.substr(0, 3) == absl::string_view("\xFF\xD8\xFF", 3)) {
    return "image/jpeg";
  }
  if (b.size() >= 8 && b.substr(0, 8) == absl::string_view("\x89PNG\r\n\x1A\n", 8)) {
    return "image/png";
  }
  if (b.size() >= 12 && b.substr(0, 4) == "RIFF" && b.substr(8, 4) == "WEBP") return "image/webp";
  return "";
}

absl::StatusOr<PhotoStore> PhotoStore::Open(const std::string& dir) {
  MARKET_RETURN_IF_ERROR(config::EnsureDir(dir));
  return PhotoStore(dir);
}

std::string PhotoStore::PathOf(const std::string& sha256) const {
  return absl::StrCat(dir_, "/", sha256.substr(0, 2), "/", sha256);
}

absl::StatusOr<v1::Photo> PhotoStore::Put(absl::string_view bytes,
                                          const std::string& declared_type,
                                          const std::string& expected_sha256) const {
  if (bytes.empty()) return InvalidField("data", "empty upload");
  if (static_cast<int64_t>(bytes.size()) > kMaxPhotoBytes) {
    return InvalidField("data", absl::StrCat("larger than ", kMaxPhotoBytes, " bytes"));
  }
  std::string type = SniffImageType(bytes);
  if (type.empty()) return InvalidField("data", "not a JPEG, PNG or WebP image");
  if (!declared_type.empty() && declared_type != type) {
    return InvalidField("content_type",
                        absl::StrCat("declared ", declared_type, " but the bytes are ", type));
  }
  std::string sha = HexEncode(Sha256(bytes));
  if (!expected_sha256.empty() && expected_sha256 != sha) {
    return InvalidField("sha256", absl::StrCat("the bytes hash to ", sha));
  }
  v1::Photo photo;
  photo.set_sha256(sha);
  photo.set_content_type(type);
  photo.set_size_bytes(static_cast<int64_t>(bytes.size()));
  std::string path = PathOf(sha);
  if (::access(path.c_str(), F_OK) == 0) return photo;
  std::string sub = absl::StrCat(dir_, "/", sha.substr(0, 2));
  MARKET_RETURN_IF_ERROR(config::EnsureDir(sub));
  std::string tmp = absl::StrCat(path, ".tmp-", HexEncode(RandomBytes(6)));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("create", tmp);
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      absl::Status s = Errno("write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    absl::Status s = Errno("sync", tmp);
    ::unlink(tmp.c_str());
    return s;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    absl::Status s = Errno("rename", tmp);
    ::unlink(tmp.c_str());
    return s;
  }
  // Make the new directory entry durable before the metadata row commits.
  int dfd = ::open(sub.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return photo;
}

absl::StatusOr<std::string> PhotoStore::Get(const std::string& sha256) const {
  if (!IsSha256Hex(sha256)) return InvalidField("sha256", "want 64 lower-case hex characters");
  std::string path = PathOf(sha256);
  if (::access(path.c_str(), F_OK) != 0) return absl::NotFoundError(absl::StrCat("photo ", sha256));
  return config::ReadFile(path);
}

}  // namespace market::listing
