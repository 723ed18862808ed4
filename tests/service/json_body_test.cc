// ParseJsonBody (service/internal/json_body.h): simdjson's parse converted
// to nlohmann::json must equal nlohmann::json::parse exactly: the same
// values, the same number types, the same verdict and message on invalid
// bodies.
#include "service/internal/json_body.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>

namespace vesta::service::internal {
namespace {

using json = nlohmann::json;

// Equal values with equal types throughout (nlohmann's == calls 1 and 1.0
// equal, and a signed and an unsigned 1).
bool Same(const json& a, const json& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case json::value_t::array:
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i) {
        if (!Same(a[i], b[i])) return false;
      }
      return true;
    case json::value_t::object:
      if (a.size() != b.size()) return false;
      for (auto it = a.begin(); it != a.end(); ++it) {
        auto other = b.find(it.key());
        if (other == b.end() || !Same(*it, *other)) return false;
      }
      return true;
    case json::value_t::number_float: {
      double x = a.get<double>(), y = b.get<double>();
      return std::memcmp(&x, &y, sizeof x) == 0;  // bit-identical (-0.0, subnormals)
    }
    default:
      return a == b;
  }
}

// The verdict nlohmann gives `text` (the reference).
std::string NlohmannError(const std::string& text) {
  try {
    json ignored = json::parse(text);
    (void)ignored;
  } catch (const json::parse_error& e) {
    return "request body is not valid JSON (byte " + std::to_string(e.byte) + ")";
  } catch (const json::exception& e) {
    return "request body is not valid JSON (" + std::string(e.what()) + ")";
  }
  return "";
}

void ExpectSameAsNlohmann(const std::string& text) {
  SCOPED_TRACE(text.substr(0, 200));
  json expected = json::parse(text, nullptr, false);
  Result<json> got = ParseJsonBody(text);
  if (expected.is_discarded()) {
    ASSERT_FALSE(got.ok()) << got->dump();
    EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(got.status().message(), NlohmannError(text));
    return;
  }
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(Same(*got, expected)) << got->dump() << "\nvs\n" << expected.dump();
}

TEST(JsonBodyTest, EdgeCasesParseAsNlohmannParsesThem) {
  for (
      const char* text : {
          R"({})",
          R"([])",
          R"({"a": {}, "b": [], "c": [[]]})",
          R"(  {"a" : 1 }  )",
          // Integers: unsigned when non-negative, signed when negative, as nlohmann.
          R"({"k": 0, "p": 10, "m": -3})",
          R"([9223372036854775807, -9223372036854775808, 18446744073709551615])",
          // Past 64 bits: simdjson refuses, nlohmann makes a double.
          R"([18446744073709551616, -9223372036854775809, 123456789012345678901234567890])",
          // Floats.
          R"([1.0, -0.0, 1e2, 1E-2, 2.5e+3, 0.1, 3.141592653589793, 1.7976931348623157e308, 4.9e-324, 2.2250738585072014e-308])",
          R"([1e-400, -1e-400])",  // underflow to 0
          // Strings and escapes.
          R"({"s": "a\"b\\c\/d\b\f\n\r\t", "u": "\u00e9\u4e2d", "pair": "\ud83d\ude00", "nul": "\u0000"})",
          "{\"utf8\": \"caf\xc3\xa9\"}",
          // Duplicate keys: the last wins.
          R"({"a": 1, "a": 2, "b": {"c": 1, "c": [3]}})",
          R"({"t": true, "f": false, "z": null})",
          R"("just a string")",
          "42",
          "-1.5",
          "true",
          "null",
      }) {
    ExpectSameAsNlohmann(text);
  }
}

// The one difference (json_body.h): "-0" as an integer is unsigned 0 here,
// signed 0 in nlohmann; the same value either way.
TEST(JsonBodyTest, MinusZeroIntegerIsZero) {
  Result<json> got = ParseJsonBody(R"({"n": -0})");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE((*got)["n"].is_number_integer());
  EXPECT_EQ((*got)["n"].get<int64_t>(), 0);
  EXPECT_EQ(*got, json::parse(R"({"n": -0})"));  // nlohmann's == compares the values
}

