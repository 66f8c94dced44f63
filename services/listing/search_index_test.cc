#include "services/listing/search_index.h"

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/resource/resource.h"
#include "common/sqlite/sqlite_testing.h"
#include "common/status/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/listing/listing_tables.h"
#include "services/listing/sqlite_market_store.h"

namespace market::listing {
namespace {

using ::market::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr const char* kBrands[] = {"海尔", "美的", "格力", "华为", "小米", "Apple", "苹果", "索尼"};
constexpr const char* kProducts[] = {"冰箱",   "双门冰箱",     "手机",   "沙发",
                                     "空调",   "1.5匹空调",    "电视",   "iPhone13",
                                     "洗衣机", "IPHONE13 Pro", "电饭煲", "书桌"};
constexpr const char* kConditions[] = {"全新", "九成新", "八成新", "自用二手", "功能正常"};

const absl::Time kBase = absl::FromUnixSeconds(1790000000);

// The reference: a brute-force substring scan over the listings the test
// saved, in the order SearchListings promises.
struct Reference {
  std::vector<v1::Listing> listings;

  std::vector<std::string> Search(const SearchQuery& q) const {
    std::string needle = FoldForSearch(q.text);
    struct Hit {
      bool title;
      int64_t key;
      std::string name;
    };
    std::vector<Hit> hits;
    for (const v1::Listing& l : listings) {
      if (l.state() != q.state) continue;
      if (q.max_price_fen.has_value() && l.price().amount_fen() > *q.max_price_fen) continue;
      bool in_title = FoldForSearch(l.title()).find(needle) != std::string::npos;
      bool in_description = FoldForSearch(l.description()).find(needle) != std::string::npos;
      if (!in_title && !in_description) continue;
      bool by_price =
          q.order == SearchQuery::Order::kPriceAsc || q.order == SearchQuery::Order::kPriceDesc;
      int64_t key =
          by_price ? l.price().amount_fen() : absl::ToUnixMicros(FromTimestamp(l.publish_time()));
      hits.push_back({in_title, key, l.name()});
    }
    bool asc =
        q.order == SearchQuery::Order::kPublishAsc || q.order == SearchQuery::Order::kPriceAsc;
    bool relevance = q.order == SearchQuery::Order::kRelevance && !q.text.empty();
    std::sort(hits.begin(), hits.end(), [&](const Hit& a, const Hit& b) {
      if (relevance && a.title != b.title) return a.title;
      if (a.key != b.key) return asc ? a.key < b.key : a.key > b.key;
      return asc ? a.name < b.name : a.name > b.name;
    });
    std::vector<std::string> names;
    for (const Hit& h : hits) names.push_back(h.name);
    return names;
  }
};

class SearchIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(store_, SqliteMarketStore::Open(dir_.File("listing.db")));
    ASSERT_OK(db().Write([](sqlite::Connection& c) -> absl::Status {
      v1::Market m;
      m.set_name("markets/m");
      m.set_region_code("350102");
      MARKET_ASSIGN_OR_RETURN(
          sqlite::Statement st,
          c.Prepare("INSERT INTO markets(name, operator, kind, region_code, categories, version, "
                    "data) VALUES('markets/m', 'subjects/op', 1, '350102', '|', 1, ?)"));
      MARKET_RETURN_IF_ERROR(st.BindBlob(1, m.SerializeAsString()));
      return st.Run();
    }));
  }

  sqlite::Database& db() { return store_->db(); }

  // A published listing `l<i>` with the given texts; publish times repeat
  // every 7 listings so the name breaks ties.
  v1::Listing MakeListing(int i, const std::string& title, const std::string& description) {
    v1::Listing l;
    l.set_name(absl::StrCat("markets/m/listings/l", 1000 + i));
    l.set_seller("subjects/s");
    l.set_category(common::v1::APPLIANCE);
    l.set_title(title);
    l.set_description(description);
    l.mutable_price()->set_amount_fen(1000 + (i * 7919) % 50000);
    l.set_state(i % 11 == 0 ? v1::Listing::DRAFT : v1::Listing::PUBLISHED);
    *l.mutable_publish_time() = ToTimestamp(kBase + absl::Minutes(i % 7 == 0 ? 0 : i));
    *l.mutable_create_time() = l.publish_time();
    return l;
  }

