#include "iglu/schema.h"

#include <rapidjson/error/en.h>
#include <rapidjson/internal/regex.h>
#include <rapidjson/pointer.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <re2/re2.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>

namespace furrow::iglu {
namespace {

using rapidjson::Value;

// Deeper schemas are rejected at compile time (RapidJSON compiles recursively).
constexpr int kMaxSchemaDepth = 128;
// Bound on schema-only steps ($ref, allOf, anyOf, oneOf) within one instance level
// of the format pass, so that a reference cycle cannot recurse forever.
constexpr int kMaxWalkSteps = 256;
// Schema values quoted in expectations are cut after this many bytes.
constexpr size_t kMaxQuotedBytes = 200;

enum TypeBit : uint32_t {
  kNullBit = 1,
  kBooleanBit = 2,
  kObjectBit = 4,
  kArrayBit = 8,
  kNumberBit = 16,
  kIntegerBit = 32,
  kStringBit = 64,
};

uint32_t TypeBitsOfInstance(const Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      return kNullBit;
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return kBooleanBit;
    case rapidjson::kObjectType:
      return kObjectBit;
    case rapidjson::kArrayType:
      return kArrayBit;
    case rapidjson::kStringType:
      return kStringBit;
    case rapidjson::kNumberType:
      return (v.IsInt64() || v.IsUint64()) ? (kNumberBit | kIntegerBit) : kNumberBit;
  }
  return 0;
}

uint32_t TypeBitsOfName(std::string_view name) {
  if (name == "null") return kNullBit;
  if (name == "boolean") return kBooleanBit;
  if (name == "object") return kObjectBit;
  if (name == "array") return kArrayBit;
  if (name == "number") return kNumberBit | kIntegerBit;
  if (name == "integer") return kIntegerBit;
  if (name == "string") return kStringBit;
  return 0;
}

std::string_view TypeNameOf(const Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return "boolean";
    case rapidjson::kObjectType:
      return "object";
    case rapidjson::kArrayType:
      return "array";
    case rapidjson::kStringType:
      return "string";
    case rapidjson::kNumberType:
      return (v.IsInt64() || v.IsUint64()) ? "integer" : "number";
  }
  return "value";
}

std::string_view StringOf(const Value& v) { return {v.GetString(), v.GetStringLength()}; }

std::string Compact(const Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  std::string out(buffer.GetString(), buffer.GetSize());
  if (out.size() > kMaxQuotedBytes) {
    out.resize(kMaxQuotedBytes);
    out.append("...");
  }
  return out;
}

