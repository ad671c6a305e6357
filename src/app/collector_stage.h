// CollectorStage: the collector as the `collector` and `pipeline` commands run it —
// collector::Collector (src/collector/) behind a net::HttpServer, writing raw-good and
// raw-bad through a stream::StreamProvider.
//
//   CollectorStageOptions options;                 // or bound by AddCollectorOptions
//   auto stage = CollectorStage::Create(options, streams, &clock, &metrics);
//   Status s = (*stage)->Start();                  // binds; port() is then known
//   ...
//   Status flushed = (*stage)->Stop();             // stop accepting, finish in-flight
//                                                  // requests, flush both producers
//
// /metrics (the whole registry), /health and /sink-health are the collector's own
// routes, so a process that runs several stages on one registry exposes all of them
// here.
//
// Options and their defaults are listed in CollectorStageOptions; --path-map entries
// are validated by Create (kInvalidArgument). Thread safety: Create/Start/Stop from one
// thread. The provider, clock and metrics must outlive the stage.
#pragma once

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "collector/collector.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "core/status.h"
#include "net/http_server.h"
#include "stream/stream.h"

namespace furrow::app {

// The collector's default HTTP I/O threads per core (see collector_stage.cc).
inline constexpr int kIoThreadsPerCore = 4;

struct CollectorStageOptions {
  int port = 8080;                 // --port; 0 picks a free port
  std::string bind = "0.0.0.0";    // --bind
  int threads = 0;                 // HTTP I/O threads; 0 = kIoThreadsPerCore per core
  size_t max_connections = 10000;
  int64_t idle_timeout_s = 610;
  int64_t request_timeout_s = 30;
  int64_t drain_timeout_s = 10;    // in-flight requests on Stop
  size_t max_request_line_bytes = 20480;
  size_t max_header_bytes = 40960;

  size_t max_payload_size = 1024 * 1024;       // larger: size_violation bad row
  size_t drop_payload_size = 2 * 1024 * 1024;  // larger: 413

  bool cookie_enabled = true;
  std::string cookie_name = "sp";
  int64_t cookie_expiration_days = 365;
  std::vector<std::string> cookie_domains;
  std::string cookie_fallback_domain;
  bool cookie_secure = true;
  bool cookie_http_only = true;
  std::string cookie_same_site = "None";

  int64_t cors_max_age_s = 3600;
  bool redirect_enabled = false;
  std::vector<std::string> redirect_allowed_hosts;
  bool crossdomain_enabled = false;
  std::vector<std::string> crossdomain_domains = {"*"};
  bool crossdomain_secure = true;
  bool cookie_bounce_enabled = false;
  std::string cookie_bounce_name = "n3pc";
  std::string cookie_bounce_fallback_nuid = "00000000-0000-4000-A000-000000000000";
  std::string cookie_bounce_forwarded_protocol_header;
  std::string dnt_cookie_name;
  std::string dnt_cookie_value = ".*";
  std::vector<std::string> path_map;  // CUSTOM=STANDARD
  int64_t retry_after_s = 5;
};

// --port/--bind (with `default_port`) and every collector option.
void AddCollectorOptions(CLI::App* command, CollectorStageOptions* options, int default_port);

class CollectorStage {
 public:
  // Opens the raw-good and raw-bad producers and builds the collector.
  // Errors: inconsistent options (kInvalidArgument), streams that cannot be opened.
  static Result<std::unique_ptr<CollectorStage>> Create(const CollectorStageOptions& options,
                                                        stream::StreamProvider* streams,
                                                        const Clock* clock,
                                                        MetricsRegistry* metrics);
  ~CollectorStage();

  // Binds and starts serving (does not print anything).
  [[nodiscard]] Status Start();
  int port() const { return server_ ? server_->port() : 0; }
  const std::string& collector_name() const { return collector_->collector_name(); }

  // Stops accepting, lets requests in flight finish (up to drain_timeout_s) and
  // flushes raw-good and raw-bad, so every acknowledged record is durable.
  [[nodiscard]] Status Stop();

 private:
  CollectorStage() = default;

  CollectorStageOptions options_;
  stream::Producer* good_ = nullptr;
  stream::Producer* bad_ = nullptr;
  std::unique_ptr<collector::Collector> collector_;
  std::unique_ptr<net::HttpServer> server_;
  bool stopped_ = false;
};

}  // namespace furrow::app