  // Saves `listings` (inserts when at version 1) in one transaction and
  // records them in the reference.
  void SaveAll(const std::vector<v1::Listing>& listings, int64_t version) {
    ASSERT_OK(db().Write([&](sqlite::Connection& c) -> absl::Status {
      for (const v1::Listing& l : listings) {
        MARKET_RETURN_IF_ERROR(SaveListing(c, l, version, version == 1).status());
      }
      return absl::OkStatus();
    }));
    for (const v1::Listing& l : listings) Remember(l);
  }
  void Save(const v1::Listing& l, int64_t version) { SaveAll({l}, version); }

  void Remember(const v1::Listing& l) {
    auto it = std::find_if(ref_.listings.begin(), ref_.listings.end(),
                           [&](const v1::Listing& x) { return x.name() == l.name(); });
    if (it == ref_.listings.end()) {
      ref_.listings.push_back(l);
    } else {
      *it = l;
    }
  }

  // `n` listings with generated Chinese/Latin titles; most descriptions say 二手.
  void SaveGenerated(int n) {
    std::mt19937 rng(17);
    std::vector<v1::Listing> listings;
    for (int i = 0; i < n; ++i) {
      std::string title = absl::StrCat(kConditions[rng() % 5], " ", kBrands[rng() % 8],
                                       kProducts[rng() % 12], " 型号", rng() % 500);
      std::string description =
          rng() % 10 < 8 ? absl::StrCat("二手", kProducts[rng() % 12], "，成色好，自提")
                         : absl::StrCat("闲置转让，", kBrands[rng() % 8], "原装配件齐全");
      listings.push_back(MakeListing(i, title, description));
    }
    SaveAll(listings, 1);
  }

  // Every page of `q` with page size `page`, as names.
  std::vector<std::string> AllPages(const SearchQuery& q, int page) {
    std::vector<std::string> names;
    std::optional<SearchCursor> after;
    for (int guard = 0; guard < 10000; ++guard) {
      std::vector<SearchHit> hits;
      EXPECT_OK(db().Read([&](sqlite::Connection& c) -> absl::Status {
        MARKET_ASSIGN_OR_RETURN(hits, SearchListings(c, q, after, page, kBase));
        return absl::OkStatus();
      }));
      for (const SearchHit& h : hits) names.push_back(h.row.listing.name());
      if (static_cast<int>(hits.size()) < page) return names;
      after = hits.back().cursor;
    }
    ADD_FAILURE() << "more than 10000 pages";
    return names;
  }

  SearchQuery Text(const std::string& text, const std::string& order_by = "") {
    absl::StatusOr<SearchQuery> q = ParseSearch("markets/-", "", text, order_by);
    EXPECT_OK(q.status());
    return q.value_or(SearchQuery{});
  }

  // Compares every page of `q` (page sizes 4 and 50) with the reference.
  void ExpectSameAsScan(const SearchQuery& q) {
    std::vector<std::string> want = ref_.Search(q);
    EXPECT_EQ(AllPages(q, 4), want) << "query " << q.text;
    EXPECT_EQ(AllPages(q, 50), want) << "query " << q.text;
  }

  int64_t Postings(const std::string& gram) {
    int64_t n = -1;
    EXPECT_OK(db().Read([&](sqlite::Connection& c) -> absl::Status {
      MARKET_ASSIGN_OR_RETURN(
          sqlite::Statement st,
          c.Prepare("SELECT count(*) FROM listing_grams WHERE listing_grams MATCH ?"));
      MARKET_RETURN_IF_ERROR(
          st.BindText(1, GramsMatch({gram}, SearchField::kTitle, SearchField::kDescription)));
      MARKET_ASSIGN_OR_RETURN(bool row, st.Step());
      n = row ? st.ColumnInt64(0) : -1;
      return absl::OkStatus();
    }));
    return n;
  }

