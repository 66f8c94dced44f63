#include "services/warranty/claim_figures.h"

#include "common/resource/names.h"

namespace market::warranty {

stats::v1::FigureSnapshot ClaimFigures(const ClaimRow& row) {
  using stats::v1::ClaimSnapshot;
  const v1::Claim& claim = row.claim;
  stats::v1::FigureSnapshot s;
  s.set_entity(claim.name());
  s.set_version(row.version);
  s.set_market(claim.order().substr(0, claim.order().find("/orders/")));
  s.set_market_operator(row.market_operator);
  s.set_category(claim.category());
  s.set_seller(claim.seller());
  *s.mutable_time() = claim.has_update_time() ? claim.update_time() : claim.create_time();
  ClaimSnapshot& c = *s.mutable_claim();
  c.set_kind(static_cast<ClaimSnapshot::Kind>(claim.kind()));
  c.set_buyer(claim.buyer());
  *c.mutable_file_time() = claim.create_time();
  if (claim.has_reply_deadline()) *c.mutable_reply_deadline() = claim.reply_deadline();
  if (claim.has_reply_time()) *c.mutable_reply_time() = claim.reply_time();
  if (claim.has_rule_time()) {
    c.set_ruling(claim.state() == v1::Claim::DISMISSED ? ClaimSnapshot::DISMISSED
                                                       : ClaimSnapshot::UPHELD);
    *c.mutable_rule_time() = claim.rule_time();
  }
  if (claim.has_resolve_time()) *c.mutable_resolve_time() = claim.resolve_time();
  return s;
}

}  // namespace market::warranty
