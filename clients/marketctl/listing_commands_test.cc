#include "clients/marketctl/listing_commands.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace market::ctl::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
namespace v1 = ::market::listing::v1;

TEST(SplitCsvTest, RepeatsTheHeaderInEveryBatch) {
  const std::string csv = "title,price.amount_fen\na,1\nb,2\nc,3\nd,4\ne,5\n";
  auto batches = SplitCsv(csv, 2);
  ASSERT_TRUE(batches.ok()) << batches.status();
  ASSERT_EQ(batches->size(), 3u);
  EXPECT_EQ((*batches)[0].csv, "title,price.amount_fen\na,1\nb,2\n");
  EXPECT_EQ((*batches)[1].csv, "title,price.amount_fen\nc,3\nd,4\n");
  EXPECT_EQ((*batches)[2].csv, "title,price.amount_fen\ne,5\n");
  EXPECT_EQ((*batches)[0].first_row, 1);
  EXPECT_EQ((*batches)[1].first_row, 3);
  EXPECT_EQ((*batches)[2].first_row, 5);
  EXPECT_EQ((*batches)[2].rows, 1);
}

TEST(SplitCsvTest, QuotedNewlinesStayInsideOneRecord) {
  const std::string csv =
      "title,description\r\n"
      "a,\"line one\nline two, with comma\"\r\n"
      "b,\"say \"\"hi\"\"\n\nagain\"\r\n"
      "c,plain\r\n";
  auto batches = SplitCsv(csv, 2);
  ASSERT_TRUE(batches.ok()) << batches.status();
  ASSERT_EQ(batches->size(), 2u);
  EXPECT_EQ((*batches)[0].rows, 2);
  EXPECT_EQ((*batches)[0].csv,
            "title,description\r\n"
            "a,\"line one\nline two, with comma\"\r\n"
            "b,\"say \"\"hi\"\"\n\nagain\"\r\n");
  EXPECT_EQ((*batches)[1].csv, "title,description\r\nc,plain\r\n");
  EXPECT_EQ((*batches)[1].first_row, 3);
}

TEST(SplitCsvTest, QuotedHeaderWithNewlineIsRepeatedWhole) {
  const std::string csv = "\"title\",\"desc\nription\"\nx,y\nz,w";
  auto batches = SplitCsv(csv, 1);
  ASSERT_TRUE(batches.ok()) << batches.status();
  ASSERT_EQ(batches->size(), 2u);
  EXPECT_EQ((*batches)[1].csv, "\"title\",\"desc\nription\"\nz,w");
}

TEST(SplitCsvTest, BlankRecordsAndBomAreDroppedLikeTheServer) {
  const std::string csv = "\xEF\xBB\xBF\ntitle\n\na\n , \n\"\"\nb\n";
  auto batches = SplitCsv(csv, 500);
  ASSERT_TRUE(batches.ok()) << batches.status();
  ASSERT_EQ(batches->size(), 1u);
  EXPECT_EQ((*batches)[0].csv, "title\na\nb\n");
  EXPECT_EQ((*batches)[0].rows, 2);
}

TEST(SplitCsvTest, QuoteInsideAnUnquotedCellIsText) {
  auto batches = SplitCsv("title\n5\" screen\nnext\n", 1);
  ASSERT_TRUE(batches.ok()) << batches.status();
  ASSERT_EQ(batches->size(), 2u);
  EXPECT_EQ((*batches)[0].csv, "title\n5\" screen\n");
}

