#include <hiredis/hiredis.h>

#include <cstdlib>
#include <mutex>

#include "ping/usage_store.h"

namespace furrow::ping {
namespace {

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

timeval ToTimeval(std::chrono::milliseconds ms) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

class RedisUsageStore final : public UsageStore {
 public:
  RedisUsageStore(std::string host, int port, int db, RedisOptions options)
      : host_(std::move(host)), port_(port), db_(db), options_(options) {}
  ~RedisUsageStore() override {
    if (ctx_ != nullptr) redisFree(ctx_);
  }

  Status Increment(const std::string& key, double by, std::optional<std::chrono::seconds> expire) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::string amount = FormatNumber(by);
    // INCRBYFLOAT works on integer and float values alike and keeps integers
    // written as integers, so counters stay readable by INCR users.
    std::vector<std::string> cmd = {"INCRBYFLOAT", key, amount};
    FURROW_RETURN_IF_ERROR(CommandLocked(cmd).status());
    if (expire) FURROW_RETURN_IF_ERROR(CommandLocked({"EXPIRE", key, std::to_string(expire->count())}).status());
    return Status::Ok();
  }

  Status AddUnique(const std::string& key, const std::string& member, std::optional<std::chrono::seconds> expire) override {
    std::lock_guard<std::mutex> lock(mu_);
    FURROW_RETURN_IF_ERROR(CommandLocked({"PFADD", key, member}).status());
    if (expire) FURROW_RETURN_IF_ERROR(CommandLocked({"EXPIRE", key, std::to_string(expire->count())}).status());
    return Status::Ok();
  }

  Result<double> Get(const std::string& key) override {
    std::lock_guard<std::mutex> lock(mu_);
    FURROW_ASSIGN_OR_RETURN(ReplyPtr reply, CommandLocked({"GET", key}));
    if (reply->type == REDIS_REPLY_NIL) return 0.0;
    if (reply->type != REDIS_REPLY_STRING) return DataLossError("redis: " + key + " is not a counter");
    std::string text(reply->str, reply->len);
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || *end != '\0') return DataLossError("redis: " + key + " holds '" + text + "', not a number");
    return v;
  }

  Result<int64_t> CountUnique(const std::vector<std::string>& keys) override {
    if (keys.empty()) return int64_t{0};
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> cmd = {"PFCOUNT"};
    cmd.insert(cmd.end(), keys.begin(), keys.end());
    FURROW_ASSIGN_OR_RETURN(ReplyPtr reply, CommandLocked(cmd));
    if (reply->type != REDIS_REPLY_INTEGER) return DataLossError("redis: PFCOUNT did not return an integer");
    return static_cast<int64_t>(reply->integer);
  }

  std::string kind() const override { return "redis"; }

 private:
  static std::string FormatNumber(double v) {
    if (static_cast<double>(static_cast<int64_t>(v)) == v) return std::to_string(static_cast<int64_t>(v));
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.17g", v);
    return buffer;
  }

  Status ConnectLocked() {
    if (ctx_ != nullptr) return Status::Ok();
    timeval tv = ToTimeval(options_.connect_timeout);
    redisContext* ctx = redisConnectWithTimeout(host_.c_str(), port_, tv);
    if (ctx == nullptr) return InternalError("redis: out of memory");
    if (ctx->err != 0) {
      std::string message = ctx->errstr;
      redisFree(ctx);
      return UnavailableError("redis " + host_ + ":" + std::to_string(port_) + ": " + message);
    }
    timeval command = ToTimeval(options_.command_timeout);
    redisSetTimeout(ctx, command);
    ctx_ = ctx;
    if (db_ != 0) {
      auto selected = CommandLocked({"SELECT", std::to_string(db_)});
      if (!selected.ok()) return selected.status();
    }
    return Status::Ok();
  }

  Result<ReplyPtr> CommandLocked(const std::vector<std::string>& args) {
    FURROW_RETURN_IF_ERROR(ConnectLocked());
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* raw = static_cast<redisReply*>(redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()));
    if (raw == nullptr) {
      bool timeout = ctx_->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
      std::string message = ctx_->errstr;
      redisFree(ctx_);
      ctx_ = nullptr;
      if (timeout) return DeadlineExceededError("redis: command timed out");
      return UnavailableError("redis: " + message);
    }
    ReplyPtr reply(raw);
    if (reply->type == REDIS_REPLY_ERROR) {
      return InvalidArgumentError("redis: " + std::string(reply->str, reply->len));
    }
    return reply;
  }

  std::string host_;
  int port_;
  int db_;
  RedisOptions options_;
  std::mutex mu_;
  redisContext* ctx_ = nullptr;  // guarded by mu_
};

}  // namespace

Result<std::unique_ptr<UsageStore>> OpenRedisUsageStore(const std::string& url, RedisOptions options) {
  constexpr std::string_view kScheme = "redis://";
  if (url.rfind(kScheme, 0) != 0) return InvalidArgumentError("redis URL '" + url + "' must start with redis://");
  std::string rest = url.substr(kScheme.size());
  int db = 0;
  size_t slash = rest.find('/');
  if (slash != std::string::npos) {
    std::string db_text = rest.substr(slash + 1);
    rest.resize(slash);
    if (!db_text.empty()) {
      char* end = nullptr;
      long v = std::strtol(db_text.c_str(), &end, 10);
      if (*end != '\0' || v < 0 || v > 1000) return InvalidArgumentError("redis URL '" + url + "' has a bad database number");
      db = static_cast<int>(v);
    }
  }
  size_t at = rest.rfind('@');
  if (at != std::string::npos) rest = rest.substr(at + 1);
  std::string host = rest;
  int port = 6379;
  size_t colon = rest.rfind(':');
  if (colon != std::string::npos) {
    host = rest.substr(0, colon);
    char* end = nullptr;
    long p = std::strtol(rest.c_str() + colon + 1, &end, 10);
    if (*end != '\0' || p <= 0 || p > 65535) return InvalidArgumentError("redis URL '" + url + "' has a bad port");
    port = static_cast<int>(p);
  }
  if (host.empty()) host = "127.0.0.1";
  return std::unique_ptr<UsageStore>(new RedisUsageStore(host, port, db, options));
}

}  // namespace furrow::ping
