#include "collector/collector.h"

#include <re2/re2.h>

#include <array>
#include <atomic>
#include <optional>
#include <string_view>
#include <utility>

#include "badrows/bad_row.h"
#include "collector/record_splitter.h"
#include "core/version.h"
#include "tracker/collector_payload.h"
#include "tracker/query_string.h"

namespace furrow::collector {
namespace {

using net::HttpRequest;
using net::HttpResponse;
using net::Responder;
using tracker::CollectorPayload;

constexpr unsigned char kGif[] = {0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0xf0,
                                  0x00, 0x00, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x21, 0xf9, 0x04,
                                  0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01,
                                  0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};

constexpr char kRobots[] = "User-agent: *\nDisallow: /\n";
constexpr char kNoCache[] = "no-cache, no-store, must-revalidate";

enum class Route {
  kPixel,       // GET|HEAD /i, /ice.png, /{a}/{b}
  kPost,        // POST /{a}/{b}
  kRedirect,    // /r/tp2
  kPreflight,   // OPTIONS
  kHealth,
  kSinkHealth,
  kRobots,
  kCrossdomain,
  kMetrics,
  kNotFound,
  kCount,
};
constexpr std::array<const char*, static_cast<size_t>(Route::kCount)> kRouteNames = {
    "pixel",  "post",        "redirect", "preflight", "health",
    "sink_health", "robots", "crossdomain", "metrics",  "not_found"};

// Statuses whose request counters are cached; others are looked up each time.
constexpr std::array<int, 8> kCachedStatuses = {200, 302, 400, 404, 405, 413, 500, 503};

// Which handling a path gets before looking at the method.
enum class PathKind { kPixel, kVendor, kRedirect, kHealth, kSinkHealth, kRobots, kCrossdomain,
                      kMetrics, kUnknown };

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

std::optional<std::string_view> FindHeader(const net::HeaderList& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) return std::string_view(v);
  }
  return std::nullopt;
}

bool IsTwoSegments(std::string_view path) {
  if (path.size() < 4 || path[0] != '/') return false;
  size_t slash = path.find('/', 1);
  if (slash == std::string_view::npos || slash == 1 || slash + 1 >= path.size()) return false;
  return path.find('/', slash + 1) == std::string_view::npos;
}

// Host header without the port ("c.example.com:8080" -> "c.example.com", "[::1]:80" -> "::1").
std::string HostWithoutPort(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    return std::string(close == std::string_view::npos ? host.substr(1) : host.substr(1, close - 1));
  }
  return std::string(host.substr(0, host.find(':')));
}

bool HasControlCharacters(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// The lower-cased host of an absolute http(s) URL, or nullopt.
std::optional<std::string> HttpUrlHost(std::string_view url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  std::string scheme(url.substr(0, scheme_end));
  for (char& c : scheme) c = Lower(c);
  if (scheme != "http" && scheme != "https") return std::nullopt;
  std::string_view rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  size_t at = rest.rfind('@');
  if (at != std::string_view::npos) rest = rest.substr(at + 1);
  std::string host = HostWithoutPort(rest);
  for (char& c : host) c = Lower(c);
  if (host.empty()) return std::nullopt;
  return host;
}

bool HostAllowed(const std::string& host, const std::vector<std::string>& allowed) {
  for (const std::string& entry : allowed) {
    if (entry == "*") return true;
    std::string domain = entry;
    for (char& c : domain) c = Lower(c);
    if (host == domain) return true;
    if (host.size() > domain.size() && host.ends_with(domain) &&
        host[host.size() - domain.size() - 1] == '.') {
      return true;
    }
  }
  return false;
}

void ReplaceAll(std::string* s, std::string_view from, std::string_view to) {
  size_t pos = 0;
  while ((pos = s->find(from, pos)) != std::string::npos) {
    s->replace(pos, from.size(), to);
    pos += to.size();
  }
}

}  // namespace

std::string_view PixelGif() { return {reinterpret_cast<const char*>(kGif), sizeof(kGif)}; }

