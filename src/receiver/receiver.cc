#include "receiver/receiver.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <utility>

#include <rapidjson/document.h>

#include "core/json_escape.h"
#include "core/logging.h"
#include "core/time_format.h"
#include "receiver/multipart.h"
#include "receiver/version_check.h"

namespace furrow::receiver {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// The media type of a Content-Type header, lowercased, without parameters.
std::string MediaType(const net::HttpRequest& request) {
  auto ct = request.Header("Content-Type");
  if (!ct) return "";
  std::string_view v = *ct;
  size_t semi = v.find(';');
  if (semi != std::string_view::npos) v = v.substr(0, semi);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  return Lower(v);
}

net::HttpResponse Json(int status, std::string body) {
  net::HttpResponse r;
  r.status = status;
  r.Set("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

net::HttpResponse Html(int status, std::string body) {
  net::HttpResponse r;
  r.status = status;
  r.Set("Content-Type", "text/html; charset=utf-8");
  r.body = std::move(body);
  return r;
}

std::string ErrorJson(const std::string& message) {
  std::string out = "{\"message\":";
  AppendJsonString(&out, message);
  out += '}';
  return out;
}

std::string HtmlEscape(std::string_view in) {
  std::string out;
  for (char c : in) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

// The value of `name` in a query string (raw, not percent-decoded).
std::string QueryParameter(std::string_view query, std::string_view name) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    std::string_view pair = query.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return std::string(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  return "";
}

std::string PercentDecodePath(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      out.push_back(static_cast<char>(std::strtol(std::string(in.substr(i + 1, 2)).c_str(), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

const char kUploadPage[] = R"html(<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Upload a usage ping</title></head>
<body>
<h1>Upload a usage ping</h1>
<p>For installations without a connection to this receiver: export the payload on the
installation (<code>furrow ping export</code>, or the administrator's download) and upload the file here.</p>
<form action="/usage_data/upload" method="post" enctype="multipart/form-data">
  <label for="file">Payload file (JSON)</label>
  <input type="file" id="file" name="file" accept=".json,application/json" required>
  <button type="submit" id="submit">Upload</button>
</form>
</body>
</html>
)html";

}  // namespace

Receiver::Receiver(ReceiverOptions options, PingStore* store, const Clock* clock, MetricsRegistry* metrics)
    : options_(std::move(options)),
      store_(store),
      clock_(clock),
      metrics_(metrics),
      pool_(options_.worker_threads, options_.worker_queue) {}

Receiver::~Receiver() { Shutdown(); }

void Receiver::Shutdown() { pool_.Shutdown(); }

net::Handler Receiver::AsHandler() {
  return [this](net::HttpRequest&& request, std::shared_ptr<net::Responder> responder) {
    Handle(std::move(request), std::move(responder));
  };
}

std::string Receiver::Now() const { return FormatIso8601Millis(clock_->NowMillis()); }

net::HttpResponse Receiver::Reject(const std::string& reason, int status, const std::string& message) {
  metrics_->GetCounter("furrow_receiver_rejected_total", "Requests rejected, by reason", {{"reason", reason}}).Inc();
  return Json(status, ErrorJson(message));
}

net::HttpResponse Receiver::StoreFailure(const Status& status) {
  log::Error("receiver store failed", {{"error", status.ToString()}});
  int code = status.code() == StatusCode::kUnavailable ? 503 : 500;
  net::HttpResponse r = Reject("store", code, "the receiver could not store the request; retry later");
  if (code == 503) r.Set("Retry-After", std::to_string(options_.retry_after_s));
  return r;
}

bool Receiver::Authorized(const net::HttpRequest& request) const {
  std::string presented;
  if (auto auth = request.Header("Authorization")) {
    std::string_view v = *auth;
    if (v.size() > 7 && Lower(v.substr(0, 7)) == "bearer ") presented = std::string(v.substr(7));
  } else if (auto token = request.Header("PRIVATE-TOKEN")) {
    presented = std::string(*token);
  }
  if (presented.empty()) return false;
  bool match = false;
  for (const std::string& t : options_.tokens) {
    // Compare every byte of equal-length tokens so timing does not reveal a prefix.
    if (t.size() != presented.size()) continue;
    unsigned char diff = 0;
    for (size_t i = 0; i < t.size(); ++i) diff |= static_cast<unsigned char>(t[i] ^ presented[i]);
    match |= diff == 0;
  }
  return match;
}

void Receiver::Submit(const char* route, std::shared_ptr<net::Responder> responder,
                      std::function<net::HttpResponse()> work) {
  auto task = [responder, work = std::move(work)] { responder->Send(work()); };
  if (!pool_.TrySubmit(std::move(task))) {
    net::HttpResponse r = Reject("overloaded", 503, "the receiver is busy; retry later");
    r.Set("Retry-After", std::to_string(options_.retry_after_s));
    responder->Send(std::move(r));
    return;
  }
  metrics_->GetCounter("furrow_receiver_requests_total", "Requests handed to the workers, by route",
                       {{"route", route}})
      .Inc();
}

void Receiver::Handle(net::HttpRequest&& request, std::shared_ptr<net::Responder> responder) {
  auto shared = std::make_shared<net::HttpRequest>(std::move(request));
  auto method_not_allowed = [&](const char* allow) {
    net::HttpResponse r = Json(405, ErrorJson("method not allowed"));
    r.Set("Allow", allow);
    responder->Send(std::move(r));
  };
  const std::string& p = shared->path;
  const std::string& m = shared->method;
  if (p == "/usage_data" || p == "/usage_ping_metadata" || p == "/usage_ping_errors") {
    if (m != "POST") return method_not_allowed("POST");
    if (MediaType(*shared) != "application/json") {
      responder->Send(Reject("content_type", 415, "Content-Type must be application/json"));
      return;
    }
    if (p == "/usage_data") {
      Submit("usage_data", responder, [this, shared] { return PostUsageData(*shared); });
    } else if (p == "/usage_ping_metadata") {
      Submit("usage_ping_metadata", responder, [this, shared] { return PostMetadata(*shared); });
    } else {
      Submit("usage_ping_errors", responder, [this, shared] { return PostError(*shared); });
    }
    return;
  }
  if (p == "/usage_data/new") {
    if (m != "GET" && m != "HEAD") return method_not_allowed("GET, HEAD");
    responder->Send(Html(200, kUploadPage));
    return;
  }
  if (p == "/usage_data/upload") {
    if (m != "POST") return method_not_allowed("POST");
    Submit("upload", responder, [this, shared] { return PostUpload(*shared); });
    return;
  }
  if (p == "/check.json" || p == "/check.svg") {
    if (m != "GET" && m != "HEAD") return method_not_allowed("GET, HEAD");
    bool svg = p == "/check.svg";
    Submit(svg ? "check_svg" : "check_json", responder, [this, shared, svg] { return VersionCheck(*shared, svg); });
    return;
  }
  if (p.rfind("/api/v1/", 0) == 0) {
    if (!Authorized(*shared)) {
      net::HttpResponse r = Reject("unauthorized", 401, "a valid token is required");
      r.Set("WWW-Authenticate", "Bearer");
      responder->Send(std::move(r));
      return;
    }
    Submit("api", responder, [this, shared] { return Api(*shared); });
    return;
  }
  responder->Send(Json(404, ErrorJson("not found")));
}

net::HttpResponse Receiver::PostUsageData(const net::HttpRequest& request) {
  Result<UsageData> data = ParseUsageData(request.body, options_.limits);
  if (!data.ok()) {
    bool malformed = data.status().code() == StatusCode::kInvalidArgument;
    return Reject(malformed ? "malformed" : "invalid", malformed ? 400 : 422, data.status().message());
  }
  Result<StoreResult> stored = store_->StoreUsageData(*data, request.remote_address, Now());
  if (!stored.ok()) return StoreFailure(stored.status());
  metrics_->GetCounter("furrow_receiver_pings_total", "Payloads received, by outcome",
                       {{"outcome", stored->created ? "stored" : "duplicate"}})
      .Inc();
  return Json(stored->created ? 201 : 200,
              "{\"conv_index\":{\"usage_data_id\":" + std::to_string(stored->id) + "}}");
}

net::HttpResponse Receiver::PostMetadata(const net::HttpRequest& request) {
  Result<PingMetadata> metadata = ParsePingMetadata(request.body, options_.limits);
  if (!metadata.ok()) {
    bool malformed = metadata.status().code() == StatusCode::kInvalidArgument;
    return Reject(malformed ? "malformed" : "invalid", malformed ? 400 : 422, metadata.status().message());
  }
  Result<int64_t> id = store_->StoreMetadata(metadata->uuid, metadata->metadata, Now());
  if (!id.ok()) return StoreFailure(id.status());
  return Json(201, "{\"id\":" + std::to_string(*id) + "}");
}

net::HttpResponse Receiver::PostError(const net::HttpRequest& request) {
  Result<PingError> error = ParsePingError(request.body, options_.limits);
  if (!error.ok()) {
    bool malformed = error.status().code() == StatusCode::kInvalidArgument;
    return Reject(malformed ? "malformed" : "invalid", malformed ? 400 : 422, error.status().message());
  }
  Result<int64_t> id = store_->StoreError(*error, Now());
  if (!id.ok()) return StoreFailure(id.status());
  return Json(201, "{\"id\":" + std::to_string(*id) + "}");
}

net::HttpResponse Receiver::PostUpload(const net::HttpRequest& request) {
  auto page = [](int status, const std::string& title, const std::string& message) {
    return Html(status, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + HtmlEscape(title) +
                            "</title></head><body><h1 id=\"result\">" + HtmlEscape(title) + "</h1><p id=\"message\">" +
                            HtmlEscape(message) + "</p><p><a href=\"/usage_data/new\">Upload another</a></p></body></html>\n");
  };
  auto content_type = request.Header("Content-Type");
  Result<std::string> boundary = MultipartBoundary(content_type ? *content_type : "");
  if (!boundary.ok()) {
    metrics_->GetCounter("furrow_receiver_rejected_total", "Requests rejected, by reason", {{"reason", "content_type"}}).Inc();
    return page(415, "Upload failed", boundary.status().message());
  }
  Result<std::string> file = MultipartField(request.body, *boundary, "file");
  if (!file.ok()) {
    metrics_->GetCounter("furrow_receiver_rejected_total", "Requests rejected, by reason", {{"reason", "malformed"}}).Inc();
    return page(400, "Upload failed", file.status().message());
  }
  Result<UsageData> data = ParseUsageData(*file, options_.limits);
  if (!data.ok()) {
    bool malformed = data.status().code() == StatusCode::kInvalidArgument;
    metrics_->GetCounter("furrow_receiver_rejected_total", "Requests rejected, by reason",
                         {{"reason", malformed ? "malformed" : "invalid"}})
        .Inc();
    return page(malformed ? 400 : 422, "Upload failed", data.status().message());
  }
  Result<StoreResult> stored = store_->StoreUsageData(*data, request.remote_address, Now());
  if (!stored.ok()) {
    log::Error("receiver store failed", {{"error", stored.status().ToString()}});
    return page(503, "Upload failed", "The receiver could not store the file; try again later.");
  }
  metrics_->GetCounter("furrow_receiver_pings_total", "Payloads received, by outcome",
                       {{"outcome", stored->created ? "stored" : "duplicate"}})
      .Inc();
  std::string what = stored->created ? "Stored as usage ping " : "Already received as usage ping ";
  return page(stored->created ? 201 : 200, "Upload received",
              what + std::to_string(stored->id) + " (installation " + data->uuid + ", recorded at " +
                  data->recorded_at + ").");
}

net::HttpResponse Receiver::VersionCheck(const net::HttpRequest& request, bool svg) {
  Result<std::string> version = DecodeGitlabInfo(QueryParameter(request.query, "gitlab_info"));
  if (!version.ok()) return Reject("malformed", 400, version.status().message());
  Result<std::vector<VersionRow>> versions = store_->ListVersions();
  if (!versions.ok()) return StoreFailure(versions.status());
  receiver::VersionCheck check = CheckVersion(*version, *versions);
  if (!svg) return Json(200, VersionCheckJson(check));
  net::HttpResponse r;
  r.Set("Content-Type", "image/svg+xml");
  r.Set("Cache-Control", "no-cache");
  r.body = VersionBadgeSvg(check);
  return r;
}

net::HttpResponse Receiver::Api(const net::HttpRequest& request) {
  const std::string& p = request.path;
  const std::string& m = request.method;
  auto not_allowed = [](const char* allow) {
    net::HttpResponse r = Json(405, ErrorJson("method not allowed"));
    r.Set("Allow", allow);
    return r;
  };
  if (p == "/api/v1/installations") {
    if (m != "GET") return not_allowed("GET");
    auto list = store_->ListInstallations();
    if (!list.ok()) return StoreFailure(list.status());
    std::string out = "[";
    for (const InstallationSummary& i : *list) {
      if (out.size() > 1) out += ',';
      out += "{\"uuid\":";
      AppendJsonString(&out, i.uuid);
      out += ",\"hostname\":";
      AppendJsonString(&out, i.hostname);
      out += ",\"version\":";
      AppendJsonString(&out, i.version);
      out += ",\"last_recorded_at\":";
      AppendJsonString(&out, i.last_recorded_at);
      out += ",\"ping_count\":" + std::to_string(i.ping_count) + "}";
    }
    out += ']';
    return Json(200, std::move(out));
  }
  const std::string kInstallations = "/api/v1/installations/";
  const std::string kPingsSuffix = "/pings";
  if (p.rfind(kInstallations, 0) == 0 && p.size() > kInstallations.size() + kPingsSuffix.size() &&
      p.compare(p.size() - kPingsSuffix.size(), kPingsSuffix.size(), kPingsSuffix) == 0) {
    if (m != "GET") return not_allowed("GET");
    std::string uuid = PercentDecodePath(
        p.substr(kInstallations.size(), p.size() - kInstallations.size() - kPingsSuffix.size()));
    auto list = store_->ListPings(uuid);
    if (!list.ok()) return StoreFailure(list.status());
    std::string out = "[";
    for (const PingSummary& s : *list) {
      if (out.size() > 1) out += ',';
      out += "{\"id\":" + std::to_string(s.id) + ",\"uuid\":";
      AppendJsonString(&out, s.uuid);
      out += ",\"recorded_at\":";
      AppendJsonString(&out, s.recorded_at);
      out += ",\"version\":";
      AppendJsonString(&out, s.version);
      out += ",\"created_at\":";
      AppendJsonString(&out, s.created_at);
      out += '}';
    }
    out += ']';
    return Json(200, std::move(out));
  }
  const std::string kPings = "/api/v1/pings/";
  if (p.rfind(kPings, 0) == 0) {
    if (m != "GET") return not_allowed("GET");
    std::string id_text = p.substr(kPings.size());
    if (id_text.empty() || id_text.size() > 18 ||
        !std::all_of(id_text.begin(), id_text.end(), [](unsigned char c) { return std::isdigit(c); })) {
      return Json(404, ErrorJson("no such ping"));
    }
    auto payload = store_->ReadPayload(std::stoll(id_text));
    if (!payload.ok()) {
      if (payload.status().code() == StatusCode::kNotFound) return Json(404, ErrorJson(payload.status().message()));
      return StoreFailure(payload.status());
    }
    return Json(200, std::move(*payload));
  }
  if (p == "/api/v1/versions") {
    if (m == "GET") {
      auto list = store_->ListVersions();
      if (!list.ok()) return StoreFailure(list.status());
      std::string out = "[";
      for (const VersionRow& v : *list) {
        if (out.size() > 1) out += ',';
        out += "{\"version\":";
        AppendJsonString(&out, v.version);
        out += std::string(",\"vulnerable\":") + (v.vulnerable ? "true" : "false") +
               ",\"critical\":" + (v.critical ? "true" : "false") + ",\"created_at\":";
        AppendJsonString(&out, v.created_at);
        out += '}';
      }
      out += ']';
      return Json(200, std::move(out));
    }
    if (m != "POST") return not_allowed("GET, POST");
    rapidjson::Document doc;
    doc.Parse(request.body.data(), request.body.size());
    if (doc.HasParseError() || !doc.IsObject()) return Reject("malformed", 400, "body must be a JSON object");
    auto v = doc.FindMember("version");
    if (v == doc.MemberEnd() || !v->value.IsString() || v->value.GetStringLength() == 0 ||
        v->value.GetStringLength() > 64) {
      return Reject("invalid", 422, "field \"version\" must be a non-empty string of at most 64 bytes");
    }
    std::string version(v->value.GetString(), v->value.GetStringLength());
    Status added = store_->AddVersion(version, Now());
    if (added.code() == StatusCode::kAlreadyExists) return Json(409, ErrorJson(added.message()));
    if (!added.ok()) return StoreFailure(added);
    std::string out = "{\"version\":";
    AppendJsonString(&out, version);
    out += '}';
    return Json(201, std::move(out));
  }
  const std::string kVersions = "/api/v1/versions/";
  const std::string kVulnerable = "/vulnerable";
  if (p.rfind(kVersions, 0) == 0 && p.size() > kVersions.size() + kVulnerable.size() &&
      p.compare(p.size() - kVulnerable.size(), kVulnerable.size(), kVulnerable) == 0) {
    if (m != "POST") return not_allowed("POST");
    std::string version =
        PercentDecodePath(p.substr(kVersions.size(), p.size() - kVersions.size() - kVulnerable.size()));
    bool critical = false;
    if (!request.body.empty()) {
      rapidjson::Document doc;
      doc.Parse(request.body.data(), request.body.size());
      if (doc.HasParseError() || !doc.IsObject()) return Reject("malformed", 400, "body must be a JSON object");
      auto c = doc.FindMember("critical");
      if (c != doc.MemberEnd()) {
        if (!c->value.IsBool()) return Reject("invalid", 422, "field \"critical\" must be a boolean");
        critical = c->value.GetBool();
      }
    }
    Status marked = store_->MarkVulnerable(version, critical);
    if (marked.code() == StatusCode::kNotFound) return Json(404, ErrorJson(marked.message()));
    if (!marked.ok()) return StoreFailure(marked);
    std::string out = "{\"version\":";
    AppendJsonString(&out, version);
    out += std::string(",\"vulnerable\":true,\"critical\":") + (critical ? "true" : "false") + "}";
    return Json(200, std::move(out));
  }
  return Json(404, ErrorJson("not found"));
}

}  // namespace furrow::receiver
