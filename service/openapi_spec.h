// The OpenAPI 3.1 description of Vesta's HTTP API (issue #5): the checked-in
// service/openapi.json, embedded into the binary at build time (see
// service/CMakeLists.txt) and served unauthenticated at GET /openapi.json: it
// describes the routes, not any data, and is the same for every caller.
//
// The description is checked against the running server by
// tests/service/openapi_contract_test.py: every route the server registers is
// in it, every operation's examples answer as documented, and every answer
// matches its schema. Edit service/openapi.json together with the route
// files (service/routes_*.cc, service/server.cc).
//
// Thread-safety: thread-safe (immutable static data).
#pragma once

#include <string_view>

namespace vesta::service {

// The text of service/openapi.json, byte for byte (UTF-8 JSON). The view
// refers to static storage and is valid for the life of the process.
std::string_view OpenApiSpec();

}  // namespace vesta::service