class Collector::Impl {
 public:
  Impl(CollectorOptions options, CollectorDeps deps, std::unique_ptr<RE2> dnt_regex)
      : options_(std::move(options)),
        deps_(deps),
        dnt_regex_(std::move(dnt_regex)),
        collector_name_(std::string("furrow-") + kVersion + "-" + options_.sink_name) {
    MetricsRegistry& m = *deps_.metrics;
    bytes_received_ = &m.GetCounter("furrow_collector_bytes_received_total",
                                    "Request body bytes received on tracking routes");
    good_written_ = &m.GetCounter("furrow_collector_records_written_total",
                                  "Records durably written, by stream", {{"stream", "raw-good"}});
    bad_written_ = &m.GetCounter("furrow_collector_records_written_total",
                                 "Records durably written, by stream", {{"stream", "raw-bad"}});
    size_violations_ = &m.GetCounter("furrow_collector_bad_rows_total", "Bad rows written, by type",
                                     {{"type", "size_violation"}});
    unavailable_exhausted_ =
        &m.GetCounter("furrow_collector_unavailable_total",
                      "503 answers because the stream refused a record, by reason",
                      {{"reason", "resource_exhausted"}});
    unavailable_other_ =
        &m.GetCounter("furrow_collector_unavailable_total",
                      "503 answers because the stream refused a record, by reason",
                      {{"reason", "other"}});
    split_requests_ = &m.GetCounter("furrow_collector_split_requests_total",
                                    "POST requests split into several records");
    cookie_bounces_ = &m.GetCounter("furrow_collector_cookie_bounces_total",
                                    "Pixel requests without a cookie redirected to set one");
    do_not_track_ = &m.GetCounter("furrow_collector_do_not_track_total",
                                  "Tracking requests not stored because of the do-not-track cookie");
    commit_latency_ = &m.GetHistogram("furrow_collector_commit_latency_seconds",
                                      "Time from append to durable, per request",
                                      DefaultLatencyBuckets());
    for (auto& row : request_counters_) {
      for (auto& c : row) c.store(nullptr, std::memory_order_relaxed);
    }
  }

  const std::string& collector_name() const { return collector_name_; }

  void Handle(HttpRequest&& req, std::shared_ptr<Responder> responder) {
    std::string path = req.path;
    if (auto it = options_.path_map.find(path); it != options_.path_map.end()) path = it->second;
    const std::string& method = req.method;

    if (method == "OPTIONS") {
      Send(Route::kPreflight, *responder, Preflight(req));
      return;
    }
    const bool get_or_head = method == "GET" || method == "HEAD";
    switch (Classify(path)) {
      case PathKind::kPixel:
        if (!get_or_head) return MethodNotAllowed(Route::kPixel, *responder, "GET, HEAD, OPTIONS");
        return Track(Route::kPixel, std::move(req), std::move(path), std::move(responder));
      case PathKind::kVendor:
        if (method == "POST") {
          return Track(Route::kPost, std::move(req), std::move(path), std::move(responder));
        }
        if (!get_or_head) {
          return MethodNotAllowed(Route::kPixel, *responder, "GET, HEAD, POST, OPTIONS");
        }
        return Track(Route::kPixel, std::move(req), std::move(path), std::move(responder));
      case PathKind::kRedirect:
        if (!get_or_head) return MethodNotAllowed(Route::kRedirect, *responder, "GET, HEAD, OPTIONS");
        return Track(Route::kRedirect, std::move(req), std::move(path), std::move(responder));
      case PathKind::kHealth:
        if (!get_or_head) return MethodNotAllowed(Route::kHealth, *responder, "GET, HEAD");
        return Send(Route::kHealth, *responder, Text(200, "ok"));
      case PathKind::kSinkHealth: {
        if (!get_or_head) return MethodNotAllowed(Route::kSinkHealth, *responder, "GET, HEAD");
        bool writable = deps_.good->Writable() && deps_.bad->Writable();
        return Send(Route::kSinkHealth, *responder,
                    writable ? Text(200, "ok") : Text(503, "unavailable"));
      }
      case PathKind::kRobots:
        if (!get_or_head) return MethodNotAllowed(Route::kRobots, *responder, "GET, HEAD");
        return Send(Route::kRobots, *responder, Text(200, kRobots));
      case PathKind::kCrossdomain: {
        if (!get_or_head) return MethodNotAllowed(Route::kCrossdomain, *responder, "GET, HEAD");
        HttpResponse r = Text(200, CrossdomainXml());
        r.headers[0].second = "text/xml; charset=utf-8";
        return Send(Route::kCrossdomain, *responder, std::move(r));
      }
      case PathKind::kMetrics: {
        if (!get_or_head) return MethodNotAllowed(Route::kMetrics, *responder, "GET, HEAD");
        HttpResponse r = Text(200, deps_.metrics->RenderPrometheus());
        r.headers[0].second = "text/plain; version=0.0.4; charset=utf-8";
        return Send(Route::kMetrics, *responder, std::move(r));
      }
      case PathKind::kUnknown:
        return Send(Route::kNotFound, *responder, Text(404, "not found"));
    }
  }