  // Expects listing_grams to hold exactly the postings of the reference's
  // texts (each one is found, fts5vocab counts no others, FTS5's integrity
  // check passes); returns how many there are.
  int64_t ExpectPostingsAsSaveListingWrites() {
    int64_t want = 0;
    EXPECT_OK(db().Write([&](sqlite::Connection& c) -> absl::Status {
      MARKET_ASSIGN_OR_RETURN(
          sqlite::Statement has,
          c.Prepare("SELECT count(*) FROM listing_grams JOIN listings l ON l.id = "
                    "listing_grams.rowid WHERE listing_grams MATCH ?1 AND l.name = ?2"));
      for (const v1::Listing& l : ref_.listings) {
        for (SearchField field : {SearchField::kTitle, SearchField::kDescription}) {
          for (const std::string& g : TextGrams(
                   FoldForSearch(field == SearchField::kTitle ? l.title() : l.description()))) {
            ++want;
            has.Reset();
            MARKET_RETURN_IF_ERROR(has.BindText(1, GramsMatch({g}, field, field)));
            MARKET_RETURN_IF_ERROR(has.BindText(2, l.name()));
            MARKET_ASSIGN_OR_RETURN(bool row, has.Step());
            EXPECT_TRUE(row && has.ColumnInt64(0) == 1) << l.name() << " " << g;
          }
        }
      }
      MARKET_RETURN_IF_ERROR(
          c.Exec("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, listing_grams, 'col')"));
      MARKET_ASSIGN_OR_RETURN(sqlite::Statement total,
                              c.Prepare("SELECT sum(doc) FROM temp.vocab"));
      MARKET_ASSIGN_OR_RETURN(bool row, total.Step());
      EXPECT_TRUE(row);
      EXPECT_EQ(total.ColumnInt64(0), want);
      total.Reset();
      MARKET_RETURN_IF_ERROR(c.Exec("DROP TABLE temp.vocab"));
      return c.Exec("INSERT INTO listing_grams(listing_grams) VALUES('integrity-check')");
    }));
    return want;
  }

  sqlite::testing::ScopedTempDir dir_;
  std::unique_ptr<SqliteMarketStore> store_;
  Reference ref_;
};

TEST(SearchGramsTest, TextGramsAreDistinctUnigramsAndBigrams) {
  EXPECT_THAT(TextGrams("冰箱冰箱"), ElementsAre("冰", "冰箱", "箱", "箱冰"));
  EXPECT_THAT(TextGrams("a1"), ElementsAre("1", "a", "a1"));
  EXPECT_THAT(TextGrams(""), IsEmpty());
}

TEST(SearchGramsTest, NeedleGramsAreTheCharacterOrItsBigrams) {
  EXPECT_THAT(NeedleGrams("箱"), ElementsAre("箱"));
  EXPECT_THAT(NeedleGrams("冰箱"), ElementsAre("冰箱"));
  EXPECT_THAT(NeedleGrams("双门冰箱"), ElementsAre("冰箱", "双门", "门冰"));
  EXPECT_THAT(NeedleGrams(""), IsEmpty());
}

TEST(SearchGramsTest, FoldLowersAsciiOnly) {
  EXPECT_EQ(FoldForSearch("iPhone13 ÉＡ冰箱"), "iphone13 ÉＡ冰箱");
  EXPECT_EQ(FoldForSearch(std::string("a\0B", 3)), "a b");
}

TEST(SearchGramsTest, TokensAreUpperCaseHexOfTheGrams) {
  EXPECT_EQ(GramToken("冰"), "E586B0");
  EXPECT_EQ(GramTokens("a."), "2E 61 612E");
  EXPECT_EQ(GramsMatch({"a", "b"}, SearchField::kTitle, SearchField::kTitle),
            "title : (\"61\" AND \"62\")");
  EXPECT_EQ(GramsMatch({"a"}, SearchField::kTitle, SearchField::kDescription), "\"61\"");
}

