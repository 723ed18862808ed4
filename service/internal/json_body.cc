#include "service/internal/json_body.h"

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <utility>

namespace vesta::service::internal {
namespace {

using json = nlohmann::json;

// Bodies up to this size reuse the thread's parser (whose buffers grow to
// the largest body it has parsed).
constexpr size_t kKeptParserBytes = 1 << 20;

json FromDom(simdjson::dom::element e) {
  using simdjson::dom::element_type;
  switch (e.type()) {
    case element_type::ARRAY: {
      simdjson::dom::array a = e.get_array().value_unsafe();
      json out = json::array();
      auto& v = out.get_ref<json::array_t&>();
      v.reserve(a.size());
      for (simdjson::dom::element x : a) v.push_back(FromDom(x));
      return out;
    }
    case element_type::OBJECT: {
      // A named copy: value_unsafe() of a temporary result returns an
      // rvalue reference to it, which a range-for would leave dangling.
      simdjson::dom::object o = e.get_object().value_unsafe();
      json out = json::object();
      auto& m = out.get_ref<json::object_t&>();
      for (simdjson::dom::key_value_pair kv : o) {
        m.insert_or_assign(std::string(kv.key), FromDom(kv.value));  // duplicates: the last wins
      }
      return out;
    }
    case element_type::INT64: {
      int64_t i = e.get_int64().value_unsafe();
      if (i >= 0) return json(static_cast<uint64_t>(i));  // nlohmann: number_unsigned
      return json(i);
    }
    case element_type::UINT64:
      return json(e.get_uint64().value_unsafe());
    case element_type::DOUBLE:
      return json(e.get_double().value_unsafe());
    case element_type::STRING:
      return json(std::string(e.get_string().value_unsafe()));
    case element_type::BOOL:
      return json(e.get_bool().value_unsafe());
    case element_type::NULL_VALUE:
      return json(nullptr);
  }
  return json();
}

// nlohmann's verdict on a body simdjson refused (its message for invalid
// ones; a few valid bodies, e.g. integers past 64 bits, pass here).
Result<json> ParseWithNlohmann(std::string_view raw) {
  json body = json::parse(raw, nullptr, false);
  if (!body.is_discarded()) return body;
  std::string detail;
  try {
    json ignored = json::parse(raw);  // again, with exceptions, for the position
    (void)ignored;
  } catch (const json::parse_error& e) {
    detail = " (byte " + std::to_string(e.byte) + ")";
  } catch (const json::exception& e) {  // e.g. a number out of range (1e999)
    detail = " (" + std::string(e.what()) + ")";
  }
  return Status::InvalidArgument("request body is not valid JSON" + detail);
}

}  // namespace

Result<json> ParseJsonBody(std::string_view raw) {
  thread_local simdjson::dom::parser kept;
  simdjson::dom::parser once;
  simdjson::dom::parser& parser = raw.size() <= kKeptParserBytes ? kept : once;
  // realloc_if_needed: copies into a padded buffer (simdjson reads up to
  // SIMDJSON_PADDING bytes past the end).
  simdjson::dom::element root;
  if (parser.parse(raw.data(), raw.size(), /*realloc_if_needed=*/true).get(root) != simdjson::SUCCESS) {
    return ParseWithNlohmann(raw);
  }
  return FromDom(root);
}

}  // namespace vesta::service::internal