 private:
  // Shared by the appends of one request; the last callback answers.
  struct Pending {
    Route route;
    HttpResponse response;
    std::shared_ptr<Responder> responder;
    MonoTime started;
    std::atomic<int> remaining{0};
    std::atomic<int> failure{0};  // 0 none, 1 resource exhausted, 2 other
  };

  PathKind Classify(std::string_view path) const {
    if (path == "/i" || path == "/ice.png") return PathKind::kPixel;
    if (path == "/health") return PathKind::kHealth;
    if (path == "/sink-health") return PathKind::kSinkHealth;
    if (path == "/robots.txt") return PathKind::kRobots;
    if (path == "/metrics") return PathKind::kMetrics;
    if (path == "/crossdomain.xml") {
      return options_.crossdomain_enabled ? PathKind::kCrossdomain : PathKind::kUnknown;
    }
    if (path == kRedirectPath) {
      return options_.redirect_enabled ? PathKind::kRedirect : PathKind::kUnknown;
    }
    if (IsTwoSegments(path)) return PathKind::kVendor;
    return PathKind::kUnknown;
  }

  static HttpResponse Text(int status, std::string body) {
    HttpResponse r;
    r.status = status;
    r.Set("Content-Type", "text/plain; charset=utf-8");
    // For HEAD the server sends the Content-Length of this body but not the body.
    r.body = std::move(body);
    return r;
  }

  std::string CrossdomainXml() const {
    std::string xml = "<?xml version=\"1.0\"?>\n<cross-domain-policy>\n";
    for (const std::string& domain : options_.crossdomain_domains) {
      xml += "  <allow-access-from domain=\"" + domain + "\" secure=\"" +
             (options_.crossdomain_secure ? "true" : "false") + "\" />\n";
    }
    xml += "</cross-domain-policy>\n";
    return xml;
  }

  void MethodNotAllowed(Route route, Responder& responder, const char* allow) {
    HttpResponse r = Text(405, "method not allowed");
    r.Set("Allow", allow);
    Send(route, responder, std::move(r));
  }

  static void AddCors(HttpResponse* r, std::optional<std::string_view> origin) {
    r->Set("Access-Control-Allow-Origin", origin ? std::string(*origin) : std::string("*"));
    r->Set("Access-Control-Allow-Credentials", "true");
  }

  HttpResponse Preflight(const HttpRequest& req) const {
    HttpResponse r;
    r.status = 200;
    AddCors(&r, FindHeader(req.headers, "Origin"));
    r.Set("Access-Control-Allow-Headers", "Content-Type, SP-Anonymous");
    r.Set("Access-Control-Max-Age", std::to_string(options_.cors_max_age.count()));
    return r;
  }

  Counter& RequestCounter(Route route, int status) {
    size_t r = static_cast<size_t>(route);
    for (size_t i = 0; i < kCachedStatuses.size(); ++i) {
      if (kCachedStatuses[i] != status) continue;
      Counter* c = request_counters_[r][i].load(std::memory_order_acquire);
      if (c == nullptr) {
        c = &NewRequestCounter(route, status);
        request_counters_[r][i].store(c, std::memory_order_release);
      }
      return *c;
    }
    return NewRequestCounter(route, status);
  }

  Counter& NewRequestCounter(Route route, int status) {
    return deps_.metrics->GetCounter(
        "furrow_collector_requests_total", "HTTP requests by route and status",
        {{"route", kRouteNames[static_cast<size_t>(route)]}, {"status", std::to_string(status)}});
  }

  void Send(Route route, Responder& responder, HttpResponse response) {
    RequestCounter(route, response.status).Inc();
    responder.Send(std::move(response));
  }

  // The answer to a tracking request once its records are durable.
  HttpResponse TrackingResponse(Route route, const HttpRequest& req) const {
    HttpResponse r;
    r.status = 200;
    if (route == Route::kPost) {
      r.Set("Content-Type", "text/plain; charset=utf-8");
      r.body = "ok";
    } else if (route == Route::kPixel) {
      r.Set("Content-Type", "image/gif");
      r.body = std::string(PixelGif());  // the server omits it for HEAD
    }
    r.Set("Cache-Control", kNoCache);
    return r;
  }