TEST(ParseSearchTest, TextWithoutOrderByRanksByRelevance) {
  ASSERT_OK_AND_ASSIGN(SearchQuery q, ParseSearch("markets/-", "", "冰箱", ""));
  EXPECT_EQ(q.order, SearchQuery::Order::kRelevance);
  ASSERT_OK_AND_ASSIGN(q, ParseSearch("markets/-", "", "冰箱", "publish_time desc"));
  EXPECT_EQ(q.order, SearchQuery::Order::kPublishDesc);
  ASSERT_OK_AND_ASSIGN(q, ParseSearch("markets/-", "", "", ""));
  EXPECT_EQ(q.order, SearchQuery::Order::kPublishDesc);
}

TEST(ParseSearchTest, InvalidUtf8QueryIsInvalidArgumentNamingQuery) {
  absl::StatusOr<SearchQuery> q = ParseSearch("markets/-", "", "\xE5\x86", "");
  EXPECT_THAT(q.status(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(q.status().message(), HasSubstr("query"));
}

TEST_F(SearchIndexTest, OneTwoAndThreeCharacterQueriesMatchScanOnEveryPage) {
  SaveGenerated(300);
  for (const char* text : {"箱", "冰箱", "双门冰", "空调", "型号1", "手"}) {
    ExpectSameAsScan(Text(text));
  }
}

TEST_F(SearchIndexTest, MixedScriptQueriesAreAsciiCaseInsensitive) {
  SaveGenerated(300);
  for (const char* text : {"iPhone13", "IPHONE13", "iphone13 pro", "1.5匹", "5匹空", "e", "Ap"}) {
    SCOPED_TRACE(text);
    ASSERT_FALSE(ref_.Search(Text(text)).empty());
    ExpectSameAsScan(Text(text));
  }
}

TEST_F(SearchIndexTest, QueryMatchingMostListingsMatchesScan) {
  SaveGenerated(300);
  SearchQuery q = Text("二手");
  EXPECT_GT(ref_.Search(q).size(), 200u);
  ExpectSameAsScan(q);
}

TEST_F(SearchIndexTest, QueryWithoutMatchReturnsNothing) {
  SaveGenerated(300);
  for (const char* text : {"摩托", "冰冰", "Z", "型号9999"}) {
    EXPECT_THAT(AllPages(Text(text), 4), IsEmpty()) << text;
  }
}

TEST_F(SearchIndexTest, TitleMatchesComeBeforeDescriptionOnlyMatches) {
  Save(MakeListing(5, "旧书桌", "带一个冰箱贴"), 1);  // description only, newest
  Save(MakeListing(2, "海尔冰箱", "二手"), 1);        // title
  Save(MakeListing(3, "美的冰箱", "冰箱好用"), 1);    // title and description
  EXPECT_THAT(AllPages(Text("冰箱"), 1),
              ElementsAre("markets/m/listings/l1003", "markets/m/listings/l1002",
                          "markets/m/listings/l1005"));
  // An explicit order keeps plain publish order.
  EXPECT_THAT(AllPages(Text("冰箱", "publish_time desc"), 1),
              ElementsAre("markets/m/listings/l1005", "markets/m/listings/l1003",
                          "markets/m/listings/l1002"));
  EXPECT_THAT(AllPages(Text("冰箱", "publish_time"), 2),
              ElementsAre("markets/m/listings/l1002", "markets/m/listings/l1003",
                          "markets/m/listings/l1005"));
}

TEST_F(SearchIndexTest, ExplicitOrdersAndFiltersMatchScan) {
  SaveGenerated(300);
  for (const char* order : {"price", "price desc", "publish_time", "publish_time desc"}) {
    SCOPED_TRACE(order);
    ExpectSameAsScan(Text("冰箱", order));
    ExpectSameAsScan(Text("二手", order));
  }
  SearchQuery q = Text("空调");
  q.max_price_fen = 20000;
  ExpectSameAsScan(q);
}

TEST_F(SearchIndexTest, UpdateReplacesPostingsOfTheOldTitle) {
  v1::Listing l = MakeListing(1, "海尔冰箱", "很新");
  Save(l, 1);
  EXPECT_THAT(AllPages(Text("冰箱"), 4), ElementsAre("markets/m/listings/l1001"));
  l.set_title("格力空调");
  Save(l, 2);
  EXPECT_THAT(AllPages(Text("冰箱"), 4), IsEmpty());
  EXPECT_THAT(AllPages(Text("冰"), 4), IsEmpty());
  EXPECT_THAT(AllPages(Text("空调"), 4), ElementsAre("markets/m/listings/l1001"));
  EXPECT_EQ(Postings("冰箱"), 0);
  EXPECT_EQ(Postings("空调"), 1);
  EXPECT_EQ(Postings("很新"), 1);
}

TEST_F(SearchIndexTest, WithdrawnAndRemovedListingsLeavePublishedResults) {
  v1::Listing a = MakeListing(1, "小米手机", "");
  v1::Listing b = MakeListing(2, "华为手机", "");
  Save(a, 1);
  Save(b, 1);
  a.set_state(v1::Listing::WITHDRAWN);
  Save(a, 2);
  b.set_state(v1::Listing::REMOVED);
  Save(b, 2);
  EXPECT_THAT(AllPages(Text("手机"), 4), IsEmpty());
  SearchQuery withdrawn = Text("手机");
  withdrawn.state = v1::Listing::WITHDRAWN;
  EXPECT_THAT(AllPages(withdrawn, 4), ElementsAre("markets/m/listings/l1001"));
  // Only the state changed: the postings are kept as they were.
  EXPECT_EQ(Postings("手机"), 2);
}

TEST_F(SearchIndexTest, MigrationFillsTheIndexFromRowsCreatedBeforeIt) {
  SaveGenerated(120);
  std::string long_description;
  for (int i = 0; i < 40; ++i) absl::StrAppend(&long_description, "二手冰箱ÉＡb", i);
  Save(MakeListing(500, "Apple IPHONE13 冰箱", long_description), 1);
  Save(MakeListing(501, "", ""), 1);
  // Back to migration 2: the trigram table holds the texts, no new index.
  ASSERT_OK(db().Write([&](sqlite::Connection& c) -> absl::Status {
    MARKET_RETURN_IF_ERROR(c.Exec(
        "DROP TABLE listing_photos; DROP TABLE listing_photos_backfill; DROP TABLE credit_lists; "
        "DROP TABLE listing_grams; DROP TABLE listing_text; DROP INDEX outbox_pending_by_key; "
        "ALTER TABLE outbox DROP COLUMN ordering_key; CREATE VIRTUAL TABLE listings_fts "
        "USING fts5(title, description, tokenize = 'trigram'); PRAGMA user_version = 2;"));
    for (const v1::Listing& l : ref_.listings) {
      MARKET_ASSIGN_OR_RETURN(
          sqlite::Statement st,
          c.Prepare("INSERT INTO listings_fts(rowid, title, description) SELECT id, ?, ? FROM "
                    "listings WHERE name = ?"));
      MARKET_RETURN_IF_ERROR(st.BindText(1, l.title()));
      MARKET_RETURN_IF_ERROR(st.BindText(2, l.description()));
      MARKET_RETURN_IF_ERROR(st.BindText(3, l.name()));
      MARKET_RETURN_IF_ERROR(st.Run());
    }
    return absl::OkStatus();
  }));
  store_.reset();
  ASSERT_OK_AND_ASSIGN(store_, SqliteMarketStore::Open(dir_.File("listing.db")));

  // The postings are exactly those SaveListing writes.
  EXPECT_GT(ExpectPostingsAsSaveListingWrites(), 1000);
  for (const char* text : {"冰箱", "二手", "iphone13", "é", "Ａb3", "b39"}) {
    ExpectSameAsScan(Text(text));
  }
  // Updating every migrated listing deletes exactly the tokens the migration
  // wrote (a mismatch would leave stale postings behind).
  std::vector<v1::Listing> renamed = ref_.listings;
  for (v1::Listing& l : renamed) l.set_title(absl::StrCat(l.title(), "摩托车"));
  renamed.back().set_description("");
  SaveAll(renamed, 2);
  ExpectPostingsAsSaveListingWrites();
  EXPECT_EQ(AllPages(Text("摩托"), 50).size(), ref_.Search(Text("摩托")).size());
  ExpectSameAsScan(Text("二手"));
}

}  // namespace
}  // namespace market::listing