size_t CountCodePoints(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

bool IsIdentifier(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

void AppendMember(std::string* path, std::string_view name) {
  if (IsIdentifier(name)) {
    path->push_back('.');
    path->append(name);
    return;
  }
  path->append("['");
  for (char c : name) {
    if (c == '\'' || c == '\\') path->push_back('\\');
    path->push_back(c);
  }
  path->append("']");
}

void AppendIndex(std::string* path, size_t index) {
  path->push_back('[');
  path->append(std::to_string(index));
  path->push_back(']');
}

ValidationError MakeError(std::string path, std::string keyword, std::string expectation,
                          std::string actual) {
  ValidationError error;
  error.message = path + ": expected " + expectation + ", got " + actual + " (keyword " +
                  keyword + ")";
  error.path = std::move(path);
  error.keyword = std::move(keyword);
  error.expectation = std::move(expectation);
  error.actual = std::move(actual);
  return error;
}

const Value* Member(const Value& object, std::string_view name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(Value(rapidjson::StringRef(name.data(), name.size())));
  return it == object.MemberEnd() ? nullptr : &it->value;
}

// Iglu-style URI of a remote schema: ".../schemas/<vendor>/<name>/<format>/<version>".
std::optional<SchemaKey> KeyOfRemoteUri(std::string_view uri) {
  if (uri.substr(0, 7) != "http://" && uri.substr(0, 8) != "https://") return std::nullopt;
  size_t at = uri.find("/schemas/");
  if (at == std::string_view::npos) return std::nullopt;
  Result<SchemaKey> key = SchemaKey::ParsePath(uri.substr(at + 9));
  if (!key.ok()) return std::nullopt;
  return *key;
}

bool IsJsonSchemaMetaSchema(std::string_view uri) {
  return uri.substr(0, 24) == "http://json-schema.org/d" ||
         uri.substr(0, 25) == "https://json-schema.org/d";
}

// The compiled RapidJSON document of a schema (defined after Schema::Impl).
const rapidjson::SchemaDocument* SchemaDocumentOf(const Schema& schema);

// Resolves remote `$ref`s for RapidJSON and for the format pass, memoised per URI.
class RemoteProvider final : public rapidjson::IRemoteSchemaDocumentProvider {
 public:
  RemoteProvider(const SchemaKey& self, const RemoteSchemaLookup& lookup)
      : self_(self), lookup_(lookup) {}

  const rapidjson::SchemaDocument* GetRemoteDocument(const char* uri,
                                                     rapidjson::SizeType) override {
    // RapidJSON 1.1.0 passes a length one byte short of the '#'; the string itself is
    // terminated, so read up to '#' here.
    std::string_view text(uri);
    text = text.substr(0, text.find('#'));
    const Schema* schema = Get(text);
    return schema == nullptr ? nullptr : SchemaDocumentOf(*schema);
  }

  // The schema at `uri` (without fragment), or nullptr (a failure is recorded unless
  // the URI is the draft-04 meta-schema, which furrow deliberately leaves unchecked).
  const Schema* Get(std::string_view uri) {
    auto it = resolved_.find(std::string(uri));
    if (it != resolved_.end()) return it->second.get();
    std::shared_ptr<const Schema> schema;
    if (IsJsonSchemaMetaSchema(uri)) {
      // Accepted as "any value": see the banner of schema.h.
    } else if (std::optional<SchemaKey> key = KeyOfRemoteUri(uri); !key) {
      failures_.push_back("$ref \"" + std::string(uri) + "\" is not an Iglu schema URI");
    } else if (*key == self_) {
      failures_.push_back("$ref \"" + std::string(uri) + "\" refers to the schema itself");
    } else if (!lookup_) {
      failures_.push_back("$ref \"" + std::string(uri) + "\" cannot be resolved here");
    } else {
      Result<std::shared_ptr<const Schema>> found = lookup_(*key);
      if (found.ok()) {
        schema = *found;
      } else {
        failures_.push_back("$ref \"" + std::string(uri) + "\": " + found.status().message());
      }
    }
    const Schema* raw = schema.get();
    resolved_.emplace(std::string(uri), std::move(schema));
    return raw;
  }

  const std::vector<std::string>& failures() const { return failures_; }

  std::vector<std::shared_ptr<const Schema>> TakeSchemas() {
    std::vector<std::shared_ptr<const Schema>> out;
    for (auto& [uri, schema] : resolved_) {
      if (schema) out.push_back(std::move(schema));
    }
    return out;
  }


 private:
  const SchemaKey& self_;
  const RemoteSchemaLookup& lookup_;
  std::map<std::string, std::shared_ptr<const Schema>> resolved_;
  std::vector<std::string> failures_;
};

// A node of the format pass: the parts of one subschema that can hold `format`
// (or an RE2-checked `pattern`) somewhere below. Nodes refer to each other by index
// so that `$ref` cycles are plain graph cycles.
struct FormatNode {
  std::string format;                // a known format, or empty
  std::unique_ptr<RE2> pattern;      // a `pattern` RapidJSON cannot compile
  std::string pattern_text;
  std::vector<std::pair<std::string, int>> properties;
  std::vector<std::pair<std::unique_ptr<RE2>, int>> pattern_properties;
  int additional_properties = -1;
  int items = -1;                    // the list form of `items`
  std::vector<int> tuple_items;      // the tuple form of `items`
  int additional_items = -1;
  std::vector<int> all_of, any_of, one_of;
  bool closed = false;               // "additionalProperties": false, checked here
  int ref = -1;                      // a local `$ref`: this node is that node
  const Schema* remote = nullptr;    // a remote `$ref`: walk that schema's root
  uint32_t type_mask = 0;            // 0 = any type (for anyOf/oneOf branch choice)
  std::vector<std::string> required;
  bool active = false;               // something below needs checking
};

bool RapidJsonCanCompile(std::string_view pattern) {
  std::string copy(pattern);
  rapidjson::internal::GenericRegex<rapidjson::UTF8<>> regex(copy.c_str());
  return regex.IsValid();
}

// RapidJSON compiles every object of a schema document as a schema, and its regex
// parser asserts on some malformed patterns (an unclosed '('), so every `pattern`
// and patternProperties key anywhere in the document must first pass RE2.
Status PrecheckPatterns(const Value& document) {
  RE2::Options options;
  options.set_log_errors(false);
  std::vector<const Value*> stack{&document};
  while (!stack.empty()) {
    const Value* v = stack.back();
    stack.pop_back();
    if (v->IsArray()) {
      for (const Value& e : v->GetArray()) stack.push_back(&e);
      continue;
    }
    if (!v->IsObject()) continue;
    for (const auto& m : v->GetObject()) {
      std::string_view name = StringOf(m.name);
      if (name == "pattern" && m.value.IsString()) {
        RE2 re(StringOf(m.value), options);
        if (!re.ok()) {
          return InvalidArgumentError("pattern \"" + std::string(StringOf(m.value)) +
                                      "\" does not compile: " + re.error());
        }
      }
      if (name == "patternProperties" && m.value.IsObject()) {
        for (const auto& p : m.value.GetObject()) {
          RE2 re(StringOf(p.name), options);
          if (!re.ok()) {
            return InvalidArgumentError("patternProperties pattern \"" +
                                        std::string(StringOf(p.name)) +
                                        "\" does not compile: " + re.error());
          }
        }
      }
      stack.push_back(&m.value);
    }
  }
  return Status::Ok();
}

// RapidJSON 1.1.0's regex engine keeps its match state inside the compiled regex
// (mutable members), so two threads matching the same regex race. Patterns RapidJSON
// must still evaluate itself (see RegexPlan) are used under this lock; all others are
// removed from RapidJSON's copy of the schema and matched with RE2 by the format pass.
std::mutex g_rapidjson_regex_mu;

void AppendPointerToken(std::string* pointer, std::string_view name) {
  pointer->push_back('/');
  for (char c : name) {
    if (c == '~') {
      pointer->append("~0");
    } else if (c == '/') {
      pointer->append("~1");
    } else {
      pointer->push_back(c);
    }
  }
}

// Where the patterns of a schema are evaluated. A subschema reached from the root
// only through properties, patternProperties values, additionalProperties, items,
// additionalItems, allOf and local $ref ("unconditionally") is validated by the format
// pass along the same edges, so its `pattern` moves to RE2 there. A subschema also
// reached through anyOf, oneOf, not or dependencies keeps its `pattern` in RapidJSON
// (whose branch logic must see it), as do patternProperties keys; those make the
// schema validate under g_rapidjson_regex_mu.
struct RegexPlan {
  std::set<const Value*> unconditional;
  std::set<const Value*> conditional;
  std::map<const Value*, std::string> pointer;  // JSON Pointer of each subschema
  bool uses_pattern_properties = false;
  // Subschemas with patternProperties and "additionalProperties": false. RapidJSON
  // 1.1.0 mishandles a property that matches only a pattern there (it validates the
  // value against a stale or null schema: wrong results, or a crash in debug builds),
  // so furrow drops additionalProperties from RapidJSON's copy and enforces it itself.
  std::vector<const Value*> closed_with_patterns;

  void Walk(const Value& root, const Value& v, std::string path, bool conditional_path,
            int depth) {
    if (!v.IsObject() || depth > kMaxSchemaDepth) return;
    std::set<const Value*>& seen = conditional_path ? conditional : unconditional;
    if (!seen.insert(&v).second) return;
    pointer.emplace(&v, path);
    if (const Value* ref = Member(v, "$ref"); ref != nullptr && ref->IsString()) {
      std::string_view text = StringOf(*ref);
      if (!text.empty() && text[0] == '#') {
        rapidjson::Pointer p(text.data() + 1, text.size() - 1);
        if (const Value* target = p.IsValid() ? p.Get(root) : nullptr) {
          Walk(root, *target, std::string(text.substr(1)), conditional_path, depth + 1);
        }
      }
      return;  // draft-04: the siblings of $ref are ignored
    }
    auto each_member = [&](const char* keyword, bool conditional_edge) {
      const Value* map = Member(v, keyword);
      if (map == nullptr || !map->IsObject()) return;
      std::string base = path;
      AppendPointerToken(&base, keyword);
      for (const auto& m : map->GetObject()) {
        std::string child = base;
        AppendPointerToken(&child, StringOf(m.name));
        Walk(root, m.value, child, conditional_path || conditional_edge, depth + 1);
      }
    };
    auto each_element = [&](const char* keyword, bool conditional_edge) {
      const Value* list = Member(v, keyword);
      if (list == nullptr) return;
      std::string base = path;
      AppendPointerToken(&base, keyword);
      if (list->IsObject()) {
        Walk(root, *list, base, conditional_path || conditional_edge, depth + 1);
      } else if (list->IsArray()) {
        for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
          Walk(root, (*list)[i], base + "/" + std::to_string(i),
               conditional_path || conditional_edge, depth + 1);
        }
      }
    };
    each_member("properties", false);
    if (const Value* pp = Member(v, "patternProperties"); pp && pp->IsObject() && pp->MemberCount()) {
      uses_pattern_properties = true;
      const Value* additional = Member(v, "additionalProperties");
      if (additional != nullptr && additional->IsFalse()) closed_with_patterns.push_back(&v);
    }
    each_member("patternProperties", false);
    each_element("additionalProperties", false);
    each_element("items", false);
    each_element("additionalItems", false);
    each_element("allOf", false);
    each_element("anyOf", true);
    each_element("oneOf", true);
    each_element("not", true);
    each_member("dependencies", true);
  }

  // Unconditional subschemas with a pattern: moved to RE2.
  bool MovesPattern(const Value* v) const {
    return unconditional.count(v) && !conditional.count(v);
  }
  // Whether RapidJSON will evaluate some regex while validating.
  bool RapidJsonMatches() const {
    if (uses_pattern_properties) return true;
    for (const Value* v : conditional) {
      const Value* pattern = Member(*v, "pattern");
      if (pattern != nullptr && pattern->IsString()) return true;
    }
    return false;
  }
};

}  // namespace

