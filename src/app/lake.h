// The lake: where a command's output files go. OpenLake is the one place that picks
// an ObjectStore implementation (see storage/object_store.h, docs/object-store.md).
//
//   --lake ""                   DATA_DIR/lake, a LocalObjectStore (the default)
//   --lake /srv/lake            that directory, a LocalObjectStore
//   --lake s3://bucket/prefix   an S3ObjectStore below the key prefix
//
// S3 settings that are not secret come from the options below (--s3-region,
// --s3-endpoint, --s3-addressing-style), else from the AWS environment; credentials
// only from the environment or the shared credentials file (storage/s3_environment.h).
//
// Errors: kInvalidArgument (an unsupported URL scheme, a malformed s3:// URL, an
// unknown addressing style), kFailedPrecondition (no S3 credentials), and whatever
// opening the local directory returns. Opening an S3 lake does not contact S3.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "core/metrics.h"
#include "core/status.h"
#include "storage/object_store.h"
#include "storage/s3_environment.h"

namespace furrow::app {

struct LakeOptions {
  // --s3-region; default: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1.
  std::string s3_region;
  // --s3-endpoint http(s)://HOST[:PORT] of an S3-compatible store; default:
  // AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS.
  std::string s3_endpoint;
  // --s3-addressing-style auto|path|virtual; default auto (path style for custom
  // endpoints and dotted buckets).
  std::string s3_addressing_style = "auto";
  // Not an option: the command's metrics registry, where an S3 lake counts its
  // requests (furrow_s3_requests_total). Not owned. Default: none.
  MetricsRegistry* metrics = nullptr;
};

// Adds --lake PATH|s3://BUCKET/PREFIX and the --s3-* options to `command`.
void AddLakeOptions(CLI::App* command, std::string* lake, LakeOptions* options);

[[nodiscard]] Result<std::unique_ptr<storage::ObjectStore>> OpenLake(
    const std::string& lake, const std::string& data_dir, const LakeOptions& options = {});

// As above with an injected environment (for tests).
[[nodiscard]] Result<std::unique_ptr<storage::ObjectStore>> OpenLake(
    const std::string& lake, const std::string& data_dir, const LakeOptions& options,
    const storage::EnvironmentLookup& env);

}  // namespace furrow::app
