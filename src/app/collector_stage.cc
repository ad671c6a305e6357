#include "app/collector_stage.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "app/command.h"
#include "collector/random_source.h"

namespace furrow::app {
namespace {

Result<collector::CollectorOptions> ToCollectorOptions(const CollectorStageOptions& o) {
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
  c.cookie_bounce.enabled = o.cookie_bounce_enabled;
  c.cookie_bounce.name = o.cookie_bounce_name;
  c.cookie_bounce.fallback_network_user_id = o.cookie_bounce_fallback_nuid;
  c.cookie_bounce.forwarded_protocol_header = o.cookie_bounce_forwarded_protocol_header;
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

}  // namespace

void AddCollectorOptions(CLI::App* cmd, CollectorStageOptions* o, int default_port) {
  AddListenOptions(cmd, &o->port, &o->bind, default_port);
  cmd->add_option("--threads", o->threads, "HTTP I/O threads; 0 = 4 per core")
      ->capture_default_str();
  cmd->add_option("--max-connections", o->max_connections, "Open connections beyond which new ones are closed")
      ->capture_default_str();
  cmd->add_option("--idle-timeout", o->idle_timeout_s, "Seconds an idle keep-alive connection is kept")
      ->capture_default_str();
  cmd->add_option("--request-timeout", o->request_timeout_s,
                  "Seconds to receive a request's headers, and again its body (408 beyond)")
      ->capture_default_str();
  cmd->add_option("--drain-timeout", o->drain_timeout_s,
                  "Seconds to let in-flight requests finish on shutdown")
      ->capture_default_str();
  cmd->add_option("--max-request-line-bytes", o->max_request_line_bytes, "Longest request line (400 beyond)")
      ->capture_default_str();
  cmd->add_option("--max-header-bytes", o->max_header_bytes, "Largest header block (400 beyond)")
      ->capture_default_str();
  cmd->add_option("--max-payload-size", o->max_payload_size,
                  "Bodies larger than this become a size_violation bad row (client gets 200)")
      ->capture_default_str();
  cmd->add_option("--drop-payload-size", o->drop_payload_size, "Bodies larger than this get 413")
      ->capture_default_str();
  cmd->add_option("--cookie-enabled", o->cookie_enabled, "Set the network user id cookie")
      ->capture_default_str();
  cmd->add_option("--cookie-name", o->cookie_name, "Network user id cookie name")->capture_default_str();
  cmd->add_option("--cookie-expiration-days", o->cookie_expiration_days, "Cookie lifetime in days")
      ->capture_default_str();
  cmd->add_option("--cookie-domain", o->cookie_domains,
                  "Cookie Domain candidates (repeatable); the first equal to or parent of the Origin host wins");
  cmd->add_option("--cookie-fallback-domain", o->cookie_fallback_domain,
                  "Cookie Domain when no --cookie-domain matches; empty = host-only cookie");
  cmd->add_option("--cookie-secure", o->cookie_secure, "Secure attribute")->capture_default_str();
  cmd->add_option("--cookie-http-only", o->cookie_http_only, "HttpOnly attribute")->capture_default_str();
  cmd->add_option("--cookie-same-site", o->cookie_same_site, "SameSite attribute; empty omits it")
      ->capture_default_str();
  cmd->add_option("--cors-max-age", o->cors_max_age_s, "Access-Control-Max-Age of preflight answers (s)")
      ->capture_default_str();
  cmd->add_option("--redirect-enabled", o->redirect_enabled, "Serve GET /r/tp2?u=URL redirects")
      ->capture_default_str();
  cmd->add_option("--redirect-allowed-host", o->redirect_allowed_hosts,
                  "Hosts (and their subdomains) redirects may go to (repeatable); * = any");
  cmd->add_option("--crossdomain-enabled", o->crossdomain_enabled, "Serve /crossdomain.xml")
      ->capture_default_str();
  cmd->add_option("--crossdomain-domain", o->crossdomain_domains, "Domains in /crossdomain.xml (repeatable)")
      ->capture_default_str();
  cmd->add_option("--crossdomain-secure", o->crossdomain_secure, "secure attribute in /crossdomain.xml")
      ->capture_default_str();
  cmd->add_option("--cookie-bounce-enabled", o->cookie_bounce_enabled,
                  "Redirect pixel requests without a cookie once, to set it (n3pc)")
      ->capture_default_str();
  cmd->add_option("--cookie-bounce-name", o->cookie_bounce_name, "Query parameter marking a bounced request")
      ->capture_default_str();
  cmd->add_option("--cookie-bounce-fallback-nuid", o->cookie_bounce_fallback_nuid,
                  "Network user id of a bounced request that still has no cookie")
      ->capture_default_str();
  cmd->add_option("--cookie-bounce-forwarded-protocol-header", o->cookie_bounce_forwarded_protocol_header,
                  "Header giving the client's scheme for the bounce Location (e.g. X-Forwarded-Proto)");
  cmd->add_option("--dnt-cookie-name", o->dnt_cookie_name,
                  "Do-not-track cookie name; requests whose cookie value matches are not stored");
  cmd->add_option("--dnt-cookie-value", o->dnt_cookie_value, "Do-not-track cookie value (RE2, full match)")
      ->capture_default_str();
  cmd->add_option("--path-map", o->path_map,
                  "CUSTOM=STANDARD path mapping (repeatable); STANDARD is "
                  "/com.snowplowanalytics.snowplow/tp2, /r/tp2 or /com.snowplowanalytics.iglu/v1");
  cmd->add_option("--retry-after", o->retry_after_s, "Retry-After of 503 answers (s)")->capture_default_str();
}

Result<std::unique_ptr<CollectorStage>> CollectorStage::Create(const CollectorStageOptions& o,
                                                               stream::StreamProvider* streams,
                                                               const Clock* clock,
                                                               MetricsRegistry* metrics) {
  if (o.max_payload_size > o.drop_payload_size) {
    return InvalidArgumentError("--max-payload-size must not exceed --drop-payload-size");
  }
  FURROW_ASSIGN_OR_RETURN(collector::CollectorOptions collector_options, ToCollectorOptions(o));
  std::unique_ptr<CollectorStage> stage(new CollectorStage());
  stage->options_ = o;
  FURROW_ASSIGN_OR_RETURN(stage->good_, streams->GetProducer(stream::kRawGood));
  FURROW_ASSIGN_OR_RETURN(stage->bad_, streams->GetProducer(stream::kRawBad));
  FURROW_ASSIGN_OR_RETURN(
      stage->collector_,
      collector::Collector::Create(std::move(collector_options),
                                   {stage->good_, stage->bad_, clock,
                                    &collector::SystemRandomSource::Instance(), metrics}));

  net::HttpServerOptions server_options;
  server_options.bind = o.bind;
  server_options.port = o.port;
  // Every answer waits for its group commit, which another thread completes; more I/O
  // threads than cores keep the connections moving while others wait for that
  // handoff. Measured with bench/collector on 2 cores (GET, 128 connections): 2
  // threads 47.8k requests/s, 4 57.8k, 8 60-62k, 12 57k, 16 46k.
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  server_options.threads = o.threads > 0 ? o.threads : kIoThreadsPerCore * cores;
  server_options.max_connections = o.max_connections;
  server_options.max_body_bytes = o.drop_payload_size;
  server_options.max_request_line_bytes = o.max_request_line_bytes;
  server_options.max_header_bytes = o.max_header_bytes;
  server_options.idle_timeout = std::chrono::seconds(o.idle_timeout_s);
  server_options.header_timeout = std::chrono::seconds(o.request_timeout_s);
  server_options.body_timeout = std::chrono::seconds(o.request_timeout_s);
  server_options.clock = clock;
  stage->server_ = std::make_unique<net::HttpServer>(server_options, stage->collector_->AsHandler(),
                                                     *metrics, "furrow_collector");
  return stage;
}

CollectorStage::~CollectorStage() {
  if (!stopped_) {
    Status ignored = Stop();
    (void)ignored;
  }
}

Status CollectorStage::Start() { return server_->Start(); }

Status CollectorStage::Stop() {
  stopped_ = true;
  server_->Stop(std::chrono::seconds(options_.drain_timeout_s));
  Status flushed_good = good_->Flush();
  Status flushed_bad = bad_->Flush();
  if (!flushed_good.ok()) return flushed_good.WithContext("flushing raw-good");
  if (!flushed_bad.ok()) return flushed_bad.WithContext("flushing raw-bad");
  return Status::Ok();
}

}  // namespace furrow::app