class Schema::Impl {
 public:
  rapidjson::Document document;
  // RapidJSON's copy of `document`, without the patterns the format pass matches.
  rapidjson::Document rapidjson_document;
  std::unique_ptr<rapidjson::SchemaDocument> schema_document;
  std::set<const Value*> re2_patterns;  // subschemas (in `document`) whose pattern RE2 checks
  std::set<const Value*> closed;        // subschemas whose additionalProperties: false we check
  bool needs_regex_lock = false;        // RapidJSON evaluates regexes (here or in a $ref)
  std::vector<std::shared_ptr<const Schema>> referenced;
  std::vector<FormatNode> nodes;
  int root = -1;
  ValidationLimits limits;

  static const Impl& Of(const Schema& schema) { return *schema.impl_; }

  Status Build(const SchemaKey& key, const RemoteSchemaLookup& lookup);
  std::vector<ValidationError> Validate(const Value& instance) const;

 private:
  Result<int> BuildNode(const Value& schema, RemoteProvider& provider, int depth,
                        std::map<const Value*, int>& memo);
  void ComputeActive();
  void Walk(int node, const Value& instance, std::string& path, int steps,
            std::vector<ValidationError>& errors) const;
  bool Applicable(const FormatNode& node, const Value& instance) const;
  ValidationError ConvertRapidJsonError(const rapidjson::SchemaValidator& validator,
                                        const Value& instance) const;
};

