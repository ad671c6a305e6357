#include "app/admin_server.h"

#include <atomic>

#include "app/command.h"

namespace furrow::app {

bool ServeHealthAndMetrics(const net::HttpRequest& request, MetricsRegistry& metrics, bool healthy,
                           net::Responder& responder) {
  net::HttpResponse r;
  if (request.path == "/health") {
    r.status = healthy ? 200 : 503;
    r.body = healthy ? "ok" : "stopping";
    r.Set("Content-Type", "text/plain");
  } else if (request.path == "/metrics") {
    r.body = metrics.RenderPrometheus();
    r.Set("Content-Type", "text/plain; version=0.0.4");
  } else {
    return false;
  }
  responder.Send(std::move(r));
  return true;
}

AdminServer::AdminServer(std::string bind, int port, MetricsRegistry* metrics,
                         std::string metrics_prefix)
    : bind_(std::move(bind)), metrics_(metrics), stopping_(std::make_shared<std::atomic<bool>>(false)) {
  net::HttpServerOptions o;
  o.bind = bind_;
  o.port = port;
  o.threads = 1;
  o.max_connections = 64;
  o.max_body_bytes = 0;
  auto stopping = stopping_;
  server_ = std::make_unique<net::HttpServer>(
      o,
      [metrics, stopping](net::HttpRequest&& request, std::shared_ptr<net::Responder> responder) {
        if (!ServeHealthAndMetrics(request, *metrics, !stopping->load(), *responder)) {
          net::HttpResponse r;
          r.status = 404;
          r.body = "not found";
          responder->Send(std::move(r));
        }
      },
      *metrics, std::move(metrics_prefix));
}

AdminServer::~AdminServer() { Stop(); }

Status AdminServer::Start() {
  FURROW_RETURN_IF_ERROR(server_->Start());
  port_ = server_->port();
  AnnounceListening(bind_, port_);
  return Status::Ok();
}

void AdminServer::Stop() {
  if (!server_) return;
  stopping_->store(true);
  server_->Stop(std::chrono::milliseconds(1000));
  server_.reset();
}

}  // namespace furrow::app
