// Registry: one place schemas come from (a "repository" in Snowplow's resolver
// config), and the kinds furrow supports.
//
//   builtin   furrow's own schemas, compiled into the binary (see builtin_schemas.h)
//   embedded  a directory laid out as <path>/schemas/<vendor>/<name>/<format>/<version>
//             (Snowplow's layout; `path` may point at the directory that holds
//             `schemas/`, or, for convenience, at `schemas/` itself)
//   http      a static registry such as Iglu Central:
//             GET <uri>/schemas/<vendor>/<name>/<format>/<version>
//             or, when an apikey is configured, an Iglu Server:
//             GET <uri>/api/schemas/<vendor>/<name>/<format>/<version>
//             with header `apikey: <apikey>`
//
// Fetch returns the schema's JSON text. Errors:
//   kNotFound      the registry answered that it does not have the schema (a missing
//                  file; HTTP 404, or 401/403 from an Iglu Server for a private schema
//                  the key may not read)
//   kUnavailable   the registry could not be reached or kept failing (connection
//                  errors, timeouts, HTTP 5xx/429) after RetryPolicy::max_attempts
//                  attempts; the message names the registry, the URL and the last error
//   kInvalidArgument the registry answered something else (another HTTP status, an
//                  empty body)
//   kIoError       reading an embedded file failed for another reason than absence
//
// Thread safety: Fetch may be called from many threads at once. Registries do not
// cache; the Resolver does.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "iglu/schema_key.h"
#include "net/http_client.h"

namespace furrow::iglu {

// One entry of the resolver config's `repositories` array.
struct RepositoryConfig {
  enum class Kind { kBuiltin, kEmbedded, kHttp };

  std::string name;                          // for logs and errors
  int priority = 0;                          // lower is tried first
  std::vector<std::string> vendor_prefixes;  // empty = no preference
  Kind kind = Kind::kEmbedded;
  std::string path;     // kEmbedded: absolute (relative paths are resolved when parsed)
  std::string uri;      // kHttp: base URI without trailing slash, e.g. http://iglucentral.com
  std::string api_key;  // kHttp: empty for static registries; set for Iglu Server

  // True if `vendor` starts with one of vendor_prefixes.
  bool MatchesVendor(const std::string& vendor) const;
};

class Registry {
 public:
  virtual ~Registry() = default;
  virtual const RepositoryConfig& config() const = 0;
  // The JSON text of the schema `key`. See the banner for errors.
  [[nodiscard]] virtual Result<std::string> Fetch(const SchemaKey& key) = 0;
};

// furrow's built-in schemas. Never fails other than kNotFound.
std::unique_ptr<Registry> MakeBuiltinRegistry(RepositoryConfig config);

// A directory registry; config.path must be set.
std::unique_ptr<Registry> MakeEmbeddedRegistry(RepositoryConfig config);

// An HTTP registry. `client` must outlive the registry. `retry` bounds attempts per
// Fetch; `sleep` waits between them (injected so tests do not sleep); `timeout`
// bounds each attempt.
std::unique_ptr<Registry> MakeHttpRegistry(RepositoryConfig config, net::HttpClient& client,
                                           net::RetryPolicy retry, net::SleepFunction sleep,
                                           std::chrono::milliseconds timeout);

}  // namespace furrow::iglu
