// AgentState: what a ping agent remembers across restarts, in one SQLite file
// (DATA_DIR/ping/agent.db):
//   pings(recorded_at_ms UNIQUE, recorded_at, payload, metadata, sent_at_ms,
//         usage_data_id, attempts, next_attempt_ms, last_error)
//     every generated payload, whether and when it was sent, the receiver's id,
//     and its retry schedule while it is pending;
//   state(key, value): `last_run_ms`, the daily lock (at most one generation per
//     24 hours, across restarts and processes).
//
// Thread safety: use one AgentState from one thread at a time; several processes
// may share the file (SQLite locks it). Errors: kIoError / kUnavailable when the file cannot be used,
// kAlreadyExists when a payload with the same recorded_at is saved twice.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

struct sqlite3;

namespace furrow::ping {

struct PingRecord {
  int64_t recorded_at_ms = 0;
  std::string recorded_at;
  std::string payload;
  std::string metadata;
  std::optional<int64_t> sent_at_ms;
  std::optional<int64_t> usage_data_id;
  int attempts = 0;
  std::optional<int64_t> next_attempt_ms;  // set while a retry is pending
  std::string last_error;
};

class AgentState {
 public:
  static Result<std::unique_ptr<AgentState>> Open(const std::string& data_dir);
  ~AgentState();
  AgentState(const AgentState&) = delete;
  AgentState& operator=(const AgentState&) = delete;

  [[nodiscard]] Status Save(const PingRecord& record);
  [[nodiscard]] Status MarkSent(int64_t recorded_at_ms, int64_t sent_at_ms, int64_t usage_data_id, int attempts);
  [[nodiscard]] Status MarkFailed(int64_t recorded_at_ms, int attempts, std::optional<int64_t> next_attempt_ms,
                                  const std::string& error);
  // Every record, oldest first.
  [[nodiscard]] Result<std::vector<PingRecord>> List();
  // Pending records whose next attempt is due at `now_ms`, oldest first.
  [[nodiscard]] Result<std::vector<PingRecord>> DueRetries(int64_t now_ms);
  // The earliest pending retry time, if any.
  [[nodiscard]] Result<std::optional<int64_t>> NextRetryTime();
  // Takes the daily lock: true (and records now_ms) if no generation ran in the
  // 24 hours before now_ms; false otherwise. Atomic across processes.
  [[nodiscard]] Result<bool> TryAcquireDailyLock(int64_t now_ms);
  [[nodiscard]] Result<std::optional<int64_t>> LastRun();

 private:
  explicit AgentState(sqlite3* db) : db_(db) {}
  Result<std::vector<PingRecord>> Query(const std::string& where, std::optional<int64_t> bound);
  sqlite3* db_;
};

}  // namespace furrow::ping