  // The URL a bounced request is sent back to: the same one plus `n3pc=true`,
  // absolute when the request named its Host, relative otherwise.
  std::string BounceLocation(const HttpRequest& req) const {
    std::string location;
    const std::optional<std::string_view> host = FindHeader(req.headers, "Host");
    if (host && !host->empty() && !HasControlCharacters(*host)) {
      std::string scheme = "http";
      const std::string& proto_header = options_.cookie_bounce.forwarded_protocol_header;
      if (!proto_header.empty()) {
        std::optional<std::string_view> proto = FindHeader(req.headers, proto_header);
        if (proto && (*proto == "https" || *proto == "HTTPS")) scheme = "https";
      }
      location = scheme + "://" + std::string(*host);
    }
    location += req.target;
    location += req.query.empty() ? (req.target.find('?') == std::string::npos ? "?" : "") : "&";
    location += options_.cookie_bounce.name + "=true";
    return location;
  }

  void Track(Route route, HttpRequest&& req, std::string path,
             std::shared_ptr<Responder> responder) {
    bytes_received_->Inc(req.body.size());
    const int64_t now_ms = deps_.clock->NowMillis();
    const std::optional<std::string_view> origin = FindHeader(req.headers, "Origin");
    const std::optional<std::string_view> cookies = FindHeader(req.headers, "Cookie");
    const bool anonymous = FindHeader(req.headers, "SP-Anonymous").has_value();

    HttpResponse response = TrackingResponse(route, req);
    AddCors(&response, origin);

    std::optional<std::string_view> existing;
    if (cookies && options_.cookie.enabled) existing = FindCookie(*cookies, options_.cookie.name);
    std::string nuid;
    bool bounce = false;
    if (anonymous) {
      nuid = kAnonymousNuid;
    } else if (auto q = tracker::FindQueryParam(req.query, "nuid"); q && !q->empty()) {
      nuid = std::move(*q);
    } else if (existing && !existing->empty()) {
      nuid = std::string(*existing);
    } else if (options_.cookie_bounce.enabled && route == Route::kPixel) {
      if (tracker::FindQueryParam(req.query, options_.cookie_bounce.name).has_value()) {
        nuid = options_.cookie_bounce.fallback_network_user_id;  // bounced, still no cookie
      } else {
        nuid = NewUuidV4(*deps_.random);
        bounce = req.method == "GET";
      }
    } else {
      nuid = NewUuidV4(*deps_.random);
    }

    if (route == Route::kRedirect) {
      std::optional<std::string> target = tracker::FindQueryParam(req.query, "u");
      std::optional<std::string> host;
      if (target && !HasControlCharacters(*target)) host = HttpUrlHost(*target);
      if (!host || !HostAllowed(*host, options_.redirect_allowed_hosts)) {
        HttpResponse bad = Text(400, "bad redirect target");
        AddCors(&bad, origin);
        return Send(Route::kRedirect, *responder, std::move(bad));
      }
      ReplaceAll(&*target, "${SP_NUID}", nuid);
      response.status = 302;
      response.Set("Location", *target);
    }

    if (dnt_regex_ && cookies) {
      std::optional<std::string_view> v = FindCookie(*cookies, options_.dnt_cookie_name);
      if (v && RE2::FullMatch(re2::StringPiece(v->data(), v->size()), *dnt_regex_)) {
        do_not_track_->Inc();
        return Send(route, *responder, std::move(response));
      }
    }

    if (options_.cookie.enabled) {
      std::string domain = SelectCookieDomain(options_.cookie, origin);
      // The fallback id is never written into a cookie: it only stands for browsers
      // that refused one.
      if (!anonymous && nuid != options_.cookie_bounce.fallback_network_user_id) {
        response.Set("Set-Cookie", BuildSetCookie(options_.cookie, nuid, domain, now_ms));
      } else if (anonymous && existing) {
        response.Set("Set-Cookie", BuildExpiredCookie(options_.cookie, domain));
      }
    }

    if (bounce) {
      // Nothing is stored: the browser comes back with the cookie (or without it,
      // and then with n3pc, and is stored under the fallback id).
      cookie_bounces_->Inc();
      response.status = 302;
      response.body.clear();
      std::erase_if(response.headers, [](const auto& h) { return h.first == "Content-Type"; });
      response.Set("Location", BounceLocation(req));
      return Send(route, *responder, std::move(response));
    }

    const bool post = route == Route::kPost;
    CollectorPayload payload = BuildPayload(std::move(req), std::move(path), std::move(nuid),
                                            anonymous, post, now_ms);

    std::vector<std::string> good_records;
    std::vector<std::string> bad_records;
    if (payload.body && payload.body->size() > options_.max_payload_bytes) {
      bad_records.push_back(SizeViolation(now_ms, options_.max_payload_bytes, payload.body->size(),
                                          "body exceeds the collector's max payload size",
                                          *payload.body));
    } else {
      std::string record = tracker::EncodeCollectorPayload(payload);
      const size_t limit = deps_.good->max_record_bytes();
      if (record.size() <= limit) {
        good_records.push_back(std::move(record));
      } else if (post) {
        Result<SplitPayloads> split = SplitByDataArray(payload, limit);
        if (split.ok()) {
          split_requests_->Inc();
          good_records = std::move(split->records);
          for (const std::string& event : split->oversized) {
            bad_records.push_back(SizeViolation(now_ms, limit, event.size(),
                                                "one event exceeds the stream's max record size",
                                                event));
          }
        } else {
          bad_records.push_back(SizeViolation(now_ms, limit, record.size(),
                                              "record exceeds the stream's max record size and "
                                              "its body cannot be split: " +
                                                  split.status().message(),
                                              *payload.body));
        }
      } else {
        std::string what = payload.path.value_or("") + "?" + payload.querystring.value_or("");
        bad_records.push_back(SizeViolation(now_ms, limit, record.size(),
                                            "record exceeds the stream's max record size", what));
      }
    }
    Commit(route, std::move(good_records), std::move(bad_records), std::move(response),
           std::move(responder));
  }

