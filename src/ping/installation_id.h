// The installation's uuid: a random UUID (version 4) generated once and kept in
// DATA_DIR/ping/uuid, so every payload of an installation carries the same id.
//
// Creation is atomic and race-free across processes: the id is written to a
// temporary file and hard-linked into place; the loser of a race reads the
// winner's id. Errors: kIoError when the directory or file cannot be written,
// kDataLoss when the stored file does not hold a uuid.
#pragma once

#include <string>

#include "core/status.h"

namespace furrow::ping {

[[nodiscard]] Result<std::string> LoadOrCreateInstallationId(const std::string& data_dir);

// A new random UUID v4 ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx").
[[nodiscard]] Result<std::string> NewUuid();

bool IsUuid(std::string_view text);

}  // namespace furrow::ping
