// IgluEntityValidator: EntityValidator backed by an iglu::Resolver.
//
// Failure messages (schema_violations / tracker_protocol_violations shapes):
//   not self-describing  → {"json":..,"error":"INVALID_SCHEMA"|...}
//   schema not found     → {"schemaKey":..,"error":{"error":"ResolutionError",
//                            "lookupHistory":[{"repository":..,"errors":[{"error":"NotFound"}],
//                            "attempts":1,"lastAttempt":..}]}}  (RepoFailure when a
//                            registry was unreachable)
//   invalid data         → {"schemaKey":..,"error":{"error":"ValidationError",
//                            "dataReports":[{"message","path","keyword","targets"}]}}
// Thread safety: as the Resolver (safe for concurrent use). The resolver and
// clock must outlive the validator.
#pragma once

#include "core/clock.h"
#include "enrich/entity_validator.h"
#include "iglu/resolver.h"

namespace furrow::enrich {

class IgluEntityValidator final : public EntityValidator {
 public:
  IgluEntityValidator(iglu::Resolver* resolver, const Clock* clock)
      : resolver_(resolver), clock_(clock) {}

  std::optional<std::string> Validate(const rapidjson::Value& entity) const override;

 private:
  iglu::Resolver* resolver_;
  const Clock* clock_;
};

}  // namespace furrow::enrich
