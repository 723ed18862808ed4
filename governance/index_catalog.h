// The catalog of vector indexes: one row per index the service serves, with
// its definition as a JSON document, in the store's SQLite file (table
// gov_indexes), so the definitions survive restarts and travel with the
// store. The definition's meaning belongs to the service
// (service/index_manager.h); here it is an opaque JSON object.
//
//   auto catalog = IndexCatalog::Open(store->path()).value();
//   catalog->Create({.name = idx, .definition_json = R"({"index_type": "DELTA_SYNC", ...})",
//                    .creator = "alice"});
//   auto entry = catalog->Get(idx);      // NotFound if absent
//   catalog->Remove(idx);
//
// Names compare ignoring ASCII case, like every catalog name.
// Thread-safety: thread-safe (one connection behind a mutex); several
// processes may use one store (SQLite serialises writes).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/types.h"
#include "governance/store.h"

namespace vesta::governance {

struct IndexCatalogEntry {
  TableName name;               // catalog.schema.index
  std::string definition_json;  // a JSON object; stored and returned canonical
  std::string creator;          // principal
  Timestamp created_at;         // set by Create when 0
};

class IndexCatalog {
 public:
  // Opens the catalog in the existing store at `store_path` (creating its
  // table if needed). Errors: as internal::OpenStoreConnection (NotFound,
  // FailedPrecondition for a file that is not a Vesta store).
  static Result<std::unique_ptr<IndexCatalog>> Open(const std::string& store_path);
  ~IndexCatalog();
  IndexCatalog(const IndexCatalog&) = delete;
  IndexCatalog& operator=(const IndexCatalog&) = delete;

  // Records a new index. Errors: AlreadyExists if an index of that name
  // (ignoring case) is recorded; InvalidArgument if definition_json is not a
  // JSON object or creator is empty.
  Status Create(IndexCatalogEntry entry);
  // Replaces the definition of a recorded index. NotFound if absent.
  Status Update(const TableName& name, const std::string& definition_json);
  // NotFound if absent.
  Result<IndexCatalogEntry> Get(const TableName& name);
  // Every recorded index, by name.
  Result<std::vector<IndexCatalogEntry>> List();
  // Removes the record. NotFound if absent.
  Status Remove(const TableName& name);

 private:
  IndexCatalog();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vesta::governance
