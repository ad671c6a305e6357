// Resolver: finds, compiles and caches Iglu schemas, as configured by a Snowplow
// resolver config, and validates self-describing JSON against them.
//
//   FURROW_ASSIGN_OR_RETURN(ResolverConfig config, ResolverConfig::Parse(text, dir));
//   FURROW_ASSIGN_OR_RETURN(std::unique_ptr<Resolver> resolver,
//                           Resolver::Create(config, ResolverOptions{...}));
//   Result<std::shared_ptr<const Schema>> schema = resolver->Lookup(key);
//   std::vector<ValidationError> errors = (*schema)->Validate(data);
//
// Resolver config: self-describing JSON
// `iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-0` .. `1-0-3`:
//   {"schema": "iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3",
//    "data": {"cacheSize": 500,            // entries; 0 disables caching
//             "cacheTtl": 600,             // seconds; optional (1-0-2+), absent = no expiry
//             "repositories": [{"name": "Iglu Central", "priority": 0,
//                               "vendorPrefixes": ["com.snowplowanalytics"],
//                               "connection": {"http": {"uri": "http://iglucentral.com"}}},
//                              {"name": "local", "priority": 1, "vendorPrefixes": [],
//                               "connection": {"embedded": {"path": "/iglu"}}}]}}
// An http connection with "apikey" is an Iglu Server (see registry.h). Relative
// embedded paths are relative to the directory of the config file.
//
// Order in which repositories are tried for a key (Snowplow's rule): the built-in
// repository first (ResolverOptions::builtin_first; last when false), then
// repositories whose vendorPrefixes match the key's vendor, then the rest; within
// each group by ascending priority, embedded before http at equal priority, then in
// config order. The first repository that has the schema wins; kNotFound from one
// repository moves on to the next.
//
// Cache: up to cacheSize entries (least recently used evicted), each living
// cacheTtl seconds on the injected clock (forever if no cacheTtl). Negative results
// are cached too: "no repository has it" for cacheTtl (or
// ResolverOptions::negative_ttl when cacheTtl is absent); "a repository was down" for
// ResolverOptions::error_ttl, so that a dead registry costs one round of retries per
// error_ttl rather than one per event; a schema that was found but does not compile
// is cached like "not found". A cached schema costs one hash lookup under a per-shard
// mutex on the hot path (16 shards when cacheSize >= 256; below that one shard, so
// that LRU order is exact); concurrent misses of the same key share one fetch.
//
// Unreachable registries: the first failure of a registry is logged once at warn
// level ("iglu registry unreachable", naming it, its URI and the error); recovery is
// logged once at info. Per-event errors carry the same facts.
//
// Lookup errors:
//   kNotFound        no repository has the schema (message lists each repository tried)
//   kUnavailable     no repository had it and at least one could not be reached
//   kInvalidArgument the schema was found but does not compile
//
// Thread safety: every method may be called from many threads at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "core/clock.h"
#include "core/metrics.h"
#include "core/status.h"
#include "iglu/registry.h"
#include "iglu/schema.h"
#include "iglu/schema_key.h"
#include "net/http_client.h"

namespace furrow::iglu {

struct ResolverConfig {
  size_t cache_size = 500;                        // Snowplow's usual default
  std::optional<std::chrono::seconds> cache_ttl;  // nullopt = no expiry
  std::vector<RepositoryConfig> repositories;

  // Parses a resolver config (self-describing, 1-0-0..1-0-3; a bare `data` object is
  // accepted too). Relative embedded paths are resolved against `base_dir`.
  // Errors: kInvalidArgument naming the offending field.
  static Result<ResolverConfig> Parse(std::string_view json_text,
                                      const std::filesystem::path& base_dir);
  // Reads and parses the file at `path` (relative embedded paths are relative to its
  // directory). Errors: kNotFound / kIoError, or as Parse.
  static Result<ResolverConfig> Load(const std::filesystem::path& path);

