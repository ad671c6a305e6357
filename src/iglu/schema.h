// Schema: one compiled Iglu JSON schema (draft-04) and validation of instances.
//
//   FURROW_ASSIGN_OR_RETURN(std::shared_ptr<const Schema> schema,
//                           Schema::Compile(key, schema_json_text));
//   std::vector<ValidationError> errors = schema->Validate(instance);
//   if (!errors.empty()) ... errors[0].message ...
//     // "$.price: expected number, got string (keyword type)"
//
// What is checked:
//   1. Depth: an instance nested deeper than ValidationLimits::max_depth (arrays and
//      objects count one level each; a scalar at the root is depth 0) is rejected
//      with keyword "depth" and nothing else is checked (the validator recurses).
//   2. Draft-04 keywords, by RapidJSON 1.1.0's schema validator: type, enum,
//      properties, required, additionalProperties, patternProperties, dependencies,
//      min/maxProperties, items (list and tuple), additionalItems, min/maxItems,
//      uniqueItems, min/maxLength (in code points), pattern, minimum, maximum,
//      exclusiveMinimum/Maximum, multipleOf, allOf, anyOf, oneOf, not, local `$ref`
//      ("#/definitions/x") and `$ref` to other Iglu schemas by an http(s) URI ending
//      in /schemas/<vendor>/<name>/<format>/<version> (resolved through the
//      RemoteSchemaLookup given to Compile). A `$ref` to the draft-04 meta-schema
//      (http://json-schema.org/draft-04/schema#) accepts any value: furrow does not
//      validate schemas-as-data. RapidJSON stops at its first failing keyword, so
//      this stage reports at most one error.
//   3. `format`, which RapidJSON 1.1.0 ignores, by furrow's own pass (every failure
//      is reported, after the error of stage 2 if any): date-time (RFC 3339), date
//      (RFC 3339 full-date), uuid (8-4-4-4-12 hex), uri (an absolute URI: scheme ":"
//      then URI characters; non-ASCII allowed as java.net.URI does), ipv4 and ipv6
//      (inet_pton), email (RFC 5322 dot-atom or quoted local part, host name or
//      [address] domain), hostname (RFC 1123). Unknown formats are accepted, as
//      draft-04 allows. The pass walks schema and instance together through
//      properties, patternProperties, additionalProperties (schema form), items
//      (list and tuple), additionalItems, allOf, anyOf, oneOf, local `$ref` and Iglu
//      `$ref`. Inside anyOf and oneOf a branch is used only if the instance fits its
//      `type` and `required`; a format failure is reported when every such branch
//      fails. Subschemas of `not` and `dependencies` are not searched for formats.
//   4. `pattern`: RapidJSON 1.1.0's regex engine keeps its match state inside the
//      compiled regex (two threads matching one regex race) and supports only a subset
//      of ECMAScript (no \d, \w, \s, no lookaround). So every `pattern` on a path
//      the format pass walks unconditionally (properties, patternProperties values,
//      additionalProperties, items, additionalItems, allOf, local `$ref`) is removed
//      from RapidJSON's copy of the schema and matched with RE2 by the format pass
//      (linear time, thread-safe). Patterns under anyOf, oneOf, not or dependencies,
//      and patternProperties keys, stay with RapidJSON (its branch logic needs them);
//      a schema that has any validates under one process-wide lock around RapidJSON's
//      pass. Those outside RapidJSON's subset are matched with RE2 by the format
//      pass under its anyOf/oneOf rule above (under `not` the schema fails to
//      compile; under `dependencies` they go unchecked). A pattern RE2 rejects anywhere fails to compile (RapidJSON's parser
//      asserts on some malformed ones).
//   5. "additionalProperties": false next to patternProperties: RapidJSON 1.1.0
//      validates a property matching only a pattern against a stale schema (a crash
//      in debug builds), so furrow removes that additionalProperties from RapidJSON's
//      copy and enforces it in the format pass; under anyOf/oneOf/not/dependencies
//      such a schema fails to compile instead. (additionalProperties as a schema next
//      to patternProperties is left to RapidJSON, which also applies it to
//      pattern-matched properties: stricter than draft-04.)
//
// Messages never quote instance values (they may be personal data); they quote
// the schema (types, enum lists, limits, patterns) and describe what was found
// ("string", "300 characters", "string not in that format").
//
// Thread safety: a Schema is immutable after Compile; Validate may be called from
// many threads at once (see 4 for the one lock some schemas need). Ownership:
// Compile returns a shared_ptr so that caches and callers can hold a schema while it
// is evicted elsewhere.
//
// Errors: Compile returns kInvalidArgument when the text is not JSON, not an object,
// not a valid schema for RapidJSON, or when its `self` block names another key.
// Validate never fails as a call: invalid instances yield errors as values.
#pragma once

