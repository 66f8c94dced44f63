// The column definitions of the figure families StatisticsServiceImpl serves
// from FiguresStore (QueryAfterSales, QueryAppraisals, QueryEntities): one
// list, read by the service (figures_service.cc) and by bench/stats_bench.cc.
#ifndef MARKET_SERVICES_STATS_FIGURES_SERVICE_H_
#define MARKET_SERVICES_STATS_FIGURES_SERVICE_H_

#include <map>
#include <string>
#include <vector>

#include "services/stats/figures_store.h"

namespace market::stats {

struct FamilyColumns {
  // The response's columns, in order, and how each is computed.
  std::vector<FigureColumn> columns;
  // figure_subjects metric counting the distinct subjects of a public cell.
  std::string parties;
};

// The families by RPC name ("QueryAfterSales", "QueryAppraisals", "QueryEntities").
const std::map<std::string, FamilyColumns>& FamilyColumnsByRpc();

}  // namespace market::stats

#endif  // MARKET_SERVICES_STATS_FIGURES_SERVICE_H_
