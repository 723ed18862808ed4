// Placeholder, replaced by the governance_routes tests.
#include "tests/service/http_fixture.h"
