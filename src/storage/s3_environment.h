// Where an S3ObjectStore's settings come from: an s3://bucket/prefix URL, the
// non-secret settings of furrow's configuration, and the standard AWS environment.
//
//   region      settings.region, else AWS_REGION, else AWS_DEFAULT_REGION,
//               else "us-east-1"
//   endpoint    settings.endpoint, else AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL,
//               else AWS itself
//   credentials AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN) when
//               both are set; else the shared credentials file
//               (AWS_SHARED_CREDENTIALS_FILE, else $HOME/.aws/credentials), profile
//               AWS_PROFILE (else "default"), keys aws_access_key_id,
//               aws_secret_access_key, aws_session_token
//
// Credentials never come from the command line or furrow's config file. The
// environment is injected (EnvironmentLookup) so tests are hermetic. Pure
// functions apart from reading the credentials file; safe for concurrent use.
// Errors: kInvalidArgument (malformed URL, half-set credentials, unreadable INI),
// kFailedPrecondition (no credentials anywhere, or the profile is missing).
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "storage/s3_object_store.h"

namespace furrow::storage {

using EnvironmentLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment (getenv); empty values count as unset.
EnvironmentLookup ProcessEnvironment();

struct S3Location {
  std::string bucket;
  std::string prefix;  // without leading or trailing '/'; may be empty
};

// Parses "s3://bucket" or "s3://bucket/some/prefix[/]".
[[nodiscard]] Result<S3Location> ParseS3Url(std::string_view url);

// Non-secret settings from the command line or config file; empty means "from the
// environment, else the default".
struct S3Settings {
  std::string region;
  std::string endpoint;
  S3AddressingStyle addressing_style = S3AddressingStyle::kAuto;
};

// S3Options for `location` with every field resolved as in the banner; the tuning
// fields (part sizes, retries) keep their defaults.
[[nodiscard]] Result<S3Options> ResolveS3Options(const S3Location& location,
                                                 const S3Settings& settings,
                                                 const EnvironmentLookup& env);

// The credentials of `profile` in the shared credentials file at `path`.
[[nodiscard]] Result<S3Credentials> ReadSharedCredentials(const std::filesystem::path& path,
                                                          const std::string& profile);

}  // namespace furrow::storage