  CollectorPayload BuildPayload(HttpRequest&& req, std::string path, std::string nuid,
                                bool anonymous, bool post, int64_t now_ms) const {
    CollectorPayload p;
    p.ip_address = anonymous ? std::string("unknown") : std::move(req.remote_address);
    p.timestamp_ms = now_ms;
    p.collector = collector_name_;
    std::optional<std::string_view> content_type;
    std::vector<std::string> headers;
    headers.reserve(req.headers.size() + 1);
    for (const auto& [name, value] : req.headers) {
      if (EqualsIgnoreCase(name, "Content-Type")) {
        if (!content_type) content_type = value;
        continue;
      }
      if (EqualsIgnoreCase(name, "Content-Length")) continue;
      if (anonymous && (EqualsIgnoreCase(name, "X-Forwarded-For") ||
                        EqualsIgnoreCase(name, "X-Real-Ip") || EqualsIgnoreCase(name, "Cookie"))) {
        continue;
      }
      if (EqualsIgnoreCase(name, "User-Agent") && !p.user_agent) p.user_agent = value;
      if (EqualsIgnoreCase(name, "Referer") && !p.referer_uri) p.referer_uri = value;
      if (EqualsIgnoreCase(name, "Host") && !p.hostname) p.hostname = HostWithoutPort(value);
      std::string line;
      line.reserve(name.size() + 2 + value.size());
      line += name;
      line += ": ";
      line += value;
      headers.push_back(std::move(line));
    }
    if (content_type) {
      headers.push_back("Content-Type: " + std::string(*content_type));
      p.content_type = std::string(*content_type);
    }
    p.headers = std::move(headers);
    p.path = std::move(path);
    if (!req.query.empty()) p.querystring = std::move(req.query);
    if (post) p.body = std::move(req.body);
    p.network_user_id = std::move(nuid);
    return p;
  }

  std::string SizeViolation(int64_t now_ms, size_t limit, size_t actual, std::string_view expectation,
                            std::string_view payload) const {
    size_t keep = limit / 10;
    size_t bad_limit = deps_.bad->max_record_bytes();
    if (keep > bad_limit / 2) keep = bad_limit / 2;
    return badrows::SizeViolation(badrows::Processor::Furrow(), now_ms, limit, actual, expectation,
                                  badrows::TruncateUtf8(payload, keep));
  }

