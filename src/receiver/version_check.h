// Version check: tells an installation whether its version is current, from the
// receiver's versions table (GitLab's GET /check.json and /check.svg).
//
// Versions are compared numerically by their dot-separated leading integers
// ("16.10.2" > "16.9.7"); a suffix after a '-' ("12.10.0-pre") ranks below the
// plain version. Severity:
//   danger   the installed version is marked vulnerable and critical ("update asap")
//   warning  a newer version is listed, or the installed one is marked vulnerable
//            but not critical ("update available")
//   success  otherwise ("up-to-date")
// latest_stable_versions: the newest patch of each of the 3 newest major.minor series.
// Pure functions: safe for concurrent use.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "receiver/ping_store.h"

namespace furrow::receiver {

struct VersionCheck {
  std::vector<std::string> latest_stable_versions;
  std::string latest_version;
  std::string severity;  // success | warning | danger
  bool critical_vulnerability = false;
  std::string details;
};

// Decodes gitlab_info (base64 of {"version":"x.y.z"}, standard or URL-safe alphabet,
// padding optional, itself possibly percent-encoded) into the version.
// kInvalidArgument if it is not base64 of a JSON object with a string "version".
[[nodiscard]] Result<std::string> DecodeGitlabInfo(std::string_view encoded);

// -1, 0 or 1.
int CompareVersions(std::string_view a, std::string_view b);

VersionCheck CheckVersion(const std::string& installed, const std::vector<VersionRow>& versions);
std::string VersionCheckJson(const VersionCheck& check);
// A badge: "up-to-date" (green), "update available" (orange), "update asap" (red).
std::string VersionBadgeSvg(const VersionCheck& check);

}  // namespace furrow::receiver
