#include "ping/statement_log.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "core/logging.h"

namespace furrow::ping {
namespace {

// The file shared by every connection of one StatementLogDatabase.
class LogFile {
 public:
  explicit LogFile(std::FILE* file) : file_(file) {}
  ~LogFile() { std::fclose(file_); }
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;

  void Append(const std::string& sql, const Status& status) {
    std::string line = sql + ";";
    if (!status.ok()) {
      std::string error = status.ToString();
      for (char& c : error) {
        if (c == '\n' || c == '\r') c = ' ';
      }
      line += " -- " + error;
    }
    line += "\n";
    std::lock_guard<std::mutex> lock(mu_);
    if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) {
      if (!failed_)
        log::Warn("cannot write the SQL statement log", {{"error", std::strerror(errno)}});
      failed_ = true;
    }
  }

 private:
  std::mutex mu_;
  std::FILE* const file_;  // writes guarded by mu_
  bool failed_ = false;    // guarded by mu_
};

class StatementLogConnection final : public SqlConnection {
 public:
  StatementLogConnection(std::unique_ptr<SqlConnection> inner, LogFile& log)
      : inner_(std::move(inner)), log_(log) {}

  Result<SqlScalar> QueryScalar(const std::string& sql, MonoTime deadline) override {
    return Logged(sql, inner_->QueryScalar(sql, deadline));
  }
  Result<std::pair<SqlScalar, SqlScalar>> QueryPair(const std::string& sql,
                                                    MonoTime deadline) override {
    return Logged(sql, inner_->QueryPair(sql, deadline));
  }

 private:
  template <typename T>
  Result<T> Logged(const std::string& sql, Result<T> result) {
    log_.Append(sql, result.ok() ? Status::Ok() : result.status());
    return result;
  }

  std::unique_ptr<SqlConnection> inner_;
  LogFile& log_;
};

class StatementLogDatabase final : public SqlDatabase {
 public:
  StatementLogDatabase(std::unique_ptr<SqlDatabase> inner, std::FILE* file)
      : inner_(std::move(inner)), log_(file) {}
  SqlDialect dialect() const override { return inner_->dialect(); }
  std::string adapter() const override { return inner_->adapter(); }
  Result<std::unique_ptr<SqlConnection>> Connect() override {
    FURROW_ASSIGN_OR_RETURN(std::unique_ptr<SqlConnection> connection, inner_->Connect());
    return std::unique_ptr<SqlConnection>(new StatementLogConnection(std::move(connection), log_));
  }
  Result<std::string> ServerVersion() override { return inner_->ServerVersion(); }
  std::string Describe() const override { return inner_->Describe(); }

 private:
  std::unique_ptr<SqlDatabase> inner_;
  LogFile log_;
};

}  // namespace

Result<std::unique_ptr<SqlDatabase>> NewStatementLogDatabase(std::unique_ptr<SqlDatabase> inner,
                                                             const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr)
    return IoError("cannot create the SQL statement log " + path + ": " + std::strerror(errno));
  return std::unique_ptr<SqlDatabase>(new StatementLogDatabase(std::move(inner), file));
}

}  // namespace furrow::ping
