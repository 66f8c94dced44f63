#include "clients/marketctl/money.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace market::ctl {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(ParseYuanTest, AcceptsUpToTwoDecimals) {
  EXPECT_EQ(*ParseYuan("1299.50"), 129950);
  EXPECT_EQ(*ParseYuan("1299.5"), 129950);
  EXPECT_EQ(*ParseYuan("1299"), 129900);
  EXPECT_EQ(*ParseYuan("0.05"), 5);
  EXPECT_EQ(*ParseYuan("0"), 0);
  EXPECT_EQ(*ParseYuan(" 12.34 "), 1234);
}

TEST(ParseYuanTest, AcceptsTheYuanUnit) {
  EXPECT_EQ(*ParseYuan("1000元"), 100000);
  EXPECT_EQ(*ParseYuan("12.5元"), 1250);
  EXPECT_EQ(*ParseYuan("0.01元"), 1);
  EXPECT_EQ(*ParseYuan("4299.00 元"), 429900);
  EXPECT_EQ(*ParseYuan("12yuan"), 1200);
  EXPECT_EQ(*ParseYuan("12 YUAN"), 1200);
}

TEST(ParseYuanTest, RejectsMoreDecimalsNegativesAndJunk) {
  for (const char* bad : {"1.234", "1.234元", "-1", "-0.50", "", "元", "yuan", "1.", ".5", "1e3",
                          "12,50", "¥12", "1.2.3", "12分", "12元元", "99999999999999999999"}) {
    EXPECT_EQ(ParseYuan(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ParseYuan("1.234元").status().message(),
            "\"1.234元\": more than two decimals (1 fen = 0.01 yuan)");
  EXPECT_THAT(std::string(ParseYuan("-5").status().message()), HasSubstr("negative"));
}

TEST(ParseYuanFlagTest, ErrorNamesTheFlag) {
  EXPECT_EQ(*ParseYuanFlag("--price", "12.5元"), 1250);
  EXPECT_EQ(ParseYuanFlag("--price", "1.234元").status().message(),
            "--price \"1.234元\": more than two decimals (1 fen = 0.01 yuan)");
  EXPECT_THAT(std::string(ParseYuanFlag("--refund-yuan", "abc").status().message()),
              StartsWith("--refund-yuan \"abc\": want yuan"));
}

TEST(FormatFenTest, TwoDecimals) {
  EXPECT_EQ(FormatFen(129950), "1299.50");
  EXPECT_EQ(FormatFen(5), "0.05");
  EXPECT_EQ(FormatFen(0), "0.00");
  EXPECT_EQ(FormatFen(-105), "-1.05");
}

TEST(FormatYuanTest, TwoDecimalsAndTheUnitWithoutGrouping) {
  EXPECT_EQ(FormatYuan(129900), "1299.00元");
  EXPECT_EQ(FormatYuan(1), "0.01元");
  EXPECT_EQ(FormatYuan(680000000), "6800000.00元");
  // What is shown can be typed back.
  EXPECT_EQ(*ParseYuan(FormatYuan(123456789)), 123456789);
}

TEST(FormatMoneyTest, CnyAsYuanOtherCurrenciesByCode) {
  common::v1::Money m;
  m.set_amount_fen(429900);
  EXPECT_EQ(FormatMoney(m), "4299.00元");
  m.set_currency("CNY");
  EXPECT_EQ(FormatMoney(m), "4299.00元");
  m.set_currency("USD");
  EXPECT_EQ(FormatMoney(m), "4299.00 USD");
}

TEST(MoneyFilterToFenTest, YuanTermsBecomeFen) {
  EXPECT_EQ(*MoneyFilterToFen("price>=1000元", "price"), "price>=100000");
  EXPECT_EQ(*MoneyFilterToFen("price<=12.5元", "price"), "price<=1250");
  EXPECT_EQ(*MoneyFilterToFen("price>0.01元", "price"), "price>1");
  EXPECT_EQ(*MoneyFilterToFen("price < 3.5 yuan", "price"), "price<350");
  EXPECT_EQ(*MoneyFilterToFen("price>=\"1299.50元\"", "price"), "price>=129950");
  EXPECT_EQ(*MoneyFilterToFen("category=PHONE AND price>=1000元 AND price<=2000元", "price"),
            "category=PHONE AND price>=100000 AND price<=200000");
}

TEST(MoneyFilterToFenTest, FenTermsAndOtherTermsStayAsWritten) {
  EXPECT_EQ(*MoneyFilterToFen("price<=400000", "price"), "price<=400000");  // bare: fen
  EXPECT_EQ(*MoneyFilterToFen("price<=500分", "price"), "price<=500");
  EXPECT_EQ(*MoneyFilterToFen("price<=500 fen", "price"), "price<=500");
  EXPECT_EQ(*MoneyFilterToFen("seller=\"subjects/元\" AND grade>=\"9成新\"", "price"),
            "seller=\"subjects/元\" AND grade>=\"9成新\"");
  EXPECT_EQ(*MoneyFilterToFen("", "price"), "");
  EXPECT_EQ(*MoneyFilterToFen("nonsense", "price"), "nonsense");  // the server explains
}

TEST(MoneyFilterToFenTest, MalformedAmountsAreInvalidArgument) {
  EXPECT_EQ(MoneyFilterToFen("category=PHONE AND price>=1.234元", "price").status().message(),
            "\"price>=1.234元\": more than two decimals (1 fen = 0.01 yuan)");
  EXPECT_EQ(MoneyFilterToFen("price>=-1元", "price").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MoneyFilterToFen("price>=元", "price").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(MoneyFilterToFen("price>=1.5分", "price").status().message()),
              HasSubstr("want whole fen"));
}

class MoneyFilterTransformTest : public ::testing::Test {
 protected:
  MoneyFilterTransformTest() {
    app_.add_option("--filter", filter_)->transform(MoneyFilterTransform("price"));
  }
  CLI::App app_{"test"};
  std::string filter_;
};

TEST_F(MoneyFilterTransformTest, TheBoundValueCarriesFen) {
  app_.parse(std::vector<std::string>{"category=PHONE AND price>=12.5元", "--filter"});
  EXPECT_EQ(filter_, "category=PHONE AND price>=1250");
}

TEST_F(MoneyFilterTransformTest, AMalformedAmountFailsParsingNamingTheFlag) {
  try {
    app_.parse(std::vector<std::string>{"price>=1.234元", "--filter"});
    FAIL() << "parsed; filter_ = " << filter_;
  } catch (const CLI::ValidationError& e) {
    EXPECT_THAT(std::string(e.what()), StartsWith("--filter: \"price>=1.234元\": more than two"));
  }
}

}  // namespace
}  // namespace market::ctl
