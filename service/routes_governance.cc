// Governance routes: see service/internal/routes.h.
#include "service/internal/routes.h"

namespace vesta::service::internal {

void RegisterGovernanceRoutes(Router& router) { (void)router; }

}  // namespace vesta::service::internal
