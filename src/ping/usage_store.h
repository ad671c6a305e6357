// UsageStore: where counters and unique sets of Service Ping live between pings.
//
// Two implementations, chosen in src/app:
//   Redis (hiredis; OpenRedisUsageStore("redis://host:port[/db]")): counters are
//     INCRBY / INCRBYFLOAT keys, unique sets are HyperLogLogs (PFADD / PFCOUNT), as
//     in GitLab, so an installation can share its Redis with the product.
//   Embedded (SQLite file, OpenEmbeddedUsageStore(path)) for installations without
//     Redis: counters in one table, unique sets as exact member sets (counts are
//     exact rather than HLL estimates). Several processes may share the file.
//
// Keys never expire unless `expire` is given (seconds from now; week keys use six
// weeks). A missing counter reads as 0, a missing set counts 0.
//
// Thread safety: every method is safe for concurrent use (one connection guarded by
// a mutex, reconnecting after a failure). Errors: kUnavailable when the server or
// file cannot be reached, kDeadlineExceeded on a Redis timeout, kDataLoss when a
// stored value is not a number.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace furrow::ping {

class UsageStore {
 public:
  virtual ~UsageStore() = default;
  [[nodiscard]] virtual Status Increment(const std::string& key, double by,
                                         std::optional<std::chrono::seconds> expire) = 0;
  [[nodiscard]] virtual Status AddUnique(const std::string& key, const std::string& member,
                                         std::optional<std::chrono::seconds> expire) = 0;
  // The counter's value (0 if missing).
  [[nodiscard]] virtual Result<double> Get(const std::string& key) = 0;
  // The number of distinct members in the union of the sets (PFCOUNT k1 k2 ...).
  [[nodiscard]] virtual Result<int64_t> CountUnique(const std::vector<std::string>& keys) = 0;
  // "redis" or "embedded".
  virtual std::string kind() const = 0;
};

struct RedisOptions {
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds command_timeout{5000};
};

// "redis://host:port" or "redis://host:port/DB". Connects lazily (first call).
[[nodiscard]] Result<std::unique_ptr<UsageStore>> OpenRedisUsageStore(const std::string& url,
                                                                      RedisOptions options = {});

// The SQLite file at `path` (created with its tables if missing). `clock` decides
// expiry and must outlive the store.
[[nodiscard]] Result<std::unique_ptr<UsageStore>> OpenEmbeddedUsageStore(const std::string& path,
                                                                         const Clock& clock);

}  // namespace furrow::ping
