// `furrow ping pull`: the pull job for the installation that does not push (see
// receiver/ping_pull.h). Registered under the `ping` group that ping_command.cc
// creates. Picks the product database (ping::OpenSqlDatabase) and the ping store.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "app/commands.h"
#include "core/clock.h"
#include "core/logging.h"
#include "net/http_client.h"
#include "ping/sql_database.h"
#include "receiver/ping_pull.h"
#include "receiver/postgres_ping_store.h"
#include "receiver/sqlite_ping_store.h"

namespace furrow::app {
namespace {

struct PullCommandOptions {
  std::string data_dir = "./var";
  std::string url;
  std::string token_file;
  std::string database;
  std::string receiver_database;
  int64_t query_timeout_s = 60;
};

int Fail(const std::string& what, const Status& status) {
  std::fprintf(stderr, "furrow ping pull: %s: %s\n", what.c_str(), status.ToString().c_str());
  return kExitFailure;
}

Result<std::string> ReadPullToken(const PullCommandOptions& o) {
  std::string token;
  if (!o.token_file.empty()) {
    std::ifstream in(o.token_file);
    if (!in) return NotFoundError("cannot read token file " + o.token_file);
    std::getline(in, token);
  } else if (const char* env = std::getenv("FURROW_PULL_TOKEN"); env != nullptr) {
    token = env;
  }
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ' || token.back() == '\n')) token.pop_back();
  if (token.empty()) return InvalidArgumentError("no API token: give --token-file or set FURROW_PULL_TOKEN");
  return token;
}

int RunPull(const PullCommandOptions& o) {
  const Clock& clock = SystemClock::Instance();
  auto token = ReadPullToken(o);
  if (!token.ok()) return Fail("bad token", token.status());
  auto database = ping::OpenSqlDatabase(o.database, clock);
  if (!database.ok()) return Fail("cannot open --database", database.status());
  std::string store_path = o.receiver_database;
  if (store_path.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(o.data_dir, ec);
    store_path = o.data_dir + "/receiver.sqlite";
  } else if (store_path.rfind("sqlite://", 0) == 0) {
    store_path = store_path.substr(std::string("sqlite://").size());
  } else if (store_path.rfind("postgresql://", 0) != 0 && store_path.rfind("postgres://", 0) != 0) {
    return Fail("bad --receiver-database", InvalidArgumentError("expected sqlite://PATH or postgresql://..."));
  }
  auto store = store_path.rfind("postgres", 0) == 0 ? receiver::OpenPostgresPingStore(store_path)
                                                    : receiver::OpenSqlitePingStore(store_path);
  if (!store.ok()) return Fail("cannot open the ping store", store.status());
  receiver::PullOptions options;
  options.url = o.url;
  while (!options.url.empty() && options.url.back() == '/') options.url.pop_back();
  options.token = *token;
  options.query_timeout = std::chrono::seconds(o.query_timeout_s);
  net::HttpClient client;
  auto result = receiver::PullPing(options, client, **database, **store, clock);
  if (!result.ok()) return Fail("pull failed", result.status());
  log::Info("ping pull done", {{"usage_data_id", result->usage_data_id}, {"queries", result->queries},
                               {"failed", result->failed}});
  std::printf("%s usage_data_id=%lld (%lld queries, %lld failed)\n", result->created ? "stored" : "already stored",
              static_cast<long long>(result->usage_data_id), static_cast<long long>(result->queries),
              static_cast<long long>(result->failed));
  return kExitOk;
}

}  // namespace

void RegisterPingPullCommand(CLI::App& app, Commands& commands) {
  static PullCommandOptions o;
  CLI::App* ping = app.get_subcommand("ping");
  CLI::App* cmd = ping->add_subcommand("pull", "Pull an installation's ping: run its queries on a replica, store it");
  AddDataDirOption(cmd, &o.data_dir);
  cmd->add_option("--url", o.url, "The installation's base URL (serves /usage_data/queries ...)")->required();
  cmd->add_option("--token-file", o.token_file, "File with the installation's API token (else FURROW_PULL_TOKEN)");
  cmd->add_option("--database", o.database, "The replica to run the SQL on: sqlite://PATH or postgresql://...")
      ->required();
  cmd->add_option("--receiver-database", o.receiver_database,
                  "Ping store to write to: sqlite://PATH or postgresql://... (default DATA_DIR/receiver.sqlite)");
  cmd->add_option("--query-timeout", o.query_timeout_s, "Seconds each query may run")->capture_default_str();
  commands.SetRunner(cmd, [] { return RunPull(o); });
}

}  // namespace furrow::app