  // The config used when none is given: cacheSize 500, cacheTtl 600 s, and Iglu
  // Central (http://iglucentral.com, priority 0, no vendor prefixes). The built-in
  // repository is added by the Resolver itself (ResolverOptions::use_builtin).
  static ResolverConfig Default();
};

struct ResolverOptions {
  // Time source for cache expiry. Default: the system clock. Must outlive the resolver.
  const Clock* clock = nullptr;
  // Used by http repositories. Default: a client owned by the resolver.
  // Must outlive the resolver when set.
  net::HttpClient* http_client = nullptr;
  // Attempts and backoff per HTTP fetch. Default: 3 attempts, 100 ms doubling.
  net::RetryPolicy retry;
  // Waits between attempts. Default: net::SleepFor.
  net::SleepFunction sleep;
  // Per-attempt timeout of HTTP fetches. Default 5 s.
  std::chrono::milliseconds http_timeout{5000};
  // Consult furrow's built-in schemas. Default true.
  bool use_builtin = true;
  // The built-in repository is tried before all others (true) or after (false).
  // Default true.
  bool builtin_first = true;
  // Lifetime of "not found" entries when the config has no cacheTtl. Default 600 s.
  std::chrono::seconds negative_ttl{600};
  // Lifetime of "a registry was down" entries. Default 30 s.
  std::chrono::seconds error_ttl{30};
  // Limits applied by the compiled schemas' Validate. Default: depth 64.
  ValidationLimits limits;
  // Counters furrow_iglu_lookups_total{result=hit|miss|negative_hit} and
  // furrow_iglu_fetch_errors_total{repository}. Default: none. Must outlive the
  // resolver when set.
  MetricsRegistry* metrics = nullptr;
};

// What one repository answered in a failed lookup; Snowplow's bad rows list these
// as the `lookupHistory` of a ResolutionError.
struct RepositoryAttempt {
  enum class Outcome {
    kNotFound,     // it answered that it does not have the schema
    kUnreachable,  // it could not be reached, or kept failing, after its retries
    kSkipped,      // not asked: it was unreachable within the last error_ttl
    kInvalid,      // it has the schema, but the schema does not compile
  };
  std::string repository;  // the repository's name
  Outcome outcome = Outcome::kNotFound;
  std::string message;     // the repository's own error, for humans
};
using LookupHistory = std::vector<RepositoryAttempt>;

// A self-describing JSON {"schema": "iglu:...", "data": ...} taken apart. `data`
// points into the value it was parsed from.
struct SelfDescribing {
  SchemaKey key;
  const rapidjson::Value* data = nullptr;
};

// Splits a self-describing JSON. Errors: kInvalidArgument (not an object, no string
// `schema`, bad key, no `data`).
Result<SelfDescribing> ParseSelfDescribing(const rapidjson::Value& json);

class Resolver {
 public:
  // Builds registries for `config`. Errors: kInvalidArgument for an unusable
  // repository (e.g. an embedded path that is not a directory).
  static Result<std::unique_ptr<Resolver>> Create(ResolverConfig config,
                                                  ResolverOptions options = {});
  // For tests and special wiring: the given registries in the given order (no
  // sorting, no built-in unless included).
  static std::unique_ptr<Resolver> CreateWithRegistries(
      std::vector<std::unique_ptr<Registry>> registries, ResolverConfig config,
      ResolverOptions options = {});

  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // The compiled schema for `key`. See the banner for order, caching and errors.
  // When `history` is set it receives, for a failed lookup (also one answered from
  // the cache), what each repository tried answered, in order; for a success (and for
  // a `$ref` cycle) it is cleared.
  [[nodiscard]] Result<std::shared_ptr<const Schema>> Lookup(const SchemaKey& key,
                                                            LookupHistory* history = nullptr);
  // Same for "iglu:..." text. Errors: kInvalidArgument for a bad key, else as above.
  [[nodiscard]] Result<std::shared_ptr<const Schema>> Lookup(std::string_view iglu_uri);

  // Looks up the schema of a self-describing JSON and validates its data. The
  // Result is an error when the JSON is not self-describing or the schema cannot be
  // resolved; otherwise the (possibly empty) list of validation errors.
  [[nodiscard]] Result<std::vector<ValidationError>> ValidateSelfDescribing(
      const rapidjson::Value& json, SchemaKey* key_out = nullptr);

  // The order in which repositories would be tried for `key` (their names).
  std::vector<std::string> RepositoryOrder(const SchemaKey& key) const;

  struct Stats {
    uint64_t hits = 0;           // served from cache, positive
    uint64_t negative_hits = 0;  // served from cache, an error
    uint64_t misses = 0;         // went to the repositories
    size_t entries = 0;          // cached now
  };
  Stats stats() const;

  class Impl;

 private:
  explicit Resolver(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace furrow::iglu
