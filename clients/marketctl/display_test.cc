#include "clients/marketctl/display.h"

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace market::ctl {
namespace {

TEST(DisplayWidthTest, CjkAndFullWidthCountTwo) {
  EXPECT_EQ(DisplayWidth(""), 0);
  EXPECT_EQ(DisplayWidth("east-flea"), 9);
  EXPECT_EQ(DisplayWidth("东城跳蚤市场"), 12);
  EXPECT_EQ(DisplayWidth("9成新"), 5);
  EXPECT_EQ(DisplayWidth("Mate 60 Pro（512G）"), 19);  // full-width parentheses
  EXPECT_EQ(DisplayWidth("，！：＄"), 8);              // full-width punctuation
  EXPECT_EQ(DisplayWidth("1299.00元"), 9);
}

TEST(DisplayWidthTest, NarrowNonAsciiCombiningMarksAndBadBytes) {
  EXPECT_EQ(DisplayWidth("café"), 4);
  EXPECT_EQ(DisplayWidth("cafe\u0301"), 4);  // e + combining acute accent
  EXPECT_EQ(DisplayWidth("a—b→c"), 5);       // em dash, arrow: three UTF-8 bytes, one column
  EXPECT_EQ(DisplayWidth("a\xff"
                         "b"),
            3);  // not UTF-8: one column a byte
}

TEST(PadToWidthTest, PadsByDisplayColumns) {
  EXPECT_EQ(PadToWidth("市场", 6), "市场  ");
  EXPECT_EQ(PadToWidth("ab", 4), "ab  ");
  EXPECT_EQ(PadToWidth("东城跳蚤市场", 4), "东城跳蚤市场");
}

// The display column where `needle` starts on `line`.
int ColumnOf(const std::string& line, const std::string& needle) {
  size_t at = line.find(needle);
  EXPECT_NE(at, std::string::npos) << needle << " not in " << line;
  return DisplayWidth(line.substr(0, at));
}

TEST(FormatTableTest, ChineseAndAsciiCellsAlignByDisplayWidth) {
  const std::string table = FormatTable({"NAME", "DISPLAY_NAME", "PRICE", "STATE"},
                                        {{"markets/east-flea", "东城跳蚤市场", "4299.00元", "OPEN"},
                                         {"markets/x", "Xiamen Swap 周末", "12.50元", "CLOSED"}});
  EXPECT_EQ(table,
            "NAME               DISPLAY_NAME      PRICE      STATE\n"
            "markets/east-flea  东城跳蚤市场      4299.00元  OPEN\n"
            "markets/x          Xiamen Swap 周末  12.50元    CLOSED\n");
  std::vector<std::string> lines = absl::StrSplit(table, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(ColumnOf(lines[1], "4299.00元"), ColumnOf(lines[0], "PRICE"));
  EXPECT_EQ(ColumnOf(lines[2], "12.50元"), ColumnOf(lines[0], "PRICE"));
  EXPECT_EQ(ColumnOf(lines[1], "OPEN"), ColumnOf(lines[0], "STATE"));
  EXPECT_EQ(ColumnOf(lines[2], "CLOSED"), ColumnOf(lines[0], "STATE"));
}

TEST(FormatTableTest, ShortRowsAndEmptyCells) {
  EXPECT_EQ(FormatTable({"A", "B", "C"}, {{"冰箱", "", "x"}, {"y"}}),
            "A     B  C\n"
            "冰箱     x\n"
            "y\n");
  EXPECT_EQ(FormatTable({"A"}, {}), "A\n");
}

TEST(FormatKeyValuesTest, ValuesStartInOneColumn) {
  EXPECT_EQ(FormatKeyValues({{"name", "markets/east-flea"},
                             {"display_name", "东城跳蚤市场"},
                             {"区域", "东城"},
                             {"price", "4299.00元"}}),
            "name          markets/east-flea\n"
            "display_name  东城跳蚤市场\n"
            "区域          东城\n"
            "price         4299.00元\n");
}

}  // namespace
}  // namespace market::ctl