namespace {

const rapidjson::SchemaDocument* SchemaDocumentOf(const Schema& schema) {
  return Schema::Impl::Of(schema).schema_document.get();
}

// The depth of the deepest value, iteratively; stops early past `limit`.
int DepthOf(const Value& root, int limit) {
  struct Frame {
    const Value* value;
    int depth;
  };
  std::vector<Frame> stack{{&root, 0}};
  int deepest = 0;
  while (!stack.empty()) {
    Frame frame = stack.back();
    stack.pop_back();
    if (frame.depth > deepest) deepest = frame.depth;
    if (deepest > limit) return deepest;
    if (frame.value->IsObject()) {
      for (const auto& m : frame.value->GetObject()) {
        if (m.value.IsObject() || m.value.IsArray()) stack.push_back({&m.value, frame.depth + 1});
        else if (frame.depth + 1 > deepest) deepest = frame.depth + 1;
      }
      if (frame.value->MemberCount() == 0 && frame.depth + 1 > deepest) deepest = frame.depth + 1;
    } else if (frame.value->IsArray()) {
      for (const auto& e : frame.value->GetArray()) {
        if (e.IsObject() || e.IsArray()) stack.push_back({&e, frame.depth + 1});
        else if (frame.depth + 1 > deepest) deepest = frame.depth + 1;
      }
      if (frame.value->Size() == 0 && frame.depth + 1 > deepest) deepest = frame.depth + 1;
    }
  }
  return deepest;
}

}  // namespace

int JsonDepth(const rapidjson::Value& value, int limit) { return DepthOf(value, limit); }

Result<int> Schema::Impl::BuildNode(const Value& schema, RemoteProvider& provider, int depth,
                                    std::map<const Value*, int>& memo) {
  if (depth > kMaxSchemaDepth) {
    return InvalidArgumentError("schema nesting (through $ref) deeper than " +
                                std::to_string(kMaxSchemaDepth));
  }
  if (auto it = memo.find(&schema); it != memo.end()) return it->second;
  int index = static_cast<int>(nodes.size());
  nodes.emplace_back();
  memo.emplace(&schema, index);
  if (!schema.IsObject()) return index;

  if (const Value* ref = Member(schema, "$ref"); ref != nullptr && ref->IsString()) {
    std::string_view text = StringOf(*ref);
    if (!text.empty() && text[0] == '#') {
      rapidjson::Pointer pointer(text.data() + 1, text.size() - 1);
      const Value* target = pointer.IsValid() ? pointer.Get(document) : nullptr;
      if (target == nullptr) {
        return InvalidArgumentError("$ref \"" + std::string(text) + "\" points nowhere");
      }
      FURROW_ASSIGN_OR_RETURN(int target_index, BuildNode(*target, provider, depth + 1, memo));
      nodes[index].ref = target_index;
      return index;
    }
    std::string_view uri = text.substr(0, text.find('#'));
    nodes[index].remote = provider.Get(uri);
    return index;
  }

  if (const Value* type = Member(schema, "type")) {
    uint32_t mask = 0;
    if (type->IsString()) mask = TypeBitsOfName(StringOf(*type));
    if (type->IsArray()) {
      for (const Value& t : type->GetArray()) {
        if (t.IsString()) mask |= TypeBitsOfName(StringOf(t));
      }
    }
    nodes[index].type_mask = mask;
  }
  nodes[index].closed = closed.count(&schema) > 0;
  if (const Value* required = Member(schema, "required"); required && required->IsArray()) {
    for (const Value& r : required->GetArray()) {
      if (r.IsString()) nodes[index].required.emplace_back(StringOf(r));
    }
  }
  if (const Value* format = Member(schema, "format"); format && format->IsString()) {
    if (IsKnownFormat(StringOf(*format))) nodes[index].format = std::string(StringOf(*format));
  }
  if (const Value* pattern = Member(schema, "pattern"); pattern && pattern->IsString()) {
    std::string text(StringOf(*pattern));
    if (re2_patterns.count(&schema) || !RapidJsonCanCompile(text)) {
      RE2::Options options;
      options.set_log_errors(false);
      auto re = std::make_unique<RE2>(text, options);
      if (!re->ok()) {
        return InvalidArgumentError("pattern \"" + text + "\" does not compile: " + re->error());
      }
      nodes[index].pattern = std::move(re);
      nodes[index].pattern_text = std::move(text);
    }
  }
  if (const Value* properties = Member(schema, "properties"); properties && properties->IsObject()) {
    for (const auto& m : properties->GetObject()) {
      FURROW_ASSIGN_OR_RETURN(int child, BuildNode(m.value, provider, depth + 1, memo));
      nodes[index].properties.emplace_back(std::string(StringOf(m.name)), child);
    }
  }
  if (const Value* patterns = Member(schema, "patternProperties"); patterns && patterns->IsObject()) {
    for (const auto& m : patterns->GetObject()) {
      std::string text(StringOf(m.name));
      if (!RapidJsonCanCompile(text)) {
        return InvalidArgumentError("patternProperties pattern \"" + text +
                                    "\" is outside the regex subset RapidJSON supports");
      }
      RE2::Options options;
      options.set_log_errors(false);
      auto re = std::make_unique<RE2>(text, options);
      if (!re->ok()) {
        return InvalidArgumentError("patternProperties pattern \"" + text +
                                    "\" does not compile: " + re->error());
      }
      FURROW_ASSIGN_OR_RETURN(int child, BuildNode(m.value, provider, depth + 1, memo));
      nodes[index].pattern_properties.emplace_back(std::move(re), child);
    }
  }
  if (const Value* additional = Member(schema, "additionalProperties");
      additional && additional->IsObject()) {
    FURROW_ASSIGN_OR_RETURN(int child, BuildNode(*additional, provider, depth + 1, memo));
    nodes[index].additional_properties = child;
  }
  if (const Value* items = Member(schema, "items")) {
    if (items->IsObject()) {
      FURROW_ASSIGN_OR_RETURN(int child, BuildNode(*items, provider, depth + 1, memo));
      nodes[index].items = child;
    } else if (items->IsArray()) {
      for (const Value& item : items->GetArray()) {
        FURROW_ASSIGN_OR_RETURN(int child, BuildNode(item, provider, depth + 1, memo));
        nodes[index].tuple_items.push_back(child);
      }
    }
  }
  if (const Value* additional = Member(schema, "additionalItems");
      additional && additional->IsObject()) {
    FURROW_ASSIGN_OR_RETURN(int child, BuildNode(*additional, provider, depth + 1, memo));
    nodes[index].additional_items = child;
  }
  struct Combinator {
    const char* name;
    std::vector<int> FormatNode::*list;
  };
  for (Combinator c : {Combinator{"allOf", &FormatNode::all_of},
                       Combinator{"anyOf", &FormatNode::any_of},
                       Combinator{"oneOf", &FormatNode::one_of}}) {
    if (const Value* list = Member(schema, c.name); list && list->IsArray()) {
      for (const Value& branch : list->GetArray()) {
        FURROW_ASSIGN_OR_RETURN(int child, BuildNode(branch, provider, depth + 1, memo));
        (nodes[index].*c.list).push_back(child);
      }
    }
  }
  if (const Value* negated = Member(schema, "not"); negated && negated->IsObject()) {
    // A pattern RapidJSON cannot compile would make `not` reject everything.
    std::vector<const Value*> stack{negated};
    while (!stack.empty()) {
      const Value* v = stack.back();
      stack.pop_back();
      if (v->IsObject()) {
        for (const auto& m : v->GetObject()) {
          if (StringOf(m.name) == "pattern" && m.value.IsString() &&
              !RapidJsonCanCompile(StringOf(m.value))) {
            return InvalidArgumentError("pattern \"" + std::string(StringOf(m.value)) +
                                        "\" inside `not` is outside the regex subset RapidJSON "
                                        "supports");
          }
          stack.push_back(&m.value);
        }
      } else if (v->IsArray()) {
        for (const Value& e : v->GetArray()) stack.push_back(&e);
      }
    }
  }
  return index;
}

