// Table routes: see service/internal/routes.h.
//
//   GET /api/2.1/unity-catalog/tables/{full_name}
//       Governed::DescribeTable for the caller; Unity-Catalog TableInfo shape
//       (name, catalog_name, schema_name, full_name, table_type "MANAGED",
//       columns [{name, type_text, type_name, nullable, position, comment}],
//       owner, comment, properties, created_at (epoch ms)) plus Vesta's
//       "version", "current_version", "row_count" (rows visible to the
//       caller) and "primary_key".
#include <algorithm>
#include <cctype>

#include "service/internal/routes.h"

namespace vesta::service::internal {
namespace {

std::string LowerTypeText(const DataType& t) {
  std::string s = t.ToString();
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Unity Catalog's ColumnTypeName for a Vesta type.
std::string UcTypeName(const DataType& t) {
  switch (t.id) {
    case TypeId::kBigint: return "LONG";
    case TypeId::kDouble: return "DOUBLE";
    case TypeId::kString: return "STRING";
    case TypeId::kBoolean: return "BOOLEAN";
    case TypeId::kDate: return "DATE";
    case TypeId::kTimestamp: return "TIMESTAMP";
    case TypeId::kVector: return "ARRAY";
  }
  return "STRING";
}

json TableInfoJson(const governance::TableInfo& info) {
  json columns = json::array();
  for (size_t i = 0; i < info.schema.columns.size(); ++i) {
    const Column& c = info.schema.columns[i];
    columns.push_back({{"name", c.name},
                       {"type_text", LowerTypeText(c.type)},
                       {"type_name", UcTypeName(c.type)},
                       {"nullable", c.nullable},
                       {"position", static_cast<int64_t>(i)},
                       {"comment", c.comment}});
  }
  return {{"name", info.name.table},
          {"catalog_name", info.name.catalog},
          {"schema_name", info.name.schema},
          {"full_name", info.name.ToString()},
          {"table_type", "MANAGED"},
          {"columns", columns},
          {"owner", info.owner},
          {"comment", info.comment},
          {"properties", info.properties},
          {"created_at", info.created_at.micros / 1000},
          // Vesta extensions.
          {"version", info.version},
          {"current_version", info.current_version},
          {"row_count", info.row_count},
          {"primary_key", info.schema.primary_key}};
}

}  // namespace

void RegisterTableRoutes(Router& router, const CommitListener& on_commit) {
  (void)on_commit;
  access::Governed& g = router.governed();
  router.Get("/api/2.1/unity-catalog/tables/{full_name}", R"(/api/2\.1/unity-catalog/tables/([^/]+))",
             [&g](const Call& call) -> Result<json> {
               VESTA_ASSIGN_OR_RETURN(auto name, ParseName(call.Param(1), "full_name"));
               VESTA_ASSIGN_OR_RETURN(auto info, g.DescribeTable(call.caller, name));
               return TableInfoJson(info);
             });
}

}  // namespace vesta::service::internal
