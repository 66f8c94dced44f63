#include "services/listing/listing_figures.h"

#include <optional>
#include <utility>

#include "common/resource/resource.h"
#include "common/status/status.h"
#include "common/sqlite/statement.h"
#include "services/listing/listing_tables.h"
#include "services/stats/stats_events.h"

namespace market::listing {

absl::StatusOr<MarketFigures> LoadMarketFigures(sqlite::Connection& c, const std::string& market) {
  MARKET_ASSIGN_OR_RETURN(
      sqlite::Statement st, c.Prepare("SELECT region_code, operator FROM markets WHERE name = ?"));
  MARKET_RETURN_IF_ERROR(st.BindText(1, market));
  MARKET_ASSIGN_OR_RETURN(bool found, st.Step());
  MarketFigures out;
  if (found) {
    out.region_code = st.ColumnText(0);
    out.market_operator = st.ColumnText(1);
  }
  return out;
}

absl::Status EnqueueListingFigures(sqlite::Connection& c, const v1::Listing& l, int64_t version) {
  stats::v1::FigureSnapshot s;
  s.set_entity(l.name());
  s.set_version(version);
  s.set_market(l.name().substr(0, l.name().find("/listings/")));
  MARKET_ASSIGN_OR_RETURN(MarketFigures m, LoadMarketFigures(c, s.market()));
  s.set_region_code(std::move(m.region_code));
  s.set_market_operator(std::move(m.market_operator));
  s.set_category(l.category());
  s.set_seller(l.seller());
  *s.mutable_time() = l.has_update_time() ? l.update_time() : l.create_time();
  stats::v1::ListingSnapshot& ls = *s.mutable_listing();
  *ls.mutable_create_time() = l.create_time();
  if (l.has_publish_time()) *ls.mutable_publish_time() = l.publish_time();
  if (l.has_remove_time()) *ls.mutable_remove_time() = l.remove_time();
  if (l.state() == v1::Listing::SOLD) *ls.mutable_sold_time() = s.time();
  return stats::EnqueueFigureEvent(c, s, FromTimestamp(s.time()));
}

}  // namespace market::listing
