#include "storage/s3_environment.h"

#include <boost/property_tree/ini_parser.hpp>
#include <boost/property_tree/ptree.hpp>

#include <cstdlib>
#include <fstream>

namespace furrow::storage {

namespace pt = boost::property_tree;

EnvironmentLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr || *value == '\0') return std::nullopt;
    return std::string(value);
  };
}

Result<S3Location> ParseS3Url(std::string_view url) {
  constexpr std::string_view kScheme = "s3://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return InvalidArgumentError("not an s3:// URL: " + std::string(url));
  }
  std::string_view rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  S3Location location;
  location.bucket = std::string(rest.substr(0, slash));
  if (location.bucket.empty() || location.bucket.size() > 63) {
    return InvalidArgumentError("S3 bucket name must be 1..63 characters: " + std::string(url));
  }
  for (char c : location.bucket) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_';
    if (!ok) return InvalidArgumentError("invalid S3 bucket name in " + std::string(url));
  }
  if (slash != std::string_view::npos) {
    std::string_view prefix = rest.substr(slash + 1);
    while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
    if (!prefix.empty()) {
      Status s = ValidateKey(prefix);
      if (!s.ok()) return InvalidArgumentError("invalid S3 prefix in " + std::string(url) + ": " +
                                               s.message());
    }
    location.prefix = std::string(prefix);
  }
  return location;
}

Result<S3Credentials> ReadSharedCredentials(const std::filesystem::path& path,
                                            const std::string& profile) {
  std::ifstream in(path);
  if (!in) {
    return FailedPreconditionError("cannot read AWS shared credentials file " + path.string());
  }
  pt::ptree tree;
  try {
    pt::read_ini(in, tree);
  } catch (const pt::ptree_error& e) {
    // The parser's message names the line, never a value.
    return InvalidArgumentError("malformed AWS shared credentials file " + path.string() + ": " +
                                e.what());
  }
  auto section = tree.get_child_optional(pt::ptree::path_type(profile, '\0'));
  if (!section) {
    return FailedPreconditionError("no profile [" + profile + "] in " + path.string());
  }
  S3Credentials credentials;
  credentials.access_key_id = section->get<std::string>("aws_access_key_id", "");
  credentials.secret_access_key = section->get<std::string>("aws_secret_access_key", "");
  credentials.session_token = section->get<std::string>("aws_session_token", "");
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return FailedPreconditionError("profile [" + profile + "] in " + path.string() +
                                   " lacks aws_access_key_id or aws_secret_access_key");
  }
  return credentials;
}

namespace {

Result<S3Credentials> ResolveCredentials(const EnvironmentLookup& env) {
  std::optional<std::string> id = env("AWS_ACCESS_KEY_ID");
  std::optional<std::string> secret = env("AWS_SECRET_ACCESS_KEY");
  if (id && secret) {
    S3Credentials credentials{*id, *secret, env("AWS_SESSION_TOKEN").value_or("")};
    return credentials;
  }
  if (id || secret) {
    return InvalidArgumentError(
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together");
  }
  std::string profile = env("AWS_PROFILE").value_or("default");
  std::filesystem::path file;
  if (auto explicit_file = env("AWS_SHARED_CREDENTIALS_FILE")) {
    file = *explicit_file;
  } else if (auto home = env("HOME")) {
    file = std::filesystem::path(*home) / ".aws" / "credentials";
  } else {
    return FailedPreconditionError(
        "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
        "AWS_SHARED_CREDENTIALS_FILE");
  }
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    return FailedPreconditionError(
        "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or create " +
        file.string());
  }
  return ReadSharedCredentials(file, profile);
}

}  // namespace

Result<S3Options> ResolveS3Options(const S3Location& location, const S3Settings& settings,
                                   const EnvironmentLookup& env) {
  S3Options options;
  options.bucket = location.bucket;
  options.key_prefix = location.prefix;
  if (!settings.region.empty()) {
    options.region = settings.region;
  } else if (auto region = env("AWS_REGION")) {
    options.region = *region;
  } else if (auto default_region = env("AWS_DEFAULT_REGION")) {
    options.region = *default_region;
  }
  if (!settings.endpoint.empty()) {
    options.endpoint = settings.endpoint;
  } else if (auto s3_endpoint = env("AWS_ENDPOINT_URL_S3")) {
    options.endpoint = *s3_endpoint;
  } else if (auto endpoint = env("AWS_ENDPOINT_URL")) {
    options.endpoint = *endpoint;
  }
  options.addressing_style = settings.addressing_style;
  FURROW_ASSIGN_OR_RETURN(options.credentials, ResolveCredentials(env));
  return options;
}

}  // namespace furrow::storage
