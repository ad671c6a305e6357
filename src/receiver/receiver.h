// Receiver: the Service Ping receiver's HTTP API (GitLab "version app" compatible).
//
//   POST /usage_data            a usage payload (application/json). 201
//                               {"conv_index":{"usage_data_id":ID}}; a repeated
//                               (uuid, recorded_at) answers 200 with the stored id.
//   POST /usage_ping_metadata   {"metadata":{"uuid":..,"metrics":[..]}} -> 201 {"id":ID}
//   POST /usage_ping_errors     {"error":{"uuid",..}} -> 201 {"id":ID}
//   GET  /usage_data/new        the upload page for air-gapped installations: an HTML
//                               form posting the exported file (multipart/form-data)
//   POST /usage_data/upload     the form's target; stores the file as POST /usage_data
//                               would and answers an HTML result page
//   GET  /check.json?gitlab_info=BASE64   the version check (see version_check.h)
//   GET  /check.svg?gitlab_info=BASE64    the version badge
//   Token-protected (Authorization: Bearer TOKEN or PRIVATE-TOKEN: TOKEN):
//   GET  /api/v1/installations               [{uuid, hostname, version, last_recorded_at, ping_count}]
//   GET  /api/v1/installations/UUID/pings    [{id, uuid, recorded_at, version, created_at}]
//   GET  /api/v1/pings/ID                    the payload as received
//   GET  /api/v1/versions                    [{version, vulnerable, critical, created_at}]
//   POST /api/v1/versions                    {"version":"x.y.z"} -> 201
//   POST /api/v1/versions/VERSION/vulnerable {"critical":true|false} -> 200
//
// Bad input and what the client gets (each counted in
// furrow_receiver_rejected_total{reason}); nothing is stored on any error:
//   wrong Content-Type (not application/json)     415  reason=content_type
//   not JSON, not an object, too deep, bad UTF-8   400  reason=malformed
//   missing uuid/recorded_at, wrongly typed field  422  reason=invalid
//   worker queue full                              503  reason=overloaded (Retry-After)
//   store failure                                  503 (kUnavailable) or 500, reason=store
//   missing or wrong token                         401  reason=unauthorized
//   unknown path 404, wrong method 405.
// Bodies over the HTTP server's max_body_bytes are answered 413 by the server itself;
// slow bodies 408.
//
// Every store access runs on a bounded WorkerPool, never on the I/O thread.
//
// Thread safety: the handler is safe for concurrent use from every I/O thread. The
// store, clock and metrics are not owned and must outlive the Receiver; Shutdown()
// (or the destructor) waits for queued work.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/metrics.h"
#include "net/http_server.h"
#include "receiver/ping_store.h"
#include "receiver/usage_data.h"
#include "receiver/worker_pool.h"

namespace furrow::receiver {

struct ReceiverOptions {
  PayloadLimits limits;             // max_depth 64
  int worker_threads = 32;          // threads parsing and waiting for the store (its group-commit batch size)
  size_t worker_queue = 256;        // requests waiting for a worker; more get 503
  std::vector<std::string> tokens;  // accepted API tokens; empty = the API answers 401 to all
  int retry_after_s = 5;            // Retry-After of 503 answers
};

class Receiver {
 public:
  Receiver(ReceiverOptions options, PingStore* store, const Clock* clock, MetricsRegistry* metrics);
  ~Receiver();
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  // Handles one request (see the banner). Never blocks.
  void Handle(net::HttpRequest&& request, std::shared_ptr<net::Responder> responder);
  net::Handler AsHandler();

  // Finishes queued work; later requests that need the store get 503.
  void Shutdown();

 private:
  void Submit(const char* route, std::shared_ptr<net::Responder> responder, std::function<net::HttpResponse()> work);
  net::HttpResponse PostUsageData(const net::HttpRequest& request);
  net::HttpResponse PostMetadata(const net::HttpRequest& request);
  net::HttpResponse PostError(const net::HttpRequest& request);
  net::HttpResponse PostUpload(const net::HttpRequest& request);
  net::HttpResponse Api(const net::HttpRequest& request);
  net::HttpResponse VersionCheck(const net::HttpRequest& request, bool svg);
  net::HttpResponse Reject(const std::string& reason, int status, const std::string& message);
  net::HttpResponse StoreFailure(const Status& status);
  bool Authorized(const net::HttpRequest& request) const;
  std::string Now() const;

  ReceiverOptions options_;
  PingStore* store_;
  const Clock* clock_;
  MetricsRegistry* metrics_;
  WorkerPool pool_;
};

}  // namespace furrow::receiver