void Schema::Impl::ComputeActive() {
  auto active_of = [this](int i) { return i >= 0 && nodes[static_cast<size_t>(i)].active; };
  bool changed = true;
  while (changed) {
    changed = false;
    for (FormatNode& node : nodes) {
      if (node.active) continue;
      bool active = !node.format.empty() || node.pattern != nullptr || node.closed ||
                    active_of(node.ref) ||
                    (node.remote != nullptr && Of(*node.remote).root >= 0 &&
                     Of(*node.remote).nodes[static_cast<size_t>(Of(*node.remote).root)]
                         .active) ||
                    active_of(node.additional_properties) || active_of(node.items) ||
                    active_of(node.additional_items);
      for (const auto& [name, child] : node.properties) active = active || active_of(child);
      for (const auto& [re, child] : node.pattern_properties) active = active || active_of(child);
      for (int child : node.tuple_items) active = active || active_of(child);
      for (int child : node.all_of) active = active || active_of(child);
      for (int child : node.any_of) active = active || active_of(child);
      for (int child : node.one_of) active = active || active_of(child);
      if (active) {
        node.active = true;
        changed = true;
      }
    }
  }
}

Status Schema::Impl::Build(const SchemaKey& key, const RemoteSchemaLookup& lookup) {
  FURROW_RETURN_IF_ERROR(PrecheckPatterns(document));
  RegexPlan plan;
  plan.Walk(document, document, "", false, 0);
  rapidjson_document.CopyFrom(document, rapidjson_document.GetAllocator());
  for (const auto& [subschema, path] : plan.pointer) {
    const Value* pattern = Member(*subschema, "pattern");
    if (pattern == nullptr || !pattern->IsString() || !plan.MovesPattern(subschema)) continue;
    Value* copy = rapidjson::Pointer(path.c_str()).Get(rapidjson_document);
    if (copy == nullptr || !copy->IsObject()) {
      return InternalError("no copy of the subschema at \"" + path + "\"");
    }
    copy->RemoveMember("pattern");
    re2_patterns.insert(subschema);
  }
  for (const Value* subschema : plan.closed_with_patterns) {
    if (!plan.MovesPattern(subschema)) {
      return InvalidArgumentError(
          "patternProperties with \"additionalProperties\": false at \"" +
          plan.pointer[subschema] +
          "\" inside anyOf, oneOf, not or dependencies is not supported (RapidJSON 1.1.0 "
          "validates it wrongly)");
    }
    Value* copy = rapidjson::Pointer(plan.pointer[subschema].c_str()).Get(rapidjson_document);
    if (copy == nullptr || !copy->IsObject()) {
      return InternalError("no copy of the subschema at \"" + plan.pointer[subschema] + "\"");
    }
    copy->RemoveMember("additionalProperties");
    closed.insert(subschema);
  }
  needs_regex_lock = plan.RapidJsonMatches();
  RemoteProvider provider(key, lookup);
  schema_document = std::make_unique<rapidjson::SchemaDocument>(rapidjson_document, &provider);
  std::map<const Value*, int> memo;
  FURROW_ASSIGN_OR_RETURN(root, BuildNode(document, provider, 0, memo));
  if (!provider.failures().empty()) {
    std::string message;
    for (const std::string& failure : provider.failures()) {
      if (!message.empty()) message.append("; ");
      message.append(failure);
    }
    return InvalidArgumentError(message);
  }
  referenced = provider.TakeSchemas();
  for (const auto& schema : referenced) {
    needs_regex_lock = needs_regex_lock || Of(*schema).needs_regex_lock;
  }
  ComputeActive();
  return Status::Ok();
}

