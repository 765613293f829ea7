// One parsed model per content version of a file, shared by the resources
// of one provider: N resources editing one file parse it once per version,
// not once each (a no-op run of 5,000 `host` entries on one /etc/hosts
// parsed it 5,000 times: 20 s). The cache holds the content weakly, so an
// old version of a large file is freed with its model as soon as no caller
// holds it; a model may keep views into the content's text, which is alive
// whenever a caller can reach the model (it holds the content it asked for).
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "resources/common/edit.h"

namespace keel::edit {

template <typename Model>
class ContentCache {
 public:
  /// The model of `c`, made by make(const Content&) on first use.
  template <typename Make>
  std::shared_ptr<const Model> Get(const Content& c, Make&& make) const {
    return GetAfter(c, 1, std::forward<Make>(make));
  }
  /// The same, but nullptr for the first `uses - 1` requests of a version:
  /// for a model that only pays off when several resources look at one
  /// version (an index of names is worth it for a no-op run of N resources
  /// on one file, not for the N versions of a cold run, one use each).
  template <typename Make>
  std::shared_ptr<const Model> GetAfter(const Content& c, uint32_t uses, Make&& make) const {
    {
      std::lock_guard<std::mutex> lock(mu_);
      Prune();
      Entry* found = nullptr;
      for (auto& e : entries_)
        if (e.content.lock() == c) found = &e;
      if (found && found->model) return found->model;
      if (!found) {
        entries_.push_back(Entry{c, nullptr, 0});
        found = &entries_.back();
      }
      if (++found->uses < uses) return nullptr;
    }
    if (c->has_value() && (*c)->size() > kLargeText) {
      // A large file: models no caller holds are dropped before a new one
      // is built, so an old version's model is not alive beside the new.
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& e : entries_)
        if (e.model.use_count() == 1) e.model.reset();
    }
    auto model = std::make_shared<const Model>(make(c));
    Put(c, model);
    return model;
  }
  /// Records the model of a version the caller derived itself (an edit
  /// that knows the next version's model without parsing it).
  void Put(const Content& c, std::shared_ptr<const Model> model) const {
    std::lock_guard<std::mutex> lock(mu_);
    Prune();
    for (auto& e : entries_)
      if (e.content.lock() == c) {
        e.model = std::move(model);
        return;
      }
    entries_.push_back(Entry{c, std::move(model), 0});
  }

 private:
  static constexpr size_t kLargeText = 1 << 20;
  struct Entry {
    std::weak_ptr<const std::optional<std::string>> content;
    std::shared_ptr<const Model> model;  // null until built
    uint32_t uses = 0;
  };
  void Prune() const {
    std::erase_if(entries_, [](const Entry& e) { return e.content.expired(); });
  }
  mutable std::mutex mu_;
  mutable std::vector<Entry> entries_;
};

/// The index an editing type keeps of each version of its file (Model has
/// `static Model Build(std::string_view text)`): built on the version's
/// kAfter-th use, since a no-op run of N resources on one file uses one
/// version about 2N times while a cold run makes a version per resource,
/// used about four times (an index of each would cost more than the scans
/// it saves); and only up to kMaxBytes, since the index of a
/// 2,000,000-line file would cost several times the file. nullptr: scan.
template <typename Model>
class VersionIndex {
 public:
  static constexpr size_t kMaxBytes = size_t{4} << 20;
  static constexpr uint32_t kAfter = 6;
  std::shared_ptr<const Model> Of(const Content& c) const {
    if (!c->has_value() || (*c)->size() > kMaxBytes) return nullptr;
    return cache_.GetAfter(c, kAfter, [](const Content& v) { return Model::Build(**v); });
  }

 private:
  ContentCache<Model> cache_;
};

}  // namespace keel::edit