TEST(SplitCsvTest, HeaderOnlyGivesOneEmptyBatch) {
  auto batches = SplitCsv("title,price.amount_fen", 500);
  ASSERT_TRUE(batches.ok()) << batches.status();
  ASSERT_EQ(batches->size(), 1u);
  EXPECT_EQ((*batches)[0].csv, "title,price.amount_fen\n");
  EXPECT_EQ((*batches)[0].rows, 0);
  auto none = SplitCsv("", 500);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(SplitCsvTest, UnterminatedQuoteIsInvalidArgument) {
  auto batches = SplitCsv("title\na\n\"open\nstill open\n", 500);
  EXPECT_EQ(batches.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(batches.status().message()), HasSubstr("line 3"));
  EXPECT_EQ(SplitCsv("title\n", 0).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SplitCsvTest, ManyRowsSplitIntoFullBatches) {
  std::string csv = "title\n";
  for (int i = 0; i < 1234; ++i) absl::StrAppend(&csv, "\"item ", i, "\nsecond line\"\n");
  auto batches = SplitCsv(csv, 500);
  ASSERT_TRUE(batches.ok()) << batches.status();
  ASSERT_EQ(batches->size(), 3u);
  EXPECT_EQ((*batches)[0].rows, 500);
  EXPECT_EQ((*batches)[1].rows, 500);
  EXPECT_EQ((*batches)[2].rows, 234);
  EXPECT_EQ((*batches)[2].first_row, 1001);
  EXPECT_THAT((*batches)[2].csv, ::testing::StartsWith("title\n\"item 1000\nsecond line\"\n"));
}

TEST(ImportRowsTest, RenumberAndMergeGiveWholeFileRows) {
  v1::ImportListingsResponse total;
  v1::ImportListingsResponse first;
  first.add_results()->set_row(1);
  first.add_results()->set_row(2);
  first.set_created_count(2);
  first.set_committed(true);
  RenumberRows(1, &first);
  MergeImportResponse(first, &total);

  v1::ImportListingsResponse second;
  second.add_results()->set_row(1);
  auto* bad = second.add_results();
  bad->set_row(2);
  bad->add_violations()->set_field("phone.imei");
  second.set_created_count(1);
  second.set_failed_count(1);
  second.set_committed(true);
  RenumberRows(501, &second);
  EXPECT_EQ(second.results(1).row(), 502);
  MergeImportResponse(second, &total);

  std::vector<int> rows;
  for (const auto& r : total.results()) rows.push_back(r.row());
  EXPECT_THAT(rows, ElementsAre(1, 2, 501, 502));
  EXPECT_EQ(total.created_count(), 3);
  EXPECT_EQ(total.failed_count(), 1);
  EXPECT_TRUE(total.committed());
  EXPECT_EQ(total.results(3).violations(0).field(), "phone.imei");
}

TEST(ImportRowsTest, NothingCommittedStaysUncommitted) {
  v1::ImportListingsResponse total;
  v1::ImportListingsResponse batch;
  batch.set_failed_count(3);
  MergeImportResponse(batch, &total);
  EXPECT_FALSE(total.committed());
  EXPECT_EQ(total.failed_count(), 3);
}

TEST(ChildNameTest, FullShortAndBareNames) {
  EXPECT_EQ(*ChildName("markets/m/listings/l", "", "listings"), "markets/m/listings/l");
  EXPECT_EQ(*ChildName("m/listings/l", "", "listings"), "markets/m/listings/l");
  EXPECT_EQ(*ChildName("l", "m", "listings"), "markets/m/listings/l");
  EXPECT_EQ(*ChildName("l", "markets/m", "listings"), "markets/m/listings/l");
  EXPECT_EQ(*ChildName("o-1", "east", "orders"), "markets/east/orders/o-1");
}

TEST(ChildNameTest, RejectsBareIdWithoutMarketAndOtherCollections) {
  EXPECT_EQ(ChildName("l", "", "listings").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ChildName("markets/m/orders/o", "", "listings").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ChildName("a/b", "m", "listings").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ChildName("l", "markets/a/b", "listings").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ChildName("", "m", "listings").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(NormalizeMaskTest, DropsDuplicatesAndCoveredPaths) {
  EXPECT_THAT(NormalizeMask({"price", "phone.imei", "title", "phone", "price", "phone_x"}),
              ElementsAre("phone", "phone_x", "price", "title"));
  EXPECT_THAT(NormalizeMask({"vehicle.vin", "vehicle.mileage_km"}),
              ElementsAre("vehicle.mileage_km", "vehicle.vin"));
}

TEST(ContentTypeForTest, ByExtension) {
  EXPECT_EQ(ContentTypeFor("a/b/front.JPG"), "image/jpeg");
  EXPECT_EQ(ContentTypeFor("x.jpeg"), "image/jpeg");
  EXPECT_EQ(ContentTypeFor("x.png"), "image/png");
  EXPECT_EQ(ContentTypeFor("x.webp"), "image/webp");
  EXPECT_EQ(ContentTypeFor("x.gif"), "");
  EXPECT_EQ(ContentTypeFor("dir.jpg/noext"), "");
}

}  // namespace
}  // namespace market::ctl::internal
