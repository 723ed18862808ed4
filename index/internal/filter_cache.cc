#include "index/internal/filter_cache.h"

#include <algorithm>
#include <functional>
#include <set>

namespace vesta::index {

namespace {

// Whether `e` calls current_user(), and the groups it asks is_member about.
void CallerDependencies(const filter::Expr& e, bool* current_user, std::set<std::string>* groups) {
  const filter::Node& n = e.node();
  if (n.kind == filter::ExprKind::kIsMember) groups->insert(n.group);
  if (n.subject.is_current_user()) *current_user = true;
  for (const filter::Operand& o : n.values) {
    if (o.is_current_user()) *current_user = true;
  }
  for (const filter::Expr& c : n.children) CallerDependencies(c, current_user, groups);
}

}  // namespace

std::string FilterCacheKey(const filter::BoundExpr& filter, const filter::EvalContext& ctx) {
  bool current_user = false;
  std::set<std::string> groups;
  CallerDependencies(filter.expr(), &current_user, &groups);
  // Each part is length-prefixed, so that no filter text (string literals
  // are arbitrary bytes) can imitate another key's caller part.
  std::string key = filter.ToString();
  key = std::to_string(key.size()) + ':' + key;
  // The column indexes it was bound to: a filter bound against another
  // schema gets its own key (and FilterBitmap's error), never another's result.
  key += "|columns " + std::to_string(filter.column_count());
  for (int c : filter.ReferencedColumns()) key += ' ' + std::to_string(c);
  if (current_user) key += "|user " + std::to_string(ctx.current_user.size()) + ':' + ctx.current_user;
  for (const std::string& g : groups) {
    const bool member = ctx.is_member && ctx.is_member(g);
    key += "|group " + std::to_string(g.size()) + ':' + g + (member ? "=1" : "=0");
  }
  return key;
}

FilterCache::Entry FilterCache::Get(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = map_.find(key);
  if (it != map_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);  // most recently used
    return it->second->second;
  }
  seen_.push_back(std::hash<std::string>()(key));
  if (seen_.size() > kSeenKeys) seen_.pop_front();
  return Entry{};
}

void FilterCache::Offer(const std::string& key, Entry entry, size_t max_bytes) {
  if (max_bytes == 0 || entry.bitmap == nullptr) return;
  const size_t size = entry.bitmap->getSizeInBytes() + key.size();
  if (size > max_bytes) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (map_.count(key) != 0) return;  // another thread cached it meanwhile
  // Admission: the key missed at least twice (this miss and an earlier one).
  const size_t h = std::hash<std::string>()(key);
  if (std::count(seen_.begin(), seen_.end(), h) < 2) return;
  lru_.emplace_front(key, std::move(entry));
  map_[key] = lru_.begin();
  sizes_[key] = size;
  bytes_ += size;
  while (bytes_ > max_bytes && !lru_.empty()) {
    const std::string& victim = lru_.back().first;
    bytes_ -= sizes_[victim];
    sizes_.erase(victim);
    map_.erase(victim);
    lru_.pop_back();
  }
}

size_t FilterCache::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

size_t FilterCache::entries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lru_.size();
}

}  // namespace vesta::index
