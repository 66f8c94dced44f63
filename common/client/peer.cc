#include "common/client/peer.h"

namespace market::client {

absl::Status PeerError(absl::string_view what, const absl::Status& status) {
  if (status.ok() || absl::IsNotFound(status)) return status;
  return absl::UnavailableError(absl::StrCat(what, ": ", status.message()));
}

}  // namespace market::client
