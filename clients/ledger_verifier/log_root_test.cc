#include "clients/ledger_verifier/log_root.h"

#include <string>
#include <vector>

#include "clients/ledger_verifier/verifier.h"
#include "gtest/gtest.h"

namespace market::ledger {
namespace {

// RFC 9162 MTH computed recursively from leaf hashes.
std::string NaiveRoot(const std::vector<std::string>& hashes, size_t begin, size_t end) {
  if (end == begin) return EmptyRootHash();
  if (end - begin == 1) return hashes[begin];
  size_t k = 1;
  while (k * 2 < end - begin) k *= 2;
  return NodeHash(NaiveRoot(hashes, begin, begin + k), NaiveRoot(hashes, begin + k, end));
}

TEST(RootBuilderTest, EmptyIsEmptyRoot) { EXPECT_EQ(RootBuilder().Root(), EmptyRootHash()); }

TEST(RootBuilderTest, MatchesNaiveRootForEverySizeUpTo300) {
  RootBuilder builder;
  std::vector<std::string> hashes;
  for (int i = 0; i < 300; ++i) {
    hashes.push_back(LeafHash(std::string(1, static_cast<char>(i)) + std::to_string(i)));
    builder.AddLeafHash(hashes.back());
    ASSERT_EQ(builder.Root(), NaiveRoot(hashes, 0, hashes.size())) << "size " << hashes.size();
  }
  EXPECT_EQ(builder.size(), 300);
}

TEST(RootBuilderTest, Rfc6962EightLeafRoot) {
  const std::vector<std::string> leaves = {"",
                                           std::string("\x00", 1),
                                           "\x10",
                                           "\x20\x21",
                                           "\x30\x31",
                                           "\x40\x41\x42\x43",
                                           "\x50\x51\x52\x53\x54\x55\x56\x57",
                                           "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c"
                                           "\x6d\x6e\x6f"};
  RootBuilder builder;
  for (const auto& leaf : leaves) builder.AddLeafHash(LeafHash(leaf));
  std::string hex;
  for (unsigned char c : builder.Root()) {
    static const char* digits = "0123456789abcdef";
    hex += digits[c >> 4];
    hex += digits[c & 15];
  }
  EXPECT_EQ(hex, "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
}

}  // namespace
}  // namespace market::ledger
