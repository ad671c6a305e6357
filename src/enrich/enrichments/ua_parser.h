// ua_parser_config 1-0-x: user agents parsed with uap-core's regexes.yaml (Debian
// package uap-core: /usr/share/uap-core/regexes.yaml; the config's uri/database
// name another copy), using RE2.
//
// Semantics are uap-core's: for each of user_agent_parsers, os_parsers and
// device_parsers the first regex that matches wins; `$N` in a replacement is
// capture group N; `regex_flag: 'i'` is case-insensitive; no match is "Other".
// The regexes are uap-core's PCRE dialect; every one is checked to compile with
// RE2 at start-up (TranslateUapRegex handles the differences) and a regex that
// still fails is a start-up error naming it.
//
// Speed: each parser list is also compiled into one RE2::Set, which finds the
// matching regexes in one pass; only the first of them is then run to extract
// groups. Results are cached by user agent (bounded: 16 shards of at most
// cache_size/16 entries; a full shard is cleared).
//
// Fills br_name (family), br_family, br_version, os_name, os_family,
// os_manufacturer (device brand), dvce_type and dvce_ismobile (from the device and
// OS families) and adds the
// iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0 derived
// context. Thread safety: RE2 objects are thread-safe; the cache has per-shard
// mutexes; Enrich() is thread-safe.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "core/status.h"
#include "enrich/enrichments/enrichment.h"

namespace furrow::enrich {

inline constexpr char kDefaultUapRegexes[] = "/usr/share/uap-core/regexes.yaml";

struct UserAgentInfo {
  std::string family = "Other";
  std::optional<std::string> major, minor, patch, patch_minor;
  std::string os_family = "Other";
  std::optional<std::string> os_major, os_minor, os_patch, os_patch_minor;
  std::string device_family = "Other";
  std::optional<std::string> device_brand, device_model;
};

class UserAgentParser {
 public:
  // Loads and compiles `regexes_yaml`. Errors: kNotFound/kIoError for the file,
  // kInvalidArgument for YAML or a regex RE2 cannot compile.
  static Result<std::unique_ptr<UserAgentParser>> Load(const std::filesystem::path& regexes_yaml);
  ~UserAgentParser();

  UserAgentInfo Parse(std::string_view user_agent) const;

  class Impl;

 private:
  explicit UserAgentParser(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// uap-core's PCRE → RE2 differences made RE2-compatible (exposed for tests).
std::string TranslateUapRegex(std::string_view pcre);

// `cache_size` 0 disables the cache. Default config: uap-core from Debian.
Result<std::unique_ptr<Enrichment>> CreateUaParser(const rapidjson::Value& parameters,
                                                   std::string schema_key,
                                                   const std::filesystem::path& base_dir,
                                                   size_t cache_size = 65536);

}  // namespace furrow::enrich
