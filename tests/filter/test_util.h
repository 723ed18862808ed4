// Shared fixtures for the filter tests.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "filter/filter.h"

namespace vesta::filter::testing {

// A clinical-style table: one column of every filterable type, and a vector.
inline Schema PatientSchema() {
  Schema s;
  s.columns = {
      {"patient_id", DataType::Bigint(), false, ""}, {"age", DataType::Bigint(), true, ""},
      {"score", DataType::Double(), true, ""},       {"name", DataType::String(), true, ""},
      {"site", DataType::String(), true, ""},        {"active", DataType::Boolean(), true, ""},
      {"scan_date", DataType::DateT(), true, ""},    {"scanned_at", DataType::TimestampT(), true, ""},
      {"owner", DataType::String(), true, ""},       {"embedding", DataType::Vector(4), true, ""},
  };
  s.primary_key = "patient_id";
  return s;
}

// Parses `text` or fails the test (returns TRUE then).
inline Expr Parse(std::string_view text) {
  Result<Expr> r = ParseFilterString(text);
  EXPECT_TRUE(r.ok()) << text << " -> " << r.status().ToString();
  return r.ok() ? r.value() : Expr::True();
}

// Parses and binds against PatientSchema() or fails the test.
inline BoundExpr ParseAndBind(std::string_view text) {
  Result<BoundExpr> b = Bind(Parse(text), PatientSchema());
  EXPECT_TRUE(b.ok()) << text << " -> " << b.status().ToString();
  if (!b.ok()) return Bind(Expr::True(), PatientSchema()).value();
  return std::move(b).value();
}

// The error message of parsing `text` ("" and a test failure if it parses).
inline std::string ParseError(std::string_view text) {
  Result<Expr> r = ParseFilterString(text);
  EXPECT_FALSE(r.ok()) << text << " parsed as " << (r.ok() ? r->ToString() : "");
  if (r.ok()) return "";
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  return r.status().message();
}

inline std::string JsonError(std::string_view json) {
  Result<Expr> r = ParseFiltersJson(json);
  EXPECT_FALSE(r.ok()) << json << " parsed as " << (r.ok() ? r->ToString() : "");
  if (r.ok()) return "";
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  return r.status().message();
}

inline std::string BindError(std::string_view text) {
  Result<BoundExpr> b = Bind(Parse(text), PatientSchema());
  EXPECT_FALSE(b.ok()) << text << " bound as " << (b.ok() ? b->ToString() : "");
  if (b.ok()) return "";
  EXPECT_TRUE(b.status().IsInvalidArgument()) << b.status().ToString();
  return b.status().message();
}

// A PatientSchema() row; the vector column is NULL.
inline Row PatientRow(Value id, Value age, Value score, Value name, Value site, Value active, Value scan_date,
                      Value scanned_at, Value owner) {
  return {std::move(id),     std::move(age),       std::move(score),      std::move(name),  std::move(site),
          std::move(active), std::move(scan_date), std::move(scanned_at), std::move(owner), Value()};
}

}  // namespace vesta::filter::testing