  void Commit(Route route, std::vector<std::string> good_records,
              std::vector<std::string> bad_records, HttpResponse response,
              std::shared_ptr<Responder> responder) {
    const size_t total = good_records.size() + bad_records.size();
    if (total == 0) return Send(route, *responder, std::move(response));
    auto pending = std::make_shared<Pending>();
    pending->route = route;
    pending->response = std::move(response);
    pending->responder = std::move(responder);
    pending->started = deps_.clock->Monotonic();
    pending->remaining.store(static_cast<int>(total), std::memory_order_relaxed);
    for (std::string& record : good_records) {
      deps_.good->Append(std::move(record), [this, pending](const Status& s) { Done(*pending, s, true); });
    }
    for (std::string& record : bad_records) {
      deps_.bad->Append(std::move(record), [this, pending](const Status& s) { Done(*pending, s, false); });
    }
  }

  void Done(Pending& pending, const Status& status, bool good) {
    if (status.ok()) {
      (good ? good_written_ : bad_written_)->Inc();
      if (!good) size_violations_->Inc();
    } else {
      int code = status.code() == StatusCode::kResourceExhausted ? 1 : 2;
      int expected = 0;
      pending.failure.compare_exchange_strong(expected, code);
    }
    if (pending.remaining.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    std::chrono::duration<double> latency = deps_.clock->Monotonic() - pending.started;
    commit_latency_->Observe(latency.count());
    int failure = pending.failure.load(std::memory_order_acquire);
    if (failure == 0) {
      return Send(pending.route, *pending.responder, std::move(pending.response));
    }
    (failure == 1 ? unavailable_exhausted_ : unavailable_other_)->Inc();
    HttpResponse r;
    r.status = 503;
    r.Set("Content-Type", "text/plain; charset=utf-8");
    r.Set("Retry-After", std::to_string(options_.retry_after.count()));
    for (const auto& [name, value] : pending.response.headers) {
      if (name.starts_with("Access-Control-")) r.Set(name, value);
    }
    r.body = "unavailable";
    Send(pending.route, *pending.responder, std::move(r));
  }

  const CollectorOptions options_;
  const CollectorDeps deps_;
  const std::unique_ptr<RE2> dnt_regex_;  // null when do-not-track is off
  const std::string collector_name_;

  Counter* bytes_received_;
  Counter* good_written_;
  Counter* bad_written_;
  Counter* size_violations_;
  Counter* unavailable_exhausted_;
  Counter* unavailable_other_;
  Counter* split_requests_;
  Counter* do_not_track_;
  Counter* cookie_bounces_;
  Histogram* commit_latency_;
  std::array<std::array<std::atomic<Counter*>, kCachedStatuses.size()>,
             static_cast<size_t>(Route::kCount)>
      request_counters_;
};

Result<std::unique_ptr<Collector>> Collector::Create(CollectorOptions options, CollectorDeps deps) {
  if (deps.good == nullptr || deps.bad == nullptr || deps.clock == nullptr ||
      deps.random == nullptr || deps.metrics == nullptr) {
    return InvalidArgumentError("collector: every dependency must be provided");
  }
  for (const auto& [from, to] : options.path_map) {
    if (to != kTp2Path && to != kRedirectPath && to != kIgluPath) {
      return InvalidArgumentError("collector: path_map target \"" + to + "\" for \"" + from +
                                  "\" is not one of " + kTp2Path + ", " + kRedirectPath + ", " +
                                  kIgluPath);
    }
    if (from.empty() || from[0] != '/') {
      return InvalidArgumentError("collector: path_map source \"" + from + "\" must start with /");
    }
  }
  if (options.cookie.name.empty() && options.cookie.enabled) {
    return InvalidArgumentError("collector: cookie name must not be empty");
  }
  std::unique_ptr<RE2> dnt;
  if (!options.dnt_cookie_name.empty()) {
    RE2::Options re_options;
    re_options.set_log_errors(false);
    dnt = std::make_unique<RE2>(options.dnt_cookie_value, re_options);
    if (!dnt->ok()) {
      return InvalidArgumentError("collector: do-not-track cookie value regex: " + dnt->error());
    }
  }
  return std::unique_ptr<Collector>(
      new Collector(std::make_unique<Impl>(std::move(options), deps, std::move(dnt))));
}

Collector::Collector(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Collector::~Collector() = default;

void Collector::Handle(net::HttpRequest&& request, std::shared_ptr<net::Responder> responder) {
  impl_->Handle(std::move(request), std::move(responder));
}

net::Handler Collector::AsHandler() {
  return [impl = impl_.get()](net::HttpRequest&& request, std::shared_ptr<net::Responder> responder) {
    impl->Handle(std::move(request), std::move(responder));
  };
}

const std::string& Collector::collector_name() const { return impl_->collector_name(); }

}  // namespace furrow::collector
