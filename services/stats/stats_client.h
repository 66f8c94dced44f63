// Client side of the statistics service for other services: the outbox
// deliverer of trade events.
#ifndef MARKET_SERVICES_STATS_STATS_CLIENT_H_
#define MARKET_SERVICES_STATS_STATS_CLIENT_H_

#include <memory>

#include "common/client/peer.h"
#include "common/outbox/outbox.h"
#include "grpcpp/channel.h"
#include "services/stats/stats_events.h"

namespace market::stats {

// Delivers stats::kStatsDestination events to StatisticsService.RecordTradeEvent
// over `channel`, authenticated by `token` (a SERVICE account).
outbox::Relay::Deliverer StatsDeliverer(std::shared_ptr<grpc::Channel> channel,
                                        client::TokenSource token);

// Delivers stats::kFiguresDestination events to
// StatisticsService.RecordStatsEvent, as StatsDeliverer.
outbox::Relay::Deliverer FiguresDeliverer(std::shared_ptr<grpc::Channel> channel,
                                          client::TokenSource token);

}  // namespace market::stats

#endif  // MARKET_SERVICES_STATS_STATS_CLIENT_H_
