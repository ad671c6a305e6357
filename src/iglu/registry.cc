#include "iglu/registry.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

#include "iglu/builtin_schemas.h"

namespace furrow::iglu {

bool RepositoryConfig::MatchesVendor(const std::string& vendor) const {
  for (const std::string& prefix : vendor_prefixes) {
    if (vendor.compare(0, prefix.size(), prefix) == 0) return true;
  }
  return false;
}

namespace {

// Schema files larger than this are refused (no Iglu schema comes close).
constexpr std::uintmax_t kMaxSchemaFileBytes = 4 * 1024 * 1024;

class BuiltinRegistry final : public Registry {
 public:
  explicit BuiltinRegistry(RepositoryConfig config) : config_(std::move(config)) {}
  const RepositoryConfig& config() const override { return config_; }

  Result<std::string> Fetch(const SchemaKey& key) override {
    std::optional<std::string_view> text = FindBuiltinSchema(key);
    if (!text) return NotFoundError("not built in");
    return std::string(*text);
  }

 private:
  RepositoryConfig config_;
};

class EmbeddedRegistry final : public Registry {
 public:
  explicit EmbeddedRegistry(RepositoryConfig config) : config_(std::move(config)) {
    std::filesystem::path base(config_.path);
    std::error_code ec;
    // Snowplow's layout puts schemas/ below the configured path; accept the
    // schemas/ directory itself too.
    if (std::filesystem::is_directory(base / "schemas", ec)) {
      root_ = base / "schemas";
    } else {
      root_ = base;
    }
  }
  const RepositoryConfig& config() const override { return config_; }

  Result<std::string> Fetch(const SchemaKey& key) override {
    std::filesystem::path file = root_ / key.vendor / key.name / key.format /
                                 key.version.ToString();
    std::error_code ec;
    auto status = std::filesystem::status(file, ec);
    if (ec || !std::filesystem::exists(status)) {
      return NotFoundError("no file " + file.string());
    }
    if (!std::filesystem::is_regular_file(status)) {
      return NotFoundError(file.string() + " is not a file");
    }
    std::uintmax_t size = std::filesystem::file_size(file, ec);
    if (ec) return IoError("cannot stat " + file.string() + ": " + ec.message());
    if (size > kMaxSchemaFileBytes) {
      return InvalidArgumentError(file.string() + " is larger than " +
                                  std::to_string(kMaxSchemaFileBytes) + " bytes");
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) return ErrnoError("cannot open " + file.string(), errno);
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return IoError("cannot read " + file.string());
    return std::move(text).str();
  }

 private:
  RepositoryConfig config_;
  std::filesystem::path root_;
};

class HttpRegistry final : public Registry {
 public:
  HttpRegistry(RepositoryConfig config, net::HttpClient& client, net::RetryPolicy retry,
               net::SleepFunction sleep, std::chrono::milliseconds timeout)
      : config_(std::move(config)),
        client_(client),
        retry_(retry),
        sleep_(sleep ? std::move(sleep) : net::SleepFunction(net::SleepFor)),
        timeout_(timeout) {
    while (!config_.uri.empty() && config_.uri.back() == '/') config_.uri.pop_back();
  }
  const RepositoryConfig& config() const override { return config_; }

  Result<std::string> Fetch(const SchemaKey& key) override {
    net::HttpClientRequest request;
    request.method = "GET";
    const bool iglu_server = !config_.api_key.empty();
    request.url = config_.uri + (iglu_server ? "/api/schemas/" : "/schemas/") + key.ToPath();
    if (iglu_server) request.headers.emplace_back("apikey", config_.api_key);
    request.headers.emplace_back("Accept", "application/json");
    request.timeout = timeout_;
    request.connect_timeout = timeout_;
    Result<net::HttpClientResponse> response =
        net::SendWithRetry(client_, request, retry_, sleep_);
    const std::string where = "GET " + request.url;
    const std::string attempts = " after " + std::to_string(retry_.max_attempts) +
                                 (retry_.max_attempts == 1 ? " attempt" : " attempts");
    if (!response.ok()) {
      // The client's message already names the method and URL.
      return UnavailableError(response.status().ToString() + attempts);
    }
    const int status = response->status;
    if (status == 200) {
      if (response->body.empty()) return InvalidArgumentError(where + ": empty body");
      return std::move(response->body);
    }
    if (status == 404 || (iglu_server && (status == 401 || status == 403))) {
      return NotFoundError(where + ": HTTP " + std::to_string(status));
    }
    if (net::IsRetryable(response)) {
      return UnavailableError(where + ": HTTP " + std::to_string(status) + attempts);
    }
    return InvalidArgumentError(where + ": unexpected HTTP " + std::to_string(status));
  }

 private:
  RepositoryConfig config_;
  net::HttpClient& client_;
  net::RetryPolicy retry_;
  net::SleepFunction sleep_;
  std::chrono::milliseconds timeout_;
};

}  // namespace

std::unique_ptr<Registry> MakeBuiltinRegistry(RepositoryConfig config) {
  return std::make_unique<BuiltinRegistry>(std::move(config));
}

std::unique_ptr<Registry> MakeEmbeddedRegistry(RepositoryConfig config) {
  return std::make_unique<EmbeddedRegistry>(std::move(config));
}

std::unique_ptr<Registry> MakeHttpRegistry(RepositoryConfig config, net::HttpClient& client,
                                           net::RetryPolicy retry, net::SleepFunction sleep,
                                           std::chrono::milliseconds timeout) {
  return std::make_unique<HttpRegistry>(std::move(config), client, retry, std::move(sleep),
                                        timeout);
}

}  // namespace furrow::iglu
