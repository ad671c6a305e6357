// Collector: the Snowplow-compatible HTTP collector as a net::Handler.
//
// Every tracking request (GET|HEAD /i, /ice.png, /{vendor}/{version}; POST
// /{vendor}/{version}; GET /r/tp2 when redirects are enabled) becomes one
// CollectorPayload record in the good stream (raw-good). THE RESPONSE IS SENT ONLY
// AFTER THE RECORD IS DURABLE: Handle() appends and answers from the stream's
// callback. A refused append (budget full, disk error) answers 503 with Retry-After;
// nothing is ever acknowledged that is not on disk.
//
// Routes (../shared/reference/snowplow-protocol.md section 1):
//   GET|HEAD /i, /ice.png, /{a}/{b}   200 image/gif (1x1 GIF), stored
//   POST /{a}/{b}                     200 text/plain "ok", stored
//   GET /r/tp2?u=URL                  302 to URL when enabled and the host allowed;
//                                     404 when disabled; 400 for a bad or refused URL
//   OPTIONS any path                  CORS preflight, 200
//   GET /health                       200 "ok"
//   GET /sink-health                  200, or 503 when the good stream is not Writable()
//   GET /robots.txt                   disallow all
//   GET /crossdomain.xml              when enabled, else 404
//   GET /metrics                      Prometheus text of the registry
//   a known path with another method  405 with Allow; anything else 404
// Custom paths (options.path_map) are rewritten first, and the mapped path is stored.
//
// Limits: a body over max_payload_bytes becomes a size_violation bad row in the bad
// stream (raw-bad) and the client still gets 200 (once the bad row is durable). Bodies
// over the HttpServer's max_body_bytes (the "drop" size, 2 MiB) never reach the
// collector: the server answers 413. A POST whose record exceeds the good stream's
// max_record_bytes is split by its "data" array (record_splitter.h); events that still
// do not fit, and oversized GETs, become size_violation bad rows.
//
// Cookie bounce (options.cookie_bounce, off by default; Snowplow's cookieBounce): a
// GET pixel request that carries no network user id (no cookie, no nuid parameter,
// not SP-Anonymous) and no `n3pc` parameter is answered at once with 302 to the same
// URL plus `n3pc=true` and a Set-Cookie with a new id; nothing is stored. When the
// bounced request still has no cookie (the browser refuses third-party cookies), it
// is stored with the fallback network user id
// 00000000-0000-4000-A000-000000000000, so such browsers are not counted as a new
// user on every request.
//
// Privacy: a request with the SP-Anonymous header is stored with ipAddress "unknown",
// the all-zero network user id, and without X-Forwarded-For, X-Real-Ip and Cookie
// headers; no cookie is set (an existing one is expired). A request whose
// do-not-track cookie matches is answered normally and stores nothing.
//
// Metrics (all prefixed furrow_collector_):
//   requests_total{route,status}, bytes_received_total, records_written_total{stream},
//   bad_rows_total{type}, unavailable_total{reason} (503s), split_requests_total,
//   do_not_track_total, cookie_bounces_total, commit_latency_seconds (append -> durable).
//
// Thread safety: Handle() is safe for concurrent use from any number of I/O threads.
// Ownership: the producers, clock, random source and metrics registry are borrowed
// and must outlive the collector; the collector must outlive every append callback
// (flush the producers before destroying it).
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "collector/cookies.h"
#include "collector/random_source.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "core/status.h"
#include "net/http_server.h"
#include "stream/stream.h"

namespace furrow::collector {

// The standard paths a custom path may be mapped onto.
inline constexpr char kTp2Path[] = "/com.snowplowanalytics.snowplow/tp2";
inline constexpr char kRedirectPath[] = "/r/tp2";
inline constexpr char kIgluPath[] = "/com.snowplowanalytics.iglu/v1";

// The network user id stored for SP-Anonymous requests.
inline constexpr char kAnonymousNuid[] = "00000000-0000-0000-0000-000000000000";

struct CookieBounceOptions {
  bool enabled = false;
  // The query parameter that marks a bounced request.
  std::string name = "n3pc";
  // The network user id of a bounced request that still has no cookie.
  std::string fallback_network_user_id = "00000000-0000-4000-A000-000000000000";
  // A header that gives the scheme the client used (e.g. X-Forwarded-Proto behind a
  // TLS-terminating load balancer); empty: the Location uses http.
  std::string forwarded_protocol_header;
};

struct CollectorOptions {
  // The stored `collector` field is "furrow-<version>-<sink_name>" (default "file").
  std::string sink_name = "file";

  // Bodies larger than this become a size_violation bad row (client gets 200).
  // Default 1 MiB.
  size_t max_payload_bytes = 1024 * 1024;

  // The network user id cookie; see cookies.h for each default.
  CookieOptions cookie;

  // Cookie bounce; see the banner. Default off.
  CookieBounceOptions cookie_bounce;

  // Access-Control-Max-Age on preflight responses. Default 3600 s.
  std::chrono::seconds cors_max_age{3600};

  // GET /r/tp2 redirects. Default off (404). When on, the target host must equal or
  // be a subdomain of an entry of `redirect_allowed_hosts`; "*" allows any host.
  // Default: no host allowed.
  bool redirect_enabled = false;
  std::vector<std::string> redirect_allowed_hosts;

  // /crossdomain.xml. Default off (404). When on, one <allow-access-from> element
  // per domain (default "*") with secure="true|false" (default true).
  bool crossdomain_enabled = false;
  std::vector<std::string> crossdomain_domains = {"*"};
  bool crossdomain_secure = true;

  // Do-not-track cookie: when a cookie named `dnt_cookie_name` has a value fully
  // matching the RE2 regex `dnt_cookie_value`, nothing is stored. Default off
  // (empty name).
  std::string dnt_cookie_name;
  std::string dnt_cookie_value = ".*";

  // Custom path -> one of kTp2Path, kRedirectPath, kIgluPath. Default empty.
  std::map<std::string, std::string> path_map;

  // Retry-After on 503 responses. Default 5 s.
  std::chrono::seconds retry_after{5};
};

struct CollectorDeps {
  stream::Producer* good = nullptr;  // raw-good
  stream::Producer* bad = nullptr;   // raw-bad
  const Clock* clock = nullptr;
  RandomSource* random = nullptr;
  MetricsRegistry* metrics = nullptr;
};

class Collector {
 public:
  // Errors: kInvalidArgument for an invalid option (a do-not-track regex that does not
  // compile, a path_map target that is not a standard path, a missing dependency).
  static Result<std::unique_ptr<Collector>> Create(CollectorOptions options, CollectorDeps deps);
  ~Collector();
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  // Handles one request; answers through `responder` now or once the record is durable.
  void Handle(net::HttpRequest&& request, std::shared_ptr<net::Responder> responder);

  // A net::Handler calling Handle() on this collector.
  net::Handler AsHandler();

  // The stored `collector` field, e.g. "furrow-0.1.0-file".
  const std::string& collector_name() const;

 private:
  class Impl;
  explicit Collector(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The 1x1 transparent GIF every pixel route answers with.
std::string_view PixelGif();

}  // namespace furrow::collector