bool Schema::Impl::Applicable(const FormatNode& node, const Value& instance) const {
  const FormatNode* n = &node;
  for (int hops = 0; n->ref >= 0 && hops < kMaxWalkSteps; ++hops) {
    n = &nodes[static_cast<size_t>(n->ref)];
  }
  if (n->type_mask != 0 && (n->type_mask & TypeBitsOfInstance(instance)) == 0) return false;
  if (instance.IsObject()) {
    for (const std::string& name : n->required) {
      if (Member(instance, name) == nullptr) return false;
    }
  }
  return true;
}

void Schema::Impl::Walk(int index, const Value& instance, std::string& path, int steps,
                        std::vector<ValidationError>& errors) const {
  if (index < 0 || steps > kMaxWalkSteps) return;
  const FormatNode& node = nodes[static_cast<size_t>(index)];
  if (!node.active) return;
  if (node.ref >= 0) {
    Walk(node.ref, instance, path, steps + 1, errors);
    return;
  }
  if (node.remote != nullptr) {
    const Impl& remote = Of(*node.remote);
    remote.Walk(remote.root, instance, path, steps + 1, errors);
    return;
  }
  if (instance.IsString()) {
    std::string_view text = StringOf(instance);
    if (!node.format.empty() && !CheckFormat(node.format, text)) {
      errors.push_back(MakeError(path, "format", "string in format " + node.format,
                                 "string not in that format"));
    }
    if (node.pattern && !RE2::PartialMatch(text, *node.pattern)) {
      errors.push_back(MakeError(path, "pattern", "string matching /" + node.pattern_text + "/",
                                 "string not matching"));
    }
  }
  if (instance.IsObject()) {
    const size_t path_size = path.size();
    for (const auto& m : instance.GetObject()) {
      std::string_view name = StringOf(m.name);
      bool declared = false;
      for (const auto& [property, child] : node.properties) {
        if (property == name) {
          declared = true;
          AppendMember(&path, name);
          Walk(child, m.value, path, 0, errors);
          path.resize(path_size);
          break;
        }
      }
      for (const auto& [re, child] : node.pattern_properties) {
        if (RE2::PartialMatch(name, *re)) {
          declared = true;
          AppendMember(&path, name);
          Walk(child, m.value, path, 0, errors);
          path.resize(path_size);
        }
      }
      if (!declared && node.closed) {
        AppendMember(&path, name);
        errors.push_back(MakeError(path, "additionalProperties", "only declared properties",
                                   "undeclared property " +
                                       Compact(Value(rapidjson::StringRef(name.data(), name.size())))));
        path.resize(path_size);
      }
      if (!declared && node.additional_properties >= 0) {
        AppendMember(&path, name);
        Walk(node.additional_properties, m.value, path, 0, errors);
        path.resize(path_size);
      }
    }
  }
  if (instance.IsArray()) {
    const size_t path_size = path.size();
    for (rapidjson::SizeType i = 0; i < instance.Size(); ++i) {
      int child = -1;
      if (node.items >= 0) {
        child = node.items;
      } else if (i < node.tuple_items.size()) {
        child = node.tuple_items[i];
      } else if (!node.tuple_items.empty()) {
        child = node.additional_items;
      }
      if (child < 0) continue;
      AppendIndex(&path, i);
      Walk(child, instance[i], path, 0, errors);
      path.resize(path_size);
    }
  }
  for (int child : node.all_of) Walk(child, instance, path, steps + 1, errors);
  for (const std::vector<int>* branches : {&node.any_of, &node.one_of}) {
    if (branches->empty()) continue;
    std::vector<ValidationError> first_failure;
    bool any_applicable = false;
    bool any_passed = false;
    for (int child : *branches) {
      if (!Applicable(nodes[static_cast<size_t>(child)], instance)) continue;
      std::vector<ValidationError> branch_errors;
      Walk(child, instance, path, steps + 1, branch_errors);
      if (branch_errors.empty()) {
        any_passed = true;
        break;
      }
      if (!any_applicable) first_failure = std::move(branch_errors);
      any_applicable = true;
    }
    if (any_applicable && !any_passed) {
      for (ValidationError& e : first_failure) errors.push_back(std::move(e));
    }
  }
}

