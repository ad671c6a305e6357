// The installation as the ping agent sees it: identity, settings and licence
// values from the agent's instance file, and facts about the machine.
//
// Instance file (YAML, --instance FILE; every key optional):
//   installation_type: package        # default "furrow"
//   edition: CE                       # default "CE"
//   hostname: gitlab.example.com      # default: the machine's host name
//   version: 17.2.1                   # the product's version; default furrow's
//   active_user_count: 42             # default: not sent
//   service_ping:
//     enabled: true                   # send the weekly ping (default true)
//     generation_enabled: true        # compute payloads at all (default true)
//     include_optional_metrics: false # data_category optional (default false)
//   settings: {name: value, ...}      # values for SettingMetric (options.setting)
//   license: {attribute: value, ...}  # values for LicenseMetric (options.attribute)
// Values are kept as JSON text (YAML scalars become numbers, booleans, null or
// strings; maps and lists become objects and arrays).
//
// Plain data; copy freely. LoadInstanceConfig errors: kNotFound, kInvalidArgument
// naming the file and field.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/status.h"

namespace furrow::ping {

struct InstanceConfig {
  std::string installation_type = "furrow";
  std::string edition = "CE";
  std::string hostname;  // empty = the machine's
  std::string version;   // empty = furrow's
  std::optional<int64_t> active_user_count;
  bool ping_enabled = true;
  bool generation_enabled = true;
  bool include_optional_metrics = false;
  std::map<std::string, std::string> settings;  // name -> JSON value
  std::map<std::string, std::string> license;   // attribute -> JSON value
};

[[nodiscard]] Result<InstanceConfig> LoadInstanceConfig(const std::string& path);

struct SystemInfo {
  std::string hostname;
  std::string os;          // uname sysname, e.g. "Linux"
  std::string os_release;  // uname release
  std::string architecture;
  int64_t cpu_count = 0;
  int64_t memory_bytes = 0;
};

// Reads the machine's facts (uname, sysconf). Never fails: unknown facts stay empty / 0.
SystemInfo CollectSystemInfo();

}  // namespace furrow::ping
