#include "app/lake.h"

#include <filesystem>

#include "storage/local_object_store.h"
#include "storage/s3_object_store.h"

namespace furrow::app {

void AddLakeOptions(CLI::App* command, std::string* lake, LakeOptions* options) {
  command->add_option("--lake", *lake,
                      "Object store for output files: a directory or s3://BUCKET/PREFIX "
                      "(default DATA_DIR/lake)");
  command->add_option("--s3-region", options->s3_region,
                      "S3 region (default AWS_REGION, AWS_DEFAULT_REGION, else us-east-1)");
  command->add_option("--s3-endpoint", options->s3_endpoint,
                      "S3-compatible endpoint http(s)://HOST[:PORT] (default "
                      "AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS)");
  command->add_option("--s3-addressing-style", options->s3_addressing_style,
                      "S3 addressing: auto, path or virtual")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "path", "virtual"}));
}

Result<std::unique_ptr<storage::ObjectStore>> OpenLake(const std::string& lake,
                                                       const std::string& data_dir,
                                                       const LakeOptions& options) {
  return OpenLake(lake, data_dir, options, storage::ProcessEnvironment());
}

Result<std::unique_ptr<storage::ObjectStore>> OpenLake(const std::string& lake,
                                                       const std::string& data_dir,
                                                       const LakeOptions& options,
                                                       const storage::EnvironmentLookup& env) {
  if (lake.rfind("s3://", 0) == 0) {
    FURROW_ASSIGN_OR_RETURN(storage::S3Location location, storage::ParseS3Url(lake));
    storage::S3Settings settings;
    settings.region = options.s3_region;
    settings.endpoint = options.s3_endpoint;
    if (!storage::ParseS3AddressingStyle(options.s3_addressing_style,
                                         &settings.addressing_style)) {
      return InvalidArgumentError("unknown S3 addressing style '" + options.s3_addressing_style +
                                  "' (auto, path or virtual)");
    }
    FURROW_ASSIGN_OR_RETURN(storage::S3Options s3, storage::ResolveS3Options(location, settings, env));
    s3.metrics = options.metrics;
    FURROW_ASSIGN_OR_RETURN(std::unique_ptr<storage::S3ObjectStore> store,
                            storage::S3ObjectStore::Create(std::move(s3)));
    return std::unique_ptr<storage::ObjectStore>(std::move(store));
  }
  if (lake.find("://") != std::string::npos) {
    return InvalidArgumentError("unsupported lake '" + lake +
                                "': use a directory or s3://BUCKET/PREFIX");
  }
  std::filesystem::path root =
      lake.empty() ? std::filesystem::path(data_dir.empty() ? "./var" : data_dir) / "lake"
                   : std::filesystem::path(lake);
  FURROW_ASSIGN_OR_RETURN(std::unique_ptr<storage::LocalObjectStore> store,
                          storage::LocalObjectStore::Open(root));
  return std::unique_ptr<storage::ObjectStore>(std::move(store));
}

}  // namespace furrow::app