ValidationError Schema::Impl::ConvertRapidJsonError(const rapidjson::SchemaValidator& validator,
                                                    const Value& instance) const {
  std::string keyword = validator.GetInvalidSchemaKeyword();
  // The JSONPath, walking the instance to tell array indexes from member names.
  std::string path = "$";
  const Value* at = &instance;
  const Value* parent = nullptr;
  const rapidjson::Pointer& doc_pointer = validator.GetInvalidDocumentPointer();
  for (size_t i = 0; i < doc_pointer.GetTokenCount(); ++i) {
    const rapidjson::Pointer::Token& token = doc_pointer.GetTokens()[i];
    parent = at;
    if (at != nullptr && at->IsArray() && token.index != rapidjson::kPointerInvalidIndex) {
      AppendIndex(&path, token.index);
      at = token.index < at->Size() ? &(*at)[token.index] : nullptr;
    } else {
      std::string_view name(token.name, token.length);
      AppendMember(&path, name);
      at = at != nullptr ? Member(*at, name) : nullptr;
    }
  }
  const Value* subschema = validator.GetInvalidSchemaPointer().Get(document);
  const Value* keyword_value = subschema != nullptr ? Member(*subschema, keyword) : nullptr;
  std::string actual = at != nullptr ? std::string(TypeNameOf(*at)) : "nothing";
  std::string expectation = "to match keyword " + keyword;

  if (keyword == "type" && keyword_value != nullptr) {
    if (keyword_value->IsString()) {
      expectation = std::string(StringOf(*keyword_value));
    } else if (keyword_value->IsArray()) {
      expectation.clear();
      for (const Value& t : keyword_value->GetArray()) {
        if (!t.IsString()) continue;
        if (!expectation.empty()) expectation.append(" or ");
        expectation.append(StringOf(t));
      }
    }
  } else if (keyword == "required" && keyword_value != nullptr && keyword_value->IsArray() &&
             at != nullptr && at->IsObject()) {
    for (const Value& r : keyword_value->GetArray()) {
      if (r.IsString() && Member(*at, StringOf(r)) == nullptr) {
        expectation = "required property " + Compact(r);
        actual = "object without it";
        break;
      }
    }
  } else if (keyword == "additionalProperties") {
    expectation = "only declared properties";
    if (doc_pointer.GetTokenCount() > 0 && parent != nullptr && parent->IsObject()) {
      const auto& token = doc_pointer.GetTokens()[doc_pointer.GetTokenCount() - 1];
      actual = "undeclared property " +
               Compact(Value(rapidjson::StringRef(token.name, token.length)));
    } else {
      actual = "undeclared property";
    }
  } else if (keyword == "enum" && keyword_value != nullptr) {
    expectation = "one of " + Compact(*keyword_value);
    actual += " not in the list";
  } else if ((keyword == "minLength" || keyword == "maxLength") && keyword_value != nullptr &&
             keyword_value->IsNumber()) {
    expectation = std::string(keyword == "minLength" ? "at least " : "at most ") +
                  Compact(*keyword_value) + " characters";
    if (at != nullptr && at->IsString()) {
      actual = std::to_string(CountCodePoints(StringOf(*at))) + " characters";
    }
  } else if (keyword == "pattern" && keyword_value != nullptr && keyword_value->IsString()) {
    expectation = "string matching /" + std::string(StringOf(*keyword_value)) + "/";
    actual = "string not matching";
  } else if ((keyword == "minimum" || keyword == "maximum") && keyword_value != nullptr) {
    bool minimum = keyword == "minimum";
    const Value* exclusive =
        Member(*subschema, minimum ? "exclusiveMinimum" : "exclusiveMaximum");
    bool strict = exclusive != nullptr && exclusive->IsBool() && exclusive->GetBool();
    expectation = std::string("number ") + (minimum ? (strict ? "> " : ">= ")
                                                    : (strict ? "< " : "<= ")) +
                  Compact(*keyword_value);
    actual = minimum ? "a smaller number" : "a larger number";
  } else if (keyword == "multipleOf" && keyword_value != nullptr) {
    expectation = "multiple of " + Compact(*keyword_value);
    actual = "a number that is not";
  } else if ((keyword == "minItems" || keyword == "maxItems") && keyword_value != nullptr) {
    expectation = std::string(keyword == "minItems" ? "at least " : "at most ") +
                  Compact(*keyword_value) + " items";
    if (at != nullptr && at->IsArray()) actual = std::to_string(at->Size()) + " items";
  } else if ((keyword == "minProperties" || keyword == "maxProperties") &&
             keyword_value != nullptr) {
    expectation = std::string(keyword == "minProperties" ? "at least " : "at most ") +
                  Compact(*keyword_value) + " properties";
    if (at != nullptr && at->IsObject()) {
      actual = std::to_string(at->MemberCount()) + " properties";
    }
  } else if (keyword == "uniqueItems") {
    expectation = "unique items";
    actual = "duplicate items";
  } else if (keyword == "additionalItems") {
    expectation = "no items beyond the listed ones";
    if (at != nullptr && at->IsArray()) actual = std::to_string(at->Size()) + " items";
  } else if (keyword == "dependencies") {
    expectation = "the properties and schemas its dependencies require";
    actual = "object without them";
  } else if (keyword == "patternProperties") {
    expectation = "a value matching the patternProperties schema for its name";
  } else if (keyword == "anyOf") {
    expectation = "a value matching at least one schema of anyOf";
    actual += " matching none";
  } else if (keyword == "oneOf") {
    expectation = "a value matching exactly one schema of oneOf";
    actual += " matching none or several";
  } else if (keyword == "allOf") {
    expectation = "a value matching every schema of allOf";
    actual += " failing one";
  } else if (keyword == "not") {
    expectation = "a value not matching the schema of not";
    actual += " matching it";
  }
  return MakeError(std::move(path), std::move(keyword), std::move(expectation), std::move(actual));
}

