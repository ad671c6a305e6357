// `furrow collector`: the collector stage alone, on the embedded file streams.
//
// Wires the embedded file streams (DATA_DIR/streams, app/stream_options.h) + HttpServer + collector::Collector,
// prints "listening on ADDRESS:PORT" once bound, and on SIGTERM/SIGINT stops
// accepting, lets in-flight requests finish (their records committed), flushes the
// streams and exits 0. Every option is documented in docs/configuration.md.
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/signals.h"
#include "app/stream_options.h"
#include "collector/collector.h"
#include "collector/random_source.h"
#include "core/clock.h"
#include "core/logging.h"
#include "core/metrics.h"
#include "net/http_server.h"
#include "stream/stream.h"

namespace furrow::app {
namespace {

struct CollectorCommandOptions {
  std::string data_dir = "./var";
  int port = 8080;
  std::string bind = "0.0.0.0";
  int threads = 0;
  size_t max_connections = 10000;
  int64_t idle_timeout_s = 610;
  int64_t request_timeout_s = 30;
  int64_t drain_timeout_s = 10;
  size_t max_request_line_bytes = 20480;
  size_t max_header_bytes = 40960;

  size_t max_payload_size = 1024 * 1024;
  size_t drop_payload_size = 2 * 1024 * 1024;

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
  std::string dnt_cookie_name;
  std::string dnt_cookie_value = ".*";
  std::vector<std::string> path_map;
  int64_t retry_after_s = 5;

