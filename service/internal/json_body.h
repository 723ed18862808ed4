// Parsing request bodies (private to service/).
//
// Every route's body is a JSON object, handed to the handler as an
// nlohmann::json. Query bodies carry a vector of 768+ numbers; nlohmann's
// lexer and glibc's strtod took 0.12 ms of a 0.55 ms request for a 14 KB
// body (bench/results/http.md), so bodies are parsed with simdjson (Debian's
// libsimdjson-dev 3.0; Langdale & Lemire, "Parsing Gigabytes of JSON per
// Second", VLDB Journal 2019) and converted to nlohmann::json, which the
// handlers keep using. A body simdjson refuses is parsed again by nlohmann,
// so what is accepted and every error message are nlohmann's: numbers
// outside int64/uint64 become doubles as nlohmann makes them, and an
// invalid body gets nlohmann's byte position.
#pragma once

#include <nlohmann/json.hpp>

#include <string_view>

#include "common/status.h"

namespace vesta::service::internal {

// Parses `raw` (any JSON value; the caller checks it is an object). The
// result equals nlohmann::json::parse(raw): the same value types (a
// non-negative integer is number_unsigned, a negative one number_integer, a
// number with a fraction or exponent number_float), duplicate keys keep the
// last value; the one difference: an integer written "-0" is unsigned 0
// (nlohmann: signed 0), the same value. Errors: InvalidArgument "request body is not valid JSON
// (byte N)" or "(... number overflow ...)" as nlohmann reports it.
// Thread-safety: any thread (one simdjson parser per thread, kept for
// bodies up to 1 MiB; larger ones use a parser freed after the call).
Result<nlohmann::json> ParseJsonBody(std::string_view raw);

}  // namespace vesta::service::internal
