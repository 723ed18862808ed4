// The route files of the service (private to service/). Each registers its
// routes on the Router (service/internal/http.h); server.cc calls them once
// before the server starts.
#pragma once

#include <cstdint>
#include <functional>

#include "governance/store.h"
#include "service/internal/http.h"

namespace vesta::service {
class IndexManager;
}

namespace vesta::service::internal {

// Called after a route committed a new version of `table` (so CONTINUOUS
// indexes on it sync at once instead of at their next poll). Must be cheap
// and thread-safe.
using CommitListener = std::function<void(const governance::TableName& table, int64_t version)>;

// Unity-Catalog-shaped table routes and Vesta's table data routes
// (service/routes_tables.cc).
void RegisterTableRoutes(Router& router, const CommitListener& on_commit);

// Principals, groups, tokens, grants and permissions, row filters, column
// masks, tags and tag policies, audit, lineage (service/routes_governance.cc).
void RegisterGovernanceRoutes(Router& router);

// Mosaic AI Vector Search routes (service/routes_indexes.cc).
void RegisterIndexRoutes(Router& router, IndexManager& indexes);

// "Find similar cases" with cohort joins and an evidence summary
// (service/routes_similar.cc, service/similar_cases.h).
void RegisterSimilarCasesRoutes(Router& router, IndexManager& indexes);

}  // namespace vesta::service::internal
