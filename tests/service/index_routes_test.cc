// Placeholder, replaced by the index_routes tests.
#include "tests/service/http_fixture.h"
