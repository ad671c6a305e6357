// AdminServer: /health and /metrics for services whose work is not HTTP (enrich,
// sink), so that every service can be probed and scraped the same way.
//
//   GET /health   200 "ok" (503 "stopping" once Stop has begun)
//   GET /metrics  the registry in Prometheus text format
//   anything else 404
#pragma once

#include <memory>
#include <string>

#include "core/metrics.h"
#include "core/status.h"
#include "net/http_server.h"

namespace furrow::app {

class AdminServer {
 public:
  // `metrics` must outlive the server.
  AdminServer(std::string bind, int port, MetricsRegistry* metrics, std::string metrics_prefix);
  ~AdminServer();

  // Binds and prints "listening on ADDRESS:PORT".
  Status Start();
  int port() const { return port_; }
  void Stop();

 private:
  std::string bind_;
  MetricsRegistry* metrics_;
  std::shared_ptr<std::atomic<bool>> stopping_;
  std::unique_ptr<net::HttpServer> server_;
  int port_ = 0;
};

// The handler part, for services that have their own server: answers /health and
// /metrics and returns true, or returns false for other paths.
bool ServeHealthAndMetrics(const net::HttpRequest& request, MetricsRegistry& metrics,
                           bool healthy, net::Responder& responder);

}  // namespace furrow::app
