// GroupCommit: lets concurrent StoreUsageData calls share one database transaction,
// so that one commit (one fsync) acknowledges a whole batch of payloads.
//
// A caller of Store() queues its payload and blocks; one writer thread takes every
// payload queued so far, hands the batch to the store's CommitBatch function, and then
// answers each caller with its own result. A caller is answered only after the
// transaction holding its payload has committed (or failed): nothing is acknowledged
// before it is durable. The batch is as large as the number of callers waiting.
//
// Thread safety: Store() is safe for concurrent use. CommitBatch runs on the writer
// thread only. The destructor answers everything already queued, then stops; Store()
// racing with the destructor gets kUnavailable.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "receiver/ping_store.h"

namespace furrow::receiver {

class GroupCommit {
 public:
  // One payload of a batch; the pointers stay valid until the batch is answered.
  struct Ping {
    const UsageData* data;
    const std::string* source_ip;
    const std::string* created_at;
  };
  // Stores a batch in one transaction; returns one result per ping, in order.
  using CommitBatch = std::function<std::vector<Result<StoreResult>>(const std::vector<Ping>&)>;

  explicit GroupCommit(CommitBatch commit);
  ~GroupCommit();
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  [[nodiscard]] Result<StoreResult> Store(const UsageData& data, const std::string& source_ip,
                                          const std::string& created_at);

 private:
  struct Pending {
    Ping ping;
    std::promise<Result<StoreResult>> done;
  };
  void Run();

  CommitBatch commit_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<Pending*> queue_;
  bool stopping_ = false;
  std::thread writer_;  // last: starts once the members above exist
};

// The usual CommitBatch body: `begin_sql`, then each ping through `store_one` under a
// savepoint (a ping that fails is rolled back alone and the others still commit), then
// COMMIT. If BEGIN or COMMIT fails, every ping of the batch gets that error.
// `exec` runs one SQL command on the store's connection.
[[nodiscard]] std::vector<Result<StoreResult>> CommitInOneTransaction(
    const std::vector<GroupCommit::Ping>& batch, const std::string& begin_sql,
    const std::function<Status(const std::string& sql)>& exec,
    const std::function<Result<StoreResult>(const GroupCommit::Ping&)>& store_one);

}  // namespace furrow::receiver
