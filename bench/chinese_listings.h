// Listings with realistic Chinese titles and descriptions (brands, product
// words of one to five characters, condition words, mixed scripts such as
// "iPhone13" and "1.5匹"), deterministic for a seed: the data of the search
// and load benchmarks.
#ifndef MARKET_BENCH_CHINESE_LISTINGS_H_
#define MARKET_BENCH_CHINESE_LISTINGS_H_

#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/resource/resource.h"
#include "common/sqlite/connection.h"
#include "common/sqlite/statement.h"
#include "common/status/status.h"
#include "market/listing/v1/listing.pb.h"

namespace market::bench {

namespace v1 = ::market::listing::v1;

// Product lines: brands and the words sellers put in titles.
struct Line {
  std::vector<const char*> brands;
  std::vector<const char*> products;
};
inline const std::vector<Line>& Lines() {
  static const auto* lines = new std::vector<Line>{
      {{"海尔", "美的", "容声", "西门子", "松下"}, {"冰箱", "双门冰箱", "对开门冰箱", "冰柜"}},
      {{"格力", "美的", "海尔", "奥克斯"}, {"1.5匹空调", "挂机空调", "柜机空调", "变频空调"}},
      {{"苹果", "华为", "小米", "OPPO", "vivo", "荣耀"},
       {"iPhone13", "iPhone14 Pro", "Mate40", "手机", "平板电脑"}},
      {{"索尼", "海信", "TCL", "创维", "小米"}, {"55寸电视", "65寸液晶电视", "电视机"}},
      {{"小天鹅", "海尔", "西门子"}, {"滚筒洗衣机", "波轮洗衣机", "洗衣机"}},
      {{"宜家", "全友", "顾家"}, {"沙发", "布艺沙发", "书桌", "衣柜", "床垫", "餐桌"}},
      {{"雅迪", "爱玛", "小牛"}, {"电动车", "电瓶车"}},
      {{"美的", "苏泊尔", "九阳"}, {"电饭煲", "微波炉", "电磁炉"}},
  };
  return *lines;
}
inline const char* const kConditions[] = {"全新",   "99新", "95新", "九成新", "八成新",
                                          "七成新", "自用", "闲置", "急出",   "二手"};
inline const char* const kExtras[] = {"包邮",   "可小刀",   "同城自提", "保修中",
                                      "有发票", "搬家转让", ""};

// Listing `i` of market `markets/bench`: 5 % SOLD, the rest PUBLISHED, one
// second apart going back from `now`.
inline v1::Listing MakeListing(int i, std::mt19937& rng, absl::Time now) {
  const Line& line = Lines()[rng() % Lines().size()];
  const char* brand = line.brands[rng() % line.brands.size()];
  const char* product = line.products[rng() % line.products.size()];
  v1::Listing l;
  l.set_name(absl::StrCat("markets/bench/listings/l", i));
  l.set_seller(absl::StrCat("subjects/s", rng() % 5000));
  l.set_category(market::common::v1::APPLIANCE);
  l.set_title(absl::StrCat(kConditions[rng() % 10], " ", brand, product, " ", kExtras[rng() % 7]));
  l.set_description(rng() % 100 < 85
                        ? absl::StrCat("自用二手", product, "，用了", 1 + rng() % 6,
                                       "年，功能正常，无拆修。", kExtras[rng() % 7], "，编号",
                                       rng() % 1000000)
                        : absl::StrCat("闲置", brand, "原装，配件齐全，", kExtras[rng() % 7]));
  l.mutable_price()->set_amount_fen(5000 + rng() % 500000);
  l.set_state(rng() % 20 == 0 ? v1::Listing::SOLD : v1::Listing::PUBLISHED);
  *l.mutable_publish_time() = market::ToTimestamp(now - absl::Seconds(i));
  *l.mutable_create_time() = l.publish_time();
  return l;
}

// Inserts market `name` (region 350102, operator subjects/bench-op, seller
// subjects/bench-seller among its sellers) in the caller's transaction.
inline absl::Status InsertBenchMarket(sqlite::Connection& c, const std::string& name) {
  v1::Market m;
  m.set_name(name);
  m.set_display_name("压测市场");
  m.set_region_code("350102");
  m.set_operator_("subjects/bench-op");
  m.add_sellers("subjects/bench-seller");
  MARKET_ASSIGN_OR_RETURN(
      sqlite::Statement st,
      c.Prepare("INSERT INTO markets(name, operator, kind, region_code, categories, version, "
                "data) VALUES(?, 'subjects/bench-op', 1, '350102', '|', 1, ?)"));
  MARKET_RETURN_IF_ERROR(st.BindText(1, name));
  MARKET_RETURN_IF_ERROR(st.BindBlob(2, m.SerializeAsString()));
  return st.Run();
}

}  // namespace market::bench

#endif  // MARKET_BENCH_CHINESE_LISTINGS_H_