  StreamCommandOptions streams;  // --stream-* (stream_options.h)
};

int Fail(const std::string& what, const Status& status) {
  log::Error(what, {{"error", status.ToString()}});
  std::fprintf(stderr, "furrow collector: %s: %s\n", what.c_str(), status.ToString().c_str());
  return kExitFailure;
}

Result<collector::CollectorOptions> ToCollectorOptions(const CollectorCommandOptions& o) {
  collector::CollectorOptions c;
  c.sink_name = "file";
  c.max_payload_bytes = o.max_payload_size;
  c.cookie.enabled = o.cookie_enabled;
  c.cookie.name = o.cookie_name;
  c.cookie.expiration = std::chrono::seconds(o.cookie_expiration_days * 24 * 3600);
  c.cookie.domains = o.cookie_domains;
  c.cookie.fallback_domain = o.cookie_fallback_domain;
  c.cookie.secure = o.cookie_secure;
  c.cookie.http_only = o.cookie_http_only;
  c.cookie.same_site = o.cookie_same_site;
  c.cors_max_age = std::chrono::seconds(o.cors_max_age_s);
  c.redirect_enabled = o.redirect_enabled;
  c.redirect_allowed_hosts = o.redirect_allowed_hosts;
  c.crossdomain_enabled = o.crossdomain_enabled;
  c.crossdomain_domains = o.crossdomain_domains;
  c.crossdomain_secure = o.crossdomain_secure;
  c.dnt_cookie_name = o.dnt_cookie_name;
  c.dnt_cookie_value = o.dnt_cookie_value;
  c.retry_after = std::chrono::seconds(o.retry_after_s);
  for (const std::string& entry : o.path_map) {
    size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == entry.size()) {
      return InvalidArgumentError("--path-map expects CUSTOM=STANDARD, got \"" + entry + "\"");
    }
    c.path_map[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return c;
}

int RunCollector(const CollectorCommandOptions& o) {
  if (o.max_payload_size > o.drop_payload_size) {
    return Fail("bad options",
                InvalidArgumentError("--max-payload-size must not exceed --drop-payload-size"));
  }
  Result<collector::CollectorOptions> collector_options = ToCollectorOptions(o);
  if (!collector_options.ok()) return Fail("bad options", collector_options.status());

  MetricsRegistry metrics;
  const Clock& clock = SystemClock::Instance();

  auto provider = OpenStreams(o.data_dir, o.streams, clock, &metrics);
  if (!provider.ok()) return Fail("cannot open streams", provider.status());
  auto good = (*provider)->GetProducer(stream::kRawGood);
  if (!good.ok()) return Fail("cannot open raw-good", good.status());
  auto bad = (*provider)->GetProducer(stream::kRawBad);
  if (!bad.ok()) return Fail("cannot open raw-bad", bad.status());

  auto collector = collector::Collector::Create(
      std::move(*collector_options),
      {*good, *bad, &clock, &collector::SystemRandomSource::Instance(), &metrics});
  if (!collector.ok()) return Fail("bad options", collector.status());

  net::HttpServerOptions server_options;
  server_options.bind = o.bind;
  server_options.port = o.port;
  server_options.threads = o.threads;
  server_options.max_connections = o.max_connections;
  server_options.max_body_bytes = o.drop_payload_size;
  server_options.max_request_line_bytes = o.max_request_line_bytes;
  server_options.max_header_bytes = o.max_header_bytes;
  server_options.idle_timeout = std::chrono::seconds(o.idle_timeout_s);
  server_options.header_timeout = std::chrono::seconds(o.request_timeout_s);
  server_options.body_timeout = std::chrono::seconds(o.request_timeout_s);
  server_options.clock = &clock;
  net::HttpServer server(server_options, (*collector)->AsHandler(), metrics, "furrow_collector");
  Status started = server.Start();
  if (!started.ok()) {
    (*provider)->Close();
    return Fail("cannot listen", started);
  }
  AnnounceListening(o.bind, server.port());
  log::Info("collector started", {{"port", server.port()},
                                  {"data_dir", o.data_dir},
                                  {"collector", (*collector)->collector_name()}});

  int signal = WaitForTerminationSignal();
  log::Info("collector stopping", {{"signal", signal}});
  // Stop accepting; requests in flight finish, their records committed and answered.
  server.Stop(std::chrono::seconds(o.drain_timeout_s));
  Status flushed_good = (*good)->Flush();
  Status flushed_bad = (*bad)->Flush();
  (*provider)->Close();
  if (!flushed_good.ok()) return Fail("flushing raw-good", flushed_good);
  if (!flushed_bad.ok()) return Fail("flushing raw-bad", flushed_bad);
  log::Info("collector stopped");
  return kExitOk;
}

}  // namespace

void RegisterCollectorCommand(CLI::App& app, Commands& commands) {
  static CollectorCommandOptions o;
  CLI::App* cmd = app.add_subcommand(
      "collector", "Run the Snowplow-compatible collector (writes raw-good and raw-bad)");
  AddDataDirOption(cmd, &o.data_dir);
  AddListenOptions(cmd, &o.port, &o.bind, 8080);
  cmd->add_option("--threads", o.threads, "HTTP I/O threads; 0 = number of cores")
      ->capture_default_str();
  cmd->add_option("--max-connections", o.max_connections, "Open connections beyond which new ones are closed")
      ->capture_default_str();
  cmd->add_option("--idle-timeout", o.idle_timeout_s, "Seconds an idle keep-alive connection is kept")
      ->capture_default_str();
  cmd->add_option("--request-timeout", o.request_timeout_s,
                  "Seconds to receive a request's headers, and again its body (408 beyond)")
      ->capture_default_str();
  cmd->add_option("--drain-timeout", o.drain_timeout_s,
                  "Seconds to let in-flight requests finish on shutdown")
      ->capture_default_str();
  cmd->add_option("--max-request-line-bytes", o.max_request_line_bytes, "Longest request line (400 beyond)")
      ->capture_default_str();
  cmd->add_option("--max-header-bytes", o.max_header_bytes, "Largest header block (400 beyond)")
      ->capture_default_str();
  cmd->add_option("--max-payload-size", o.max_payload_size,
                  "Bodies larger than this become a size_violation bad row (client gets 200)")
      ->capture_default_str();
  cmd->add_option("--drop-payload-size", o.drop_payload_size, "Bodies larger than this get 413")
      ->capture_default_str();
  cmd->add_option("--cookie-enabled", o.cookie_enabled, "Set the network user id cookie")
      ->capture_default_str();
  cmd->add_option("--cookie-name", o.cookie_name, "Network user id cookie name")->capture_default_str();
  cmd->add_option("--cookie-expiration-days", o.cookie_expiration_days, "Cookie lifetime in days")
      ->capture_default_str();
  cmd->add_option("--cookie-domain", o.cookie_domains,
                  "Cookie Domain candidates (repeatable); the first equal to or parent of the Origin host wins");
  cmd->add_option("--cookie-fallback-domain", o.cookie_fallback_domain,
                  "Cookie Domain when no --cookie-domain matches; empty = host-only cookie");
  cmd->add_option("--cookie-secure", o.cookie_secure, "Secure attribute")->capture_default_str();
  cmd->add_option("--cookie-http-only", o.cookie_http_only, "HttpOnly attribute")->capture_default_str();
  cmd->add_option("--cookie-same-site", o.cookie_same_site, "SameSite attribute; empty omits it")
      ->capture_default_str();
  cmd->add_option("--cors-max-age", o.cors_max_age_s, "Access-Control-Max-Age of preflight answers (s)")
      ->capture_default_str();
  cmd->add_option("--redirect-enabled", o.redirect_enabled, "Serve GET /r/tp2?u=URL redirects")
      ->capture_default_str();
  cmd->add_option("--redirect-allowed-host", o.redirect_allowed_hosts,
                  "Hosts (and their subdomains) redirects may go to (repeatable); * = any");
  cmd->add_option("--crossdomain-enabled", o.crossdomain_enabled, "Serve /crossdomain.xml")
      ->capture_default_str();
  cmd->add_option("--crossdomain-domain", o.crossdomain_domains, "Domains in /crossdomain.xml (repeatable)")
      ->capture_default_str();
  cmd->add_option("--crossdomain-secure", o.crossdomain_secure, "secure attribute in /crossdomain.xml")
      ->capture_default_str();
  cmd->add_option("--dnt-cookie-name", o.dnt_cookie_name,
                  "Do-not-track cookie name; requests whose cookie value matches are not stored");
  cmd->add_option("--dnt-cookie-value", o.dnt_cookie_value, "Do-not-track cookie value (RE2, full match)")
      ->capture_default_str();
  cmd->add_option("--path-map", o.path_map,
                  "CUSTOM=STANDARD path mapping (repeatable); STANDARD is "
                  "/com.snowplowanalytics.snowplow/tp2, /r/tp2 or /com.snowplowanalytics.iglu/v1");
  cmd->add_option("--retry-after", o.retry_after_s, "Retry-After of 503 answers (s)")->capture_default_str();
  AddStreamOptions(cmd, &o.streams);
  commands.SetRunner(cmd, [] { return RunCollector(o); });
}

}  // namespace furrow::app
