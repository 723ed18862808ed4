#include "service/index_manager.h"

namespace vesta::service {

struct IndexManager::Impl {};

IndexManager::IndexManager(access::Governed&, IndexManagerOptions) : impl_(std::make_unique<Impl>()) {}
IndexManager::~IndexManager() = default;

Result<std::unique_ptr<IndexManager>> IndexManager::Open(access::Governed& governed, IndexManagerOptions options) {
  return std::unique_ptr<IndexManager>(new IndexManager(governed, std::move(options)));
}
void IndexManager::NotifyCommit(const governance::TableName&, int64_t) {}
std::vector<IndexStatus> IndexManager::AllStatuses() { return {}; }

}  // namespace vesta::service