std::vector<ValidationError> Schema::Impl::Validate(const Value& instance) const {
  std::vector<ValidationError> errors;
  if (DepthOf(instance, limits.max_depth) > limits.max_depth) {
    errors.push_back(MakeError("$", "depth",
                               "at most " + std::to_string(limits.max_depth) +
                                   " levels of nested arrays and objects",
                               "a deeper value"));
    return errors;
  }
  rapidjson::SchemaValidator validator(*schema_document);
  std::unique_lock regex_lock(g_rapidjson_regex_mu, std::defer_lock);
  if (needs_regex_lock) regex_lock.lock();
  const bool valid = instance.Accept(validator);
  if (regex_lock.owns_lock()) regex_lock.unlock();
  if (!valid) errors.push_back(ConvertRapidJsonError(validator, instance));
  if (root >= 0 && nodes[static_cast<size_t>(root)].active) {
    std::string path = "$";
    Walk(root, instance, path, 0, errors);
  }
  return errors;
}

Schema::Schema(SchemaKey key, std::unique_ptr<Impl> impl)
    : key_(std::move(key)), impl_(std::move(impl)) {}

Schema::~Schema() = default;

const rapidjson::Value& Schema::json() const { return impl_->document; }

std::vector<ValidationError> Schema::Validate(const rapidjson::Value& instance) const {
  return impl_->Validate(instance);
}

Status Schema::Check(const rapidjson::Value& instance) const {
  std::vector<ValidationError> errors = Validate(instance);
  if (errors.empty()) return Status::Ok();
  std::string message;
  for (const ValidationError& e : errors) {
    if (!message.empty()) message.append("; ");
    message.append(e.message);
  }
  return InvalidArgumentError(std::move(message));
}

Result<std::shared_ptr<const Schema>> Schema::Compile(const SchemaKey& key,
                                                      std::string_view json_text,
                                                      const RemoteSchemaLookup& remote_lookup,
                                                      ValidationLimits limits) {
  auto impl = std::make_unique<Impl>();
  impl->limits = limits;
  const std::string uri = key.ToUri();
  impl->document.Parse<rapidjson::kParseIterativeFlag>(json_text.data(), json_text.size());
  if (impl->document.HasParseError()) {
    return InvalidArgumentError(
        "schema " + uri + " is not valid JSON: " +
        rapidjson::GetParseError_En(impl->document.GetParseError()) + " at offset " +
        std::to_string(impl->document.GetErrorOffset()));
  }
  if (!impl->document.IsObject()) {
    return InvalidArgumentError("schema " + uri + " is not a JSON object");
  }
  if (DepthOf(impl->document, kMaxSchemaDepth) > kMaxSchemaDepth) {
    return InvalidArgumentError("schema " + uri + " is nested deeper than " +
                                std::to_string(kMaxSchemaDepth));
  }
  if (const Value* self = Member(impl->document, "self")) {
    const Value* vendor = Member(*self, "vendor");
    const Value* name = Member(*self, "name");
    const Value* format = Member(*self, "format");
    const Value* version = Member(*self, "version");
    if (vendor == nullptr || name == nullptr || format == nullptr || version == nullptr ||
        !vendor->IsString() || !name->IsString() || !format->IsString() ||
        !version->IsString()) {
      return InvalidArgumentError("schema " + uri +
                                  " has a `self` block without string vendor, name, format and "
                                  "version");
    }
    std::string self_path = std::string(StringOf(*vendor)) + "/" + std::string(StringOf(*name)) +
                            "/" + std::string(StringOf(*format)) + "/" +
                            std::string(StringOf(*version));
    if (self_path != key.ToPath()) {
      return InvalidArgumentError("schema " + uri + " describes itself as iglu:" + self_path);
    }
  }
  Status built = impl->Build(key, remote_lookup);
  if (!built.ok()) return built.WithContext("schema " + uri);
  return std::shared_ptr<const Schema>(new Schema(key, std::move(impl)));
}

}  // namespace furrow::iglu
