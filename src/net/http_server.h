// HttpServer: an HTTP/1.1 server on Boost.Beast with the limits a public endpoint needs.
//
// The server parses requests, enforces limits and timeouts itself, and hands each
// complete request to a Handler together with a Responder. The handler may answer
// at once or later from any thread (the collector answers only after the record is
// durable); the server keeps the connection's later requests waiting meanwhile
// (no pipelining reordering). Responses are written in request order.
//
// Limits and what the client gets (all counted in <prefix>_http_rejected_total{reason}):
//   request line > max_request_line_bytes     -> 400, connection closed
//   header fields > max_header_bytes           -> 400, connection closed
//   body > max_body_bytes (Content-Length or   -> 413, connection closed
//     chunked total)
//   headers not complete within header_timeout -> 408, connection closed
//   body not complete within body_timeout      -> 408, connection closed
//   malformed request                          -> 400, connection closed
//   more than max_connections open             -> new connections closed at once
//   idle keep-alive connection > idle_timeout  -> closed silently
//   new connection silent for header_timeout   -> closed silently
//   response not written within write_timeout  -> closed
// The request line is counted without its CRLF; the header fields from the first
// field through the blank line that ends them (line ends included). Methods Beast
// can parse as a token reach the handler whatever they are; the app answers 405.
// "Expect: 100-continue" is answered with "100 Continue" before the body is read.
// After a response that closes the connection the server shuts down its sending
// side and discards what the client still sends for up to linger_timeout, so that
// a client still sending a rejected body reads the error instead of a reset.
//
// Metrics (names prefixed with the metrics_prefix given to the constructor):
//   <prefix>_http_open_connections            gauge
//   <prefix>_http_connections_accepted_total  counter
//   <prefix>_http_requests_total              counter (complete requests handed to the handler)
//   <prefix>_http_rejected_total{reason}      counter; reason is one of request_line_too_long,
//       headers_too_large, body_too_large, header_timeout, body_timeout, bad_request,
//       too_many_connections
//   <prefix>_http_read_bytes_total, <prefix>_http_written_bytes_total  counters
//   <prefix>_http_responders_dropped_total    counter (handler bugs answered with 500)
//
// Responses: the server adds Server, Date (refreshed once a second), Content-Length
// (not for 204/304) and "Connection: close" when it will close; a handler's own
// Content-Length, Transfer-Encoding and Connection headers are dropped ("Connection:
// close" from the handler sets HttpResponse::close). HEAD responses carry the
// Content-Length of the body they would have sent, but no body; 204 and 304 carry
// no body either. A status outside 200..599 from the handler is answered as 500.
// CR and LF in header names or values set by the handler are replaced by spaces.
//
// Thread safety: Start/Stop from one owner thread. Handlers run on the server's
// I/O threads and must not block; Responder::Send may be called from any thread,
// exactly once (later calls are ignored). A Responder may outlive the server: a
// Send after Stop is dropped.
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

#include "core/clock.h"
#include "core/metrics.h"
#include "core/status.h"

namespace furrow::net {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // as sent, e.g. "GET"
  std::string target;  // as sent, e.g. "/i?e=pv"
  std::string path;    // target before '?'
  std::string query;   // target after '?', without it; empty if none
  HeaderList headers;  // in arrival order, names as sent
  std::string body;
  std::string remote_address;  // socket peer IP
  uint16_t remote_port = 0;
  bool keep_alive = true;

  // First header with this name (case-insensitive), if any.
  std::optional<std::string_view> Header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  HeaderList headers;  // Content-Length is added by the server
  std::string body;
  bool close = false;  // close the connection after this response

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
  std::string bind = "0.0.0.0";                     // listen address (IPv4 or IPv6 literal)
  int port = 8080;                                  // 0 = any free port; see HttpServer::port()
  int threads = 0;                                  // I/O threads; 0 = number of cores
  size_t max_request_line_bytes = 20480;            // without the CRLF; over it -> 400
  size_t max_header_bytes = 40960;                  // header fields incl. line ends; over it -> 400
  size_t max_body_bytes = 2 * 1024 * 1024;          // Content-Length or chunked total -> 413
  std::chrono::milliseconds header_timeout{30000};  // first byte to end of header -> 408
  std::chrono::milliseconds body_timeout{30000};    // end of header to end of body -> 408
  std::chrono::milliseconds idle_timeout{610000};   // between keep-alive requests -> close
  size_t max_connections = 10000;                   // open at once; more are closed at once
  std::string server_name = "furrow";               // the Server header
  std::chrono::milliseconds write_timeout{30000};   // to write one response -> close
  std::chrono::milliseconds linger_timeout{2000};   // discard input after closing responses
  const Clock* clock = nullptr;  // for the Date header; nullptr = SystemClock (must outlive)
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
  // kInvalidArgument for a bad address, kFailedPrecondition if started before
  // (a server runs once; make a new one to listen again).
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
