// Placeholder, replaced by the tables_routes tests.
#include "tests/service/http_fixture.h"