TEST(JsonBodyTest, InvalidBodiesGetNlohmannsMessage) {
  for (const char* text : {
           "",
           " ",
           "{",
           "}",
           "[1,]",
           R"({"a":1,})",
           R"({"a" 1})",
           "nul",
           "tru",
           R"({'a': 1})",
           R"({"a": NaN})",
           R"({"a": Infinity})",
           R"([01])",
           R"([1.])",
           R"([.5])",
           R"([+1])",
           R"([1e])",
           R"({"a": 1e999})",
           R"([-1e999])",
           R"({"a": "unterminated)",
           R"({"a": "\x"})",
           "{\"bad\": \"\xff\xfe\"}",  // invalid UTF-8
           "{\"ctl\": \"a\x01b\"}",    // a control character in a string
           R"({"a": 1} trailing)",
           R"({"a": 1}{"b": 2})",
       }) {
    ExpectSameAsNlohmann(text);
  }
}

TEST(JsonBodyTest, DeepNestingFallsBackToNlohmann) {
  // simdjson's default depth limit is 1024; nlohmann has none.
  std::string deep = std::string(3000, '[') + std::string(3000, ']');
  ExpectSameAsNlohmann(deep);
  ExpectSameAsNlohmann("{\"v\":" + deep + "}");
}

// Random documents (seeded): nested objects and arrays of every value type,
// doubles over the whole range, written by nlohmann (shortest round-trip
// form) and read back both ways.
TEST(JsonBodyTest, RandomDocumentsParseAsNlohmannParsesThem) {
  std::mt19937_64 rng(20261122);
  std::function<json(int)> make = [&](int depth) -> json {
    switch (rng() % (depth > 3 ? 6 : 8)) {
      case 0:
        return nullptr;
      case 1:
        return (rng() & 1) == 1;
      case 2:
        return static_cast<int64_t>(rng());  // either sign
      case 3:
        return static_cast<uint64_t>(rng() >> (rng() % 64));
      case 4: {
        uint64_t bits = rng();
        double d;
        std::memcpy(&d, &bits, sizeof d);
        if (!std::isfinite(d))
          d = std::ldexp(static_cast<double>(bits % 1000), -static_cast<int>(bits % 1100));
        return d;
      }
      case 5: {
        std::string s;
        for (size_t i = rng() % 12; i > 0; --i) s += static_cast<char>(' ' + rng() % 95);
        if (rng() % 4 == 0) s += "\xc3\xa9\n\t\"\\";
        return s;
      }
      case 6: {
        json a = json::array();
        for (size_t i = rng() % 6; i > 0; --i) a.push_back(make(depth + 1));
        return a;
      }
      default: {
        json o = json::object();
        for (size_t i = rng() % 6; i > 0; --i) o["k" + std::to_string(rng() % 8)] = make(depth + 1);
        return o;
      }
    }
  };
  for (int i = 0; i < 500; ++i) {
    json doc = json::object();
    doc["v"] = make(0);
    ExpectSameAsNlohmann(doc.dump());
  }
  // A query body as the clients send it: 768 floats.
  json q = {{"columns", {"id"}}, {"num_results", 10}};
  std::normal_distribution<float> g;
  for (int i = 0; i < 768; ++i) q["query_vector"].push_back(g(rng));
  ExpectSameAsNlohmann(q.dump());
}

TEST(JsonBodyTest, BodiesOverTheKeptParserSizeParseToo) {
  json big = json::object();
  for (int i = 0; i < 250000; ++i) big["rows"].push_back(i * 0.5);
  std::string text = big.dump();
  ASSERT_GT(text.size(), 1u << 20);
  ExpectSameAsNlohmann(text);
  ExpectSameAsNlohmann(R"({"small": [1, 2]})");  // the thread's parser still works afterwards
}

}  // namespace
}  // namespace vesta::service::internal
