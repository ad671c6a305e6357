// Helpers for reading enrichment configs and the data files they name.
//
// A config's `uri` may be `file:///dir`, `file:dir`, or a plain local path; the
// data file is `<uri>/<database>`. Relative paths are resolved against the
// enrichments directory. Remote URIs (http, https, s3, gs) are refused with a
// message telling the operator to download the file: furrow never fetches
// enrichment data at start-up. Pure functions; thread-safe.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "core/status.h"

namespace furrow::enrich {

// `<uri>/<database>` as a local path. Errors: kInvalidArgument for remote URIs.
Result<std::filesystem::path> ResolveDataPath(std::string_view uri, std::string_view database,
                                              const std::filesystem::path& base_dir);

// Reads a whole file. Errors: kNotFound, kIoError (message names the path).
Result<std::string> ReadDataFile(const std::filesystem::path& path);

// Typed member access for configs; errors are kInvalidArgument naming `what`.
Result<std::string> GetString(const rapidjson::Value& object, const char* member,
                              std::string_view what);
Result<std::vector<std::string>> GetStringArray(const rapidjson::Value& object, const char* member,
                                                std::string_view what);

}  // namespace furrow::enrich
