// HttpServer: an HTTP/1.1 server on Boost.Beast with the limits a public endpoint needs.
//
// The server parses requests, enforces limits and timeouts itself, and hands each
// complete request to a Handler together with a Responder. The handler may answer
// at once or later from any thread (the collector answers only after the record is
// durable); the server keeps the connection's later requests waiting meanwhile
// (no pipelining reordering). Responses are written in request order.
//
// Limits and what the client gets (all counted in furrow_http_rejected_total{reason}):
//   request line > max_request_line_bytes     -> 400, connection closed
//   all header bytes > max_header_bytes        -> 400, connection closed
//   body > max_body_bytes (Content-Length or   -> 413, connection closed
//     chunked total)
//   headers not complete within header_timeout -> 408, connection closed
//   body not complete within body_timeout      -> 408, connection closed
//   malformed request                          -> 400, connection closed
//   more than max_connections open             -> new connections closed at once
//   idle keep-alive connection > idle_timeout  -> closed silently
//
// Thread safety: Start/Stop from one owner thread. Handlers run on the server's
// I/O threads and must not block; Responder::Send may be called from any thread,
// exactly once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/metrics.h"
#include "core/status.h"

namespace furrow::net {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;   // as sent, e.g. "GET"
  std::string target;   // as sent, e.g. "/i?e=pv"
  std::string path;     // target before '?'
  std::string query;    // target after '?', without it; empty if none
  HeaderList headers;   // in arrival order, names as sent
  std::string body;
  std::string remote_address;  // socket peer IP
  uint16_t remote_port = 0;
  bool keep_alive = true;

  // First header with this name (case-insensitive), if any.
  std::optional<std::string_view> Header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  HeaderList headers;   // Content-Length is added by the server
  std::string body;
  bool close = false;   // close the connection after this response

  HttpResponse& Set(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

// The way to answer one request. Send() exactly once; dropping a Responder
// without sending answers 500 (a handler bug, logged).
class Responder {
 public:
  virtual ~Responder() = default;
  virtual void Send(HttpResponse response) = 0;
};

using Handler = std::function<void(HttpRequest&& request, std::shared_ptr<Responder> responder)>;

struct HttpServerOptions {
  std::string bind = "0.0.0.0";
  int port = 8080;                       // 0 = any free port; see HttpServer::port()
  int threads = 0;                       // I/O threads; 0 = number of cores
  size_t max_request_line_bytes = 20480;
  size_t max_header_bytes = 40960;
  size_t max_body_bytes = 2 * 1024 * 1024;
  std::chrono::milliseconds header_timeout{30000};
  std::chrono::milliseconds body_timeout{30000};
  std::chrono::milliseconds idle_timeout{610000};
  size_t max_connections = 10000;
  std::string server_name = "furrow";    // the Server header
};

class HttpServer {
 public:
  // `metrics` must outlive the server. Metric names are prefixed with `metrics_prefix`
  // (e.g. "furrow_collector").
  HttpServer(HttpServerOptions options, Handler handler, MetricsRegistry& metrics,
             std::string metrics_prefix);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts the I/O threads. Errors: kUnavailable if the port is taken,
  // kInvalidArgument for a bad address.
  Status Start();

  // The bound port (after Start).
  int port() const;

  // Stops accepting, lets requests in flight finish (and their responses be
  // written) for up to `drain`, then closes every connection and joins threads.
  void Stop(std::chrono::milliseconds drain = std::chrono::milliseconds(10000));

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace furrow::net
