#include "clients/marketctl/suggest.h"

#include "gtest/gtest.h"

namespace market::ctl {
namespace {

class SuggestTest : public ::testing::Test {
 protected:
  SuggestTest() {
    app_.add_option("--server", server_);
    auto* listing = app_.add_subcommand("listing", "listings");
    listing->add_subcommand("search", "search")->add_option("--query", query_);
    listing->add_subcommand("get", "get")->add_option("name", query_);
    app_.add_subcommand("ledger", "ledger")->add_subcommand("verify", "verify");
  }
  CLI::App app_{"test"};
  std::string server_, query_;
};

TEST_F(SuggestTest, TypoInASubcommandSuggestsTheNearestSibling) {
  EXPECT_EQ(UnknownCommand(app_, {"listing", "serch", "--query", "x"}),
            "unknown command 'serch' (did you mean 'search'?)");
}

TEST_F(SuggestTest, TypoInATopLevelCommandSkipsOptionValues) {
  EXPECT_EQ(UnknownCommand(app_, {"--server", "listing", "ledgr", "verify"}),
            "unknown command 'ledgr' (did you mean 'ledger'?)");
}

TEST_F(SuggestTest, FarOffWordGetsNoSuggestion) {
  EXPECT_EQ(UnknownCommand(app_, {"shopping"}), "unknown command 'shopping'");
}

TEST_F(SuggestTest, ValidLinesAndPositionalsAreNotFlagged) {
  EXPECT_EQ(UnknownCommand(app_, {"listing", "search", "--query", "serch"}), std::nullopt);
  EXPECT_EQ(UnknownCommand(app_, {"listing", "get", "markets/m/listings/x"}), std::nullopt);
  EXPECT_EQ(UnknownCommand(app_, {"--server=a:1", "ledger", "verify"}), std::nullopt);
  EXPECT_EQ(UnknownCommand(app_, {"listing", "--help", "whatever"}), std::nullopt);
}

TEST(EditDistanceTest, CountsInsertionsDeletionsAndSubstitutions) {
  EXPECT_EQ(EditDistance("serch", "search"), 1);
  EXPECT_EQ(EditDistance("ledger", "ledger"), 0);
  EXPECT_EQ(EditDistance("abc", "xyz"), 3);
  EXPECT_EQ(EditDistance("", "abc"), 3);
}

}  // namespace
}  // namespace market::ctl
