#include "receiver/group_commit.h"

#include <utility>

namespace furrow::receiver {

GroupCommit::GroupCommit(CommitBatch commit) : commit_(std::move(commit)), writer_([this] { Run(); }) {}

GroupCommit::~GroupCommit() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  ready_.notify_all();
  writer_.join();
}

Result<StoreResult> GroupCommit::Store(const UsageData& data, const std::string& source_ip,
                                       const std::string& created_at) {
  Pending pending{{&data, &source_ip, &created_at}, {}};
  std::future<Result<StoreResult>> done = pending.done.get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return UnavailableError("the ping store is closing");
    queue_.push_back(&pending);
  }
  ready_.notify_one();
  return done.get();
}

void GroupCommit::Run() {
  std::vector<Pending*> batch;
  std::vector<Ping> pings;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      batch.assign(queue_.begin(), queue_.end());
      queue_.clear();
    }
    pings.clear();
    for (const Pending* p : batch) pings.push_back(p->ping);
    std::vector<Result<StoreResult>> results = commit_(pings);
    for (size_t i = 0; i < batch.size(); ++i) {
      batch[i]->done.set_value(i < results.size() ? std::move(results[i])
                                                  : Result<StoreResult>(InternalError("no result for a ping")));
    }
  }
}

std::vector<Result<StoreResult>> CommitInOneTransaction(
    const std::vector<GroupCommit::Ping>& batch, const std::string& begin_sql,
    const std::function<Status(const std::string& sql)>& exec,
    const std::function<Result<StoreResult>(const GroupCommit::Ping&)>& store_one) {
  Status begun = exec(begin_sql);
  if (!begun.ok()) {
    exec("ROLLBACK").IgnoreError();
    return std::vector<Result<StoreResult>>(batch.size(), begun);
  }
  std::vector<Result<StoreResult>> results;
  results.reserve(batch.size());
  for (const GroupCommit::Ping& ping : batch) {
    Status saved = exec("SAVEPOINT payload");
    if (!saved.ok()) {
      results.push_back(saved);
      continue;
    }
    Result<StoreResult> r = store_one(ping);
    if (!r.ok()) exec("ROLLBACK TO SAVEPOINT payload").IgnoreError();
    Status released = exec("RELEASE SAVEPOINT payload");
    results.push_back(r.ok() && !released.ok() ? Result<StoreResult>(released) : std::move(r));
  }
  Status committed = exec("COMMIT");
  if (!committed.ok()) {
    exec("ROLLBACK").IgnoreError();
    return std::vector<Result<StoreResult>>(batch.size(), committed);
  }
  return results;
}

}  // namespace furrow::receiver
