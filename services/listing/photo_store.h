// Content-addressed photo files: the bytes of a photo live at
// DIR/ab/abcdef… (lower-case hex SHA-256), written to a temporary file,
// fsync'ed and renamed into place, so a crash never leaves a partial photo
// under its final name. The type is sniffed from the bytes: JPEG, PNG and
// WebP only. Thread-safe (distinct photos never share a temporary file; the
// same photo written twice renames identical bytes).
#ifndef MARKET_SERVICES_LISTING_PHOTO_STORE_H_
#define MARKET_SERVICES_LISTING_PHOTO_STORE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "market/listing/v1/listing.pb.h"

namespace market::listing {

inline constexpr int64_t kMaxPhotoBytes = 10 << 20;  // 10 MiB

// "image/jpeg", "image/png" or "image/webp" from the leading bytes, or "".
std::string SniffImageType(absl::string_view bytes);

class PhotoStore {
 public:
  // Creates `dir` (0700) when missing.
  static absl::StatusOr<PhotoStore> Open(const std::string& dir);

  // Checks and stores `bytes`: INVALID_ARGUMENT "data" when empty, larger than
  // kMaxPhotoBytes, or not a JPEG/PNG/WebP; INVALID_ARGUMENT "content_type"
  // when `declared_type` is set and differs from the sniffed type;
  // INVALID_ARGUMENT "sha256" when `expected_sha256` is set and differs.
  // Returns the photo (sha256, content_type, size_bytes). Storing the same
  // bytes again is a no-op returning the same photo.
  absl::StatusOr<v1::Photo> Put(absl::string_view bytes, const std::string& declared_type,
                                const std::string& expected_sha256) const;
  // The bytes of a stored photo; NOT_FOUND when absent.
  absl::StatusOr<std::string> Get(const std::string& sha256) const;
  // Path of a photo's file (whether or not it exists).
  std::string PathOf(const std::string& sha256) const;

 private:
  explicit PhotoStore(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

}  // namespace market::listing

#endif  // MARKET_SERVICES_LISTING_PHOTO_STORE_H_
