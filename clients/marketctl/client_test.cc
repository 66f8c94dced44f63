#include "clients/marketctl/client.h"

#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "market/listing/v1/listing.pb.h"
#include "market/warranty/v1/warranty.pb.h"

namespace market::ctl {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class ClientPrintTest : public ::testing::Test {
 protected:
  ClientPrintTest() {
    listing_.set_name("markets/east-flea/listings/mate60");
    listing_.set_title("华为 Mate 60 Pro（512G）");
    listing_.mutable_price()->set_amount_fen(429900);
    listing_.mutable_price()->set_currency("CNY");
  }
  GlobalFlags flags_;
  std::ostringstream out_, err_;
  Client client_{flags_, out_, err_};
  listing::v1::Listing listing_;
};

TEST_F(ClientPrintTest, KeyValueRowsShowMoneyInYuanAlignedByDisplayWidth) {
  client_.Print(listing_);
  EXPECT_EQ(out_.str(),
            "name   markets/east-flea/listings/mate60\n"
            "price  4299.00元\n"
            "title  华为 Mate 60 Pro（512G）\n");
}

TEST_F(ClientPrintTest, JsonKeepsFen) {
  flags_.output = "json";
  client_.Print(listing_);
  EXPECT_THAT(out_.str(), HasSubstr("\"amount_fen\": \"429900\""));
  EXPECT_THAT(out_.str(), Not(HasSubstr("元")));
}

TEST_F(ClientPrintTest, NestedMoneyIsShownInYuan) {
  warranty::v1::Claim claim;
  claim.set_name("claims/c-31");
  claim.mutable_resolution()->set_outcome(warranty::v1::Resolution::REFUNDED);
  claim.mutable_resolution()->mutable_refunded_amount()->set_amount_fen(299900);
  claim.mutable_resolution()->mutable_depreciation_deducted()->set_amount_fen(30000);
  client_.Print(claim);
  EXPECT_THAT(out_.str(), HasSubstr("\"refunded_amount\":\"2999.00元\""));
  EXPECT_THAT(out_.str(), HasSubstr("\"depreciation_deducted\":\"300.00元\""));
  EXPECT_THAT(out_.str(), Not(HasSubstr("amount_fen")));
}

TEST_F(ClientPrintTest, ListTableHasYuanCellsAndAlignsChinese) {
  listing::v1::Order swap;
  swap.set_name("markets/east-flea/orders/o-2");
  swap.mutable_price();  // a swap: price 0
  listing::v1::Order sale;
  sale.set_name("markets/east-flea/orders/o-1");
  sale.mutable_price()->set_amount_fen(129900);
  client_.PrintList({&listing_, &sale, &swap}, {"name", "title", "price"});
  EXPECT_EQ(out_.str(),
            "NAME                               TITLE                     PRICE\n"
            "markets/east-flea/listings/mate60  华为 Mate 60 Pro（512G）  4299.00元\n"
            "markets/east-flea/orders/o-1                                 1299.00元\n"
            "markets/east-flea/orders/o-2                                 0.00元\n");
}

TEST_F(ClientPrintTest, PrintTableAlignsChineseMarketNames) {
  client_.PrintTable({"NAME", "DISPLAY_NAME", "REGION"},
                     {{"markets/east-flea", "东城跳蚤市场", "110101"},
                      {"markets/swap", "Weekend swap", "350203"}});
  EXPECT_EQ(out_.str(),
            "NAME               DISPLAY_NAME  REGION\n"
            "markets/east-flea  东城跳蚤市场  110101\n"
            "markets/swap       Weekend swap  350203\n");
}

}  // namespace
}  // namespace market::ctl
