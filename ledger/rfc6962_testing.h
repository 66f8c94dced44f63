// Test-only RFC 6962 / RFC 9162 reference: the published test vectors and a
// naive recursive MTH / PATH / PROOF written from the RFC independently of
// merkle_tree.cc and proof.cc, so tests compare two computations. Not
// thread-safe (NaiveTree memoizes).
#ifndef MARKET_LEDGER_RFC6962_TESTING_H_
#define MARKET_LEDGER_RFC6962_TESTING_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/crypto/crypto.h"

namespace market::ledger {

// Lower-case hex to bytes (test literals only).
inline std::string Unhex(absl::string_view hex) {
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  }
  return out;
}

// SHA-256(0x00 ‖ leaf) and SHA-256(0x01 ‖ left ‖ right), spelled out again.
inline std::string RefLeafHash(absl::string_view leaf) {
  return Sha256(std::string(1, '\x00') + std::string(leaf));
}
inline std::string RefNodeHash(const std::string& left, const std::string& right) {
  return Sha256(std::string(1, '\x01') + left + right);
}

inline int64_t RefSplit(int64_t n) {
  int64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

// Naive recursive MTH / PATH / PROOF over a vector of leaf hashes. MTH of a
// range depends only on the leaves in it, so one memo serves every prefix.
class NaiveTree {
 public:
  explicit NaiveTree(std::vector<std::string> leaf_hashes) : leaves_(std::move(leaf_hashes)) {}

  // MTH(D[lo:hi]).
  std::string Mth(int64_t lo, int64_t hi) {
    if (hi == lo) return Sha256("");
    if (hi - lo == 1) return leaves_[lo];
    auto it = memo_.find({lo, hi});
    if (it != memo_.end()) return it->second;
    const int64_t k = RefSplit(hi - lo);
    std::string h = RefNodeHash(Mth(lo, lo + k), Mth(lo + k, hi));
    memo_[{lo, hi}] = h;
    return h;
  }

  // PATH(m, D[lo:hi]), m relative to lo.
  std::vector<std::string> Path(int64_t m, int64_t lo, int64_t hi) {
    if (hi - lo <= 1) return {};
    const int64_t k = RefSplit(hi - lo);
    std::vector<std::string> out;
    if (m < k) {
      out = Path(m, lo, lo + k);
      out.push_back(Mth(lo + k, hi));
    } else {
      out = Path(m - k, lo + k, hi);
      out.push_back(Mth(lo, lo + k));
    }
    return out;
  }

  // SUBPROOF(m, D[lo:hi], b), m relative to lo.
  std::vector<std::string> SubProof(int64_t m, int64_t lo, int64_t hi, bool b) {
    const int64_t n = hi - lo;
    if (m == n) return b ? std::vector<std::string>{} : std::vector<std::string>{Mth(lo, hi)};
    const int64_t k = RefSplit(n);
    std::vector<std::string> out;
    if (m <= k) {
      out = SubProof(m, lo, lo + k, b);
      out.push_back(Mth(lo + k, hi));
    } else {
      out = SubProof(m - k, lo + k, hi, false);
      out.push_back(Mth(lo, lo + k));
    }
    return out;
  }

  std::vector<std::string> Proof(int64_t m, int64_t n) { return SubProof(m, 0, n, true); }

 private:
  std::vector<std::string> leaves_;
  std::map<std::pair<int64_t, int64_t>, std::string> memo_;
};

// ---- RFC 6962 test vectors (certificate-transparency / trillian merkle/testonly) ----

// The eight leaves of the test tree; kVectorRoots[n] is the root of the first n.
inline std::vector<std::string> VectorLeaves() {
  return {Unhex(""),
          Unhex("00"),
          Unhex("10"),
          Unhex("2021"),
          Unhex("3031"),
          Unhex("40414243"),
          Unhex("5051525354555657"),
          Unhex("606162636465666768696a6b6c6d6e6f")};
}

inline constexpr const char* kVectorRoots[] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

}  // namespace market::ledger

#endif  // MARKET_LEDGER_RFC6962_TESTING_H_
