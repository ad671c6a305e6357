// EntityValidator: what enrich needs of Iglu — validating one self-describing
// entity ({"schema":"iglu:...","data":...}) against its schema.
//
// Implementations must be safe for concurrent use by the enrich workers (const
// calls on a shared instance). A failed validation is a value, never an exception.
#pragma once

#include <optional>
#include <string>

#include <rapidjson/document.h>

namespace furrow::enrich {

class EntityValidator {
 public:
  virtual ~EntityValidator() = default;

  // Returns nullopt when `entity` is valid. Otherwise one failure message as a
  // JSON object text in the shapes the badrows schemas allow:
  //   {"json":<entity>,"error":"INVALID_SCHEMA"|"INVALID_IGLUURI"|"INVALID_DATA_PAYLOAD"|"INVALID_SCHEMAVER"}
  //   {"schemaKey":"iglu:...","error":{"error":"ResolutionError","lookupHistory":[...]}}
  //   {"schemaKey":"iglu:...","error":{"error":"ValidationError","dataReports":[
  //       {"message":..,"path":..,"keyword":..,"targets":[..]}]}}
  virtual std::optional<std::string> Validate(const rapidjson::Value& entity) const = 0;
};

// Checks only that `entity` is self-describing (an object with a valid Iglu URI
// under "schema" and a "data" member); the first message form above if not.
std::optional<std::string> CheckSelfDescribing(const rapidjson::Value& entity);

// Compact JSON text of a value.
std::string JsonText(const rapidjson::Value& value);

}  // namespace furrow::enrich
