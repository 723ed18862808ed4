// Mosaic AI Vector Search routes: see service/internal/routes.h.
#include "service/internal/routes.h"

namespace vesta::service::internal {

void RegisterIndexRoutes(Router& router, IndexManager& indexes) {
  (void)router;
  (void)indexes;
}

}  // namespace vesta::service::internal