#include <rapidjson/document.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "iglu/schema_key.h"

namespace furrow::iglu {

// One reason an instance does not match its schema.
struct ValidationError {
  // JSONPath of the offending value: "$" for the root, "$.a.b[0]", "$['a b']".
  std::string path;
  // The JSON Schema keyword that failed ("type", "required", "format", ...), or
  // "depth" for the depth limit.
  std::string keyword;
  // What the schema expects, e.g. "number", "string in format date-time",
  // "property \"id\"", "one of [\"a\",\"b\"]", "at most 255 characters".
  std::string expectation;
  // What was found, e.g. "string", "no such property", "300 characters".
  std::string actual;
  // The whole reason for humans and bad rows:
  // "<path>: expected <expectation>, got <actual> (keyword <keyword>)".
  std::string message;
};

struct ValidationLimits {
  // Maximum nesting of arrays/objects in an instance. Default 64.
  int max_depth = 64;
};

// Resolves `$ref`s to other Iglu schemas while compiling (e.g.
// "http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/instance-iglu-only/jsonschema/1-0-0#").
// Returns the referenced schema, or an error (the compile then fails). May be empty:
// such references then fail to compile.
class Schema;
using RemoteSchemaLookup =
    std::function<Result<std::shared_ptr<const Schema>>(const SchemaKey& key)>;

class Schema {
 public:
  // Parses and compiles `json_text` as the schema for `key`.
  static Result<std::shared_ptr<const Schema>> Compile(
      const SchemaKey& key, std::string_view json_text,
      const RemoteSchemaLookup& remote_lookup = {}, ValidationLimits limits = {});

  ~Schema();
  Schema(const Schema&) = delete;
  Schema& operator=(const Schema&) = delete;

  const SchemaKey& key() const { return key_; }
  // The schema itself as parsed (e.g. for /micro/iglu or for the warehouse loader).
  const rapidjson::Value& json() const;

  // Empty when `instance` is valid. See the banner for what is checked.
  std::vector<ValidationError> Validate(const rapidjson::Value& instance) const;

  // Convenience: OK, or kInvalidArgument whose message joins every error's message
  // with "; ".
  Status Check(const rapidjson::Value& instance) const;

  class Impl;

 private:
  Schema(SchemaKey key, std::unique_ptr<Impl> impl);

  SchemaKey key_;
  std::unique_ptr<Impl> impl_;
};

// The depth of `value`: 0 for a scalar, 1 + the deepest child for arrays/objects,
// computed without recursion, stopping once it exceeds `limit`.
int JsonDepth(const rapidjson::Value& value, int limit);

// The individual format checks, exposed for tests and for enrich (e.g. the
// atomic schema's uuid fields). `format` is the JSON Schema format name.
// Returns true when `value` is valid or when `format` is unknown.
bool CheckFormat(std::string_view format, std::string_view value);
// True for the format names furrow checks.
bool IsKnownFormat(std::string_view format);

}  // namespace furrow::iglu
