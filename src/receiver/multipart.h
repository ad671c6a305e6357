// Reading one file out of a multipart/form-data body (RFC 7578), as browsers send
// the upload form of GET /usage_data/new.
//
// Untrusted input: a malformed body is kInvalidArgument with a message; a body
// without the named field is kNotFound. Pure function: safe for concurrent use.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace furrow::receiver {

// The boundary parameter of a multipart/form-data Content-Type, or kInvalidArgument.
[[nodiscard]] Result<std::string> MultipartBoundary(std::string_view content_type);

// The content of the part whose Content-Disposition has name="FIELD".
[[nodiscard]] Result<std::string> MultipartField(std::string_view body, std::string_view boundary,
                                                 std::string_view field);

}  // namespace furrow::receiver
