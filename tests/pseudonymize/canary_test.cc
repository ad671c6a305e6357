// The canary test of ../shared/reference/pseudonymization.md, against the real binary.
//
// A corpus puts a unique canary string ("cnry" + digits + "z", or a number starting
// 987654321) into every field, context property, header, query parameter and body of
// every event type (pv, pp, se, ue, tr, ti) and every bad-row type, plus broken lines.
// `furrow pseudonymize` runs over it; then:
//   * no canary appears in stdout, stderr or the metrics, not even inside base64;
//   * allowlisted values are byte-identical;
//   * every pseudonym in the output is the HMAC-SHA256 of some input value as computed
//     by the openssl command line tool, and every canary leaf's pseudonym is present;
//   * broken lines became generic_error bad rows and were counted;
//   * output is deterministic across processes; key rotation and the key's secrecy
//     (not in --help, errors or logs) hold.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "event/enriched_event.h"
#include "event/tracker_parameters.h"

namespace {

namespace fs = std::filesystem;
using furrow::event::EnrichedEvent;
using furrow::event::kFieldCount;
using furrow::event::kFieldNames;

// The default allowlist's atomic fields (config/allowlist.yaml), pinned here.
const std::set<std::string> kKeptFields = {
    "app_id", "platform", "event", "event_id", "name_tracker", "v_tracker", "v_collector",
    "v_etl", "event_vendor", "event_name", "event_format", "event_version", "etl_tstamp",
    "collector_tstamp", "dvce_created_tstamp", "dvce_sent_tstamp", "derived_tstamp", "true_tstamp",
    "geo_country", "br_family", "br_type", "br_renderengine", "os_family", "os_manufacturer",
    "dvce_type", "dvce_ismobile", "doc_charset", "se_category", "se_action", "page_urlscheme"};

// gitlab_standard properties the default allowlist keeps.
const std::set<std::string> kKeptGitlabStrings = {
    "environment", "source", "plan", "realm", "deployment_type", "instance_version",
    "context_generated_at", "user_type", "feature_enablement_type", "interface", "client_name",
    "client_version", "client_type", "feature_category", "model_engine", "model_name", "model_provider"};
const std::set<std::string> kKeptGitlabNumbers = {"input_tokens", "output_tokens", "total_tokens"};
const std::vector<std::string> kGitlabPersonalStrings = {
    "user_id", "google_analytics_id", "instance_id", "unique_instance_id", "host_name",
    "global_user_id", "correlation_id"};
const std::vector<std::string> kGitlabPersonalNumbers = {
    "project_id", "namespace_id", "organization_id", "ultimate_parent_namespace_id"};

const char kTimestamp[] = "2026-01-01T00:00:00.000Z";
const char kNumberCanaryPrefix[] = "987654321";

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const fs::path& p, const std::string& content) {
  std::ofstream(p, std::ios::binary) << content;
}

std::string Json(const rapidjson::Value& v) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  v.Accept(w);
  return std::string(b.GetString(), b.GetSize());
}

std::string Base64Url(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

bool DecodeBase64Url(const std::string& in, std::string* out) {
  if (in.size() < 16) return false;
  std::string s = in;
  for (char& c : s) {
    if (c == '-') c = '+';
    else if (c == '_') c = '/';
    else if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/' && c != '=') return false;
  }
  size_t pad = 0;
  while (s.size() % 4) s += '=';
  if (s[s.size() - 1] == '=') ++pad;
  if (s[s.size() - 2] == '=') ++pad;
  out->resize(s.size() / 4 * 3);
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out->data()),
                          reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  if (n < 0) return false;
  out->resize(static_cast<size_t>(n) - pad);
  return true;
}

struct RunResult {
  int exit_code;
  std::string out, err;
};

class CanaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* bin = std::getenv("FURROW_BINARY");
    ASSERT_NE(bin, nullptr) << "FURROW_BINARY must point to the furrow binary";
    binary_ = bin;
    char tmpl[] = "/tmp/furrow-canary-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    key_ = "canary-test-key-" + std::to_string(::getpid()) + "-Zq8";
    WriteFile(dir_ / "key", key_ + "\n");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs furrow with `args` (already shell-quoted), stdin from `input`.
  RunResult Run(const std::string& args, const std::string& input, const std::string& env = "") {
    static int n = 0;
    std::string base = (dir_ / ("run" + std::to_string(++n))).string();
    WriteFile(base + ".in", input);
    std::string cmd = "env -u FURROW_PSEUDONYMIZE_KEY_FILE -u FURROW_PSEUDONYMIZE_KEY_RING " + env + " '" +
                      binary_ + "' " + args + " < '" + base + ".in' > '" + base + ".out' 2> '" + base + ".err'";
    int status = std::system(cmd.c_str());
    return RunResult{WEXITSTATUS(status), ReadFile(base + ".out"), ReadFile(base + ".err")};
  }

  // HMAC-SHA256 hex of each value, computed by the openssl command line tool.
  std::map<std::string, std::string> OpenSsl(const std::set<std::string>& values, const std::string& key) {
    fs::path d = dir_ / ("openssl-" + std::to_string(openssl_runs_++));
    fs::create_directories(d);
    std::vector<std::string> ordered(values.begin(), values.end());
    std::string files;
    for (size_t i = 0; i < ordered.size(); ++i) {
      WriteFile(d / std::to_string(i), ordered[i]);
      files += " " + std::to_string(i);
    }
    std::string cmd = "cd '" + d.string() + "' && openssl dgst -sha256 -r -hmac '" + key + "'" + files + " > out";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::map<std::string, std::string> result;
    std::istringstream lines(ReadFile(d / "out"));
    std::string line;
    while (std::getline(lines, line)) {
      size_t sp = line.find(' ');
      std::string file = line.substr(sp + 2);  // "hex *file"
      result[ordered[std::stoul(file)]] = line.substr(0, sp);
    }
    EXPECT_EQ(result.size(), ordered.size());
    return result;
  }


 public:
  std::string Canary() { return "cnry" + std::to_string(100000 + canaries_++) + "z"; }
  int64_t NumberCanary() { return std::stoll(std::string(kNumberCanaryPrefix) + std::to_string(100 + canaries_++ % 900)); }


 protected:
  std::string binary_;
  fs::path dir_;
  std::string key_;
  int canaries_ = 0;
  int openssl_runs_ = 0;
};

using rapidjson::Document;
using rapidjson::Value;

// Builds the corpus with the test's canary source.
class CorpusBuilder {
 public:
  explicit CorpusBuilder(CanaryTest* t) : t_(t) { d_.SetObject(); }

  std::string C() { return t_->Canary(); }

  Value Str(const std::string& s) { return Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), a()); }
  rapidjson::Document::AllocatorType& a() { return d_.GetAllocator(); }
  Value Obj() { return Value(rapidjson::kObjectType); }
  Value Arr() { return Value(rapidjson::kArrayType); }
  void Put(Value& o, const char* k, Value v) { o.AddMember(Value(k, a()), v, a()); }
  void Put(Value& o, const char* k, const std::string& s) { Put(o, k, Str(s)); }

  Value Entity(const std::string& schema, Value data) {
    Value e = Obj();
    Put(e, "schema", schema);
    Put(e, "data", std::move(data));
    return e;
  }

  Value GitlabStandard() {
    Value d = Obj();
    for (const auto& k : kKeptGitlabStrings) Put(d, k.c_str(), "keep-" + k);
    int n = 10;
    for (const auto& k : kKeptGitlabNumbers) Put(d, k.c_str(), Value(n++));
    for (const auto& k : kGitlabPersonalStrings) Put(d, k.c_str(), C());
    for (const auto& k : kGitlabPersonalNumbers) Put(d, k.c_str(), Value(t_->NumberCanary()));
    Put(d, "is_gitlab_team_member", Value(true));
    Value ids = Arr();
    ids.PushBack(Value(t_->NumberCanary()), a());
    ids.PushBack(Value(t_->NumberCanary()), a());
    Put(d, "feature_enabled_by_namespace_ids", std::move(ids));
    Value extra = Obj();
    Put(extra, "email", C());
    Value deep = Arr();
    deep.PushBack(Str(C()), a());
    Value inner = Obj();
    Put(inner, "x", C());
    Put(inner, "y", Value(t_->NumberCanary()));
    deep.PushBack(inner, a());
    Put(extra, "deep", std::move(deep));
    Put(d, "extra", std::move(extra));
    return Entity("iglu:com.gitlab/gitlab_standard/jsonschema/1-1-8", std::move(d));
  }

  Value UnknownEntity() {
    Value d = Obj();
    Put(d, "a", C());
    Value b = Arr();
    b.PushBack(Str(C()), a());
    Put(d, "b", std::move(b));
    Value c = Obj();
    Put(c, "d", C());
    Put(d, "c", std::move(c));
    return Entity("iglu:com.acme/secret/jsonschema/1-0-0", std::move(d));
  }

  std::string Contexts() {
    Value data = Arr();
    data.PushBack(GitlabStandard(), a());
    data.PushBack(UnknownEntity(), a());
    return Json(Entity("iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1", std::move(data)));
  }

  std::string DerivedContexts() {
    Value ua = Obj();
    Put(ua, "useragentFamily", "keep-useragentFamily");
    Put(ua, "osFamily", "keep-osFamily");
    Put(ua, "deviceFamily", "keep-deviceFamily");
    Put(ua, "useragentMajor", C());
    Put(ua, "osVersion", C());
    Value data = Arr();
    data.PushBack(Entity("iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0", std::move(ua)), a());
    return Json(Entity("iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1", std::move(data)));
  }

  std::string UnstructEvent() {
    Value lc = Obj();
    Put(lc, "targetUrl", C());
    Put(lc, "elementId", C());
    Value classes = Arr();
    classes.PushBack(Str(C()), a());
    Put(lc, "elementClasses", std::move(classes));
    return Json(Entity("iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",
                       Entity("iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1", std::move(lc))));
  }

  EnrichedEvent Event(const std::string& type) {
    EnrichedEvent e;
    // Typed fields hold values of their type (so that the output can be checked with
    // Snowplow's analytics SDK); numbers not kept are number canaries.
    using furrow::event::ValueType;
    for (size_t i = 0; i < kFieldCount; ++i) {
      std::string name(kFieldNames[i]);
      const ValueType type = furrow::event::FieldValueType(i);
      const bool kept = kKeptFields.count(name) > 0;
      if (type == ValueType::kBoolean) {
        e[i] = "1";
      } else if (type == ValueType::kTimestamp) {
        e[i] = "2026-11-25 10:00:00.000";
      } else if (type == ValueType::kInteger || type == ValueType::kDecimal) {
        e[i] = kept ? "42" : std::to_string(t_->NumberCanary());
      } else {
        e[i] = kept ? "keep-" + name : C();
      }
    }
    e[furrow::event::kEvent] = type;
    e[furrow::event::kContexts] = Contexts();
    e[furrow::event::kDerivedContexts] = DerivedContexts();
    e[furrow::event::kUnstructEvent] = UnstructEvent();
    return e;
  }

  // Tracker parameters: every parameter of the protocol plus an unknown one.
  Value Parameters(bool as_name_value) {
    Value list = Arr();
    Value obj = Obj();
    for (const auto& m : furrow::event::AllParameters()) {
      std::string name(m.parameter);
      std::string value;
      switch (m.kind) {
        case furrow::event::ParameterKind::kJson:
          value = name == "co" ? Contexts() : UnstructEvent();
          break;
        case furrow::event::ParameterKind::kJsonBase64Url:
          value = Base64Url(name == "cx" ? Contexts() : UnstructEvent());
          break;
        default:
          value = ParameterKept(name) ? "keep-" + name : C();
      }
      if (as_name_value) {
        Value p = Obj();
        Put(p, "name", name);
        Put(p, "value", value);
        list.PushBack(p, a());
      } else {
        Put(obj, m.parameter.data(), value);
      }
    }
    if (as_name_value) {
      Value p = Obj();
      Put(p, "name", "zz_custom");
      Put(p, "value", C());
      list.PushBack(p, a());
      return list;
    }
    Put(obj, "zz_custom", C());
    return obj;
  }

  static bool ParameterKept(const std::string& name) {
    const auto* m = furrow::event::FindParameter(name);
    return m != nullptr && kKeptFields.count(std::string(kFieldNames[m->field])) &&
           kKeptFields.count(std::string(kFieldNames[m->second_field]));
  }

  std::string Body() {
    Value data = Arr();
    data.PushBack(Parameters(false), a());
    data.PushBack(Parameters(false), a());
    return Json(Entity("iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4", std::move(data)));
  }

  Value Headers() {
    Value h = Arr();
    for (const char* name : {"Cookie: sp=", "X-Forwarded-For: ", "User-Agent: ", "Referer: ", "Host: ",
                             "Content-Type: application/json; x=", "X-Custom: "}) {
      h.PushBack(Str(name + C()), a());
    }
    return h;
  }

  Value Processor() {
    Value p = Obj();
    Put(p, "artifact", "furrow");
    Put(p, "version", "0.1.0");
    return p;
  }

  Value CollectorPayload() {
    Value p = Obj();
    Put(p, "vendor", "com.snowplowanalytics.snowplow");
    Put(p, "version", "tp2");
    Put(p, "querystring", Parameters(true));
    Put(p, "contentType", "application/json");
    Put(p, "body", Body());
    Put(p, "collector", "furrow-0.1.0-file");
    Put(p, "encoding", "UTF-8");
    Put(p, "hostname", C());
    Put(p, "timestamp", kTimestamp);
    Put(p, "ipAddress", C());
    Put(p, "useragent", C());
    Put(p, "refererUri", C());
    Put(p, "headers", Headers());
    Put(p, "networkUserId", C());
    return p;
  }

  Value Raw() {
    Value p = Obj();
    Put(p, "vendor", "com.snowplowanalytics.snowplow");
    Put(p, "version", "tp2");
    Put(p, "parameters", Parameters(true));
    Put(p, "contentType", "application/json");
    Put(p, "loaderName", "thrift");
    Put(p, "encoding", "UTF-8");
    Put(p, "hostname", C());
    Put(p, "timestamp", kTimestamp);
    Put(p, "ipAddress", C());
    Put(p, "useragent", C());
    Put(p, "refererUri", C());
    Put(p, "headers", Headers());
    Put(p, "userId", C());
    return p;
  }

  Value Enriched() {
    EnrichedEvent e = Event("page_view");
    Value o = Obj();
    for (size_t i = 0; i < kFieldCount; ++i) Put(o, kFieldNames[i].data(), e[i]);
    Put(o, "se_value", Value(t_->NumberCanary()));  // a number where a string usually is
    Put(o, "not_a_field", C());
    return o;
  }

  Value IgluError() {
    Value report = Obj();
    Put(report, "message", "message " + C());
    Put(report, "path", "$.email");
    Put(report, "keyword", "format");
    Value targets = Arr();
    targets.PushBack(Str("email"), a());
    Put(report, "targets", std::move(targets));
    Value reports = Arr();
    reports.PushBack(report, a());
    Value error = Obj();
    Put(error, "error", "ValidationError");
    Put(error, "dataReports", std::move(reports));
    return error;
  }

  Value ResolutionError() {
    Value e = Obj();
    Put(e, "error", "ClientFailure");
    Put(e, "message", "client " + C());
    Value errors = Arr();
    errors.PushBack(e, a());
    Value lookup = Obj();
    Put(lookup, "repository", "Iglu Central");
    Put(lookup, "errors", std::move(errors));
    Put(lookup, "attempts", Value(1));
    Put(lookup, "lastAttempt", kTimestamp);
    Value history = Arr();
    history.PushBack(lookup, a());
    Value error = Obj();
    Put(error, "error", "ResolutionError");
    Put(error, "lookupHistory", std::move(history));
    return error;
  }

  std::string BadRow(const std::string& type, const std::string& version, Value failure, Value payload) {
    Value data = Obj();
    Put(data, "processor", Processor());
    Put(data, "failure", std::move(failure));
    Put(data, "payload", std::move(payload));
    return Json(Entity("iglu:com.snowplowanalytics.snowplow.badrows/" + type + "/jsonschema/" + version, std::move(data)));
  }

  Value Failure() {
    Value f = Obj();
    Put(f, "timestamp", kTimestamp);
    return f;
  }

  std::vector<std::string> BadRows() {
    std::vector<std::string> rows;
    {
      Value f = Failure();
      Put(f, "maximumAllowedSizeBytes", Value(1000));
      Put(f, "actualSizeBytes", Value(2000));
      Put(f, "expectation", "keep-expectation");
      rows.push_back(BadRow("size_violation", "1-0-0", std::move(f), Str("GET /i?uid=" + C() + "&ip=" + C())));
    }
    {
      Value f = Failure();
      Put(f, "loader", "thrift");
      Value m = Obj();
      Put(m, "error", "cannot decode " + C());
      Put(f, "message", std::move(m));
      rows.push_back(BadRow("collector_payload_format_violation", "1-0-0", std::move(f), Str("raw " + C())));
      Value f2 = Failure();
      Put(f2, "loader", "thrift");
      Value m2 = Obj();
      Put(m2, "payloadField", "body");
      Put(m2, "value", C());
      Put(m2, "expectation", "expected " + C());
      Put(f2, "message", std::move(m2));
      rows.push_back(BadRow("collector_payload_format_violation", "1-0-0", std::move(f2), Str(C())));
    }
    {
      Value f = Failure();
      Value errors = Arr();
      errors.PushBack(Str("error " + C()), a());
      Put(f, "errors", std::move(errors));
      rows.push_back(BadRow("generic_error", "1-0-0", std::move(f), Str("payload " + C())));
    }
    for (const char* type : {"adapter_failures", "tracker_protocol_violations"}) {
      Value f = Failure();
      Put(f, "vendor", "com.snowplowanalytics.snowplow");
      Put(f, "version", "tp2");
      Value messages = Arr();
      Value m1 = Obj();
      Put(m1, "field", "e");
      Put(m1, "value", C());
      Put(m1, "expectation", "expected pv got " + C());
      messages.PushBack(m1, a());
      Value m2 = Obj();
      Put(m2, "schemaKey", "iglu:com.acme/x/jsonschema/1-0-0");
      Put(m2, "error", IgluError());
      messages.PushBack(m2, a());
      Value m3 = Obj();
      Value j = Obj();
      Put(j, "k", C());
      Put(m3, "json", std::move(j));
      Put(m3, "error", "INVALID_SCHEMA");
      messages.PushBack(m3, a());
      Value m4 = Obj();
      Put(m4, "field", "ue_px");
      Put(m4, "value", C());
      Put(m4, "error", "not json " + C());
      messages.PushBack(m4, a());
      Value m5 = Obj();
      Put(m5, "actual", C());
      Value mapping = Obj();
      Put(mapping, "k", C());
      Put(m5, "expectedMapping", std::move(mapping));
      Put(m5, "expectation", C());
      messages.PushBack(m5, a());
      Put(f, "messages", std::move(messages));
      rows.push_back(BadRow(type, std::string(type) == "adapter_failures" ? "1-0-0" : "1-0-1", std::move(f),
                            CollectorPayload()));
    }
    {
      Value f = Failure();
      Value messages = Arr();
      Value m1 = Obj();
      Put(m1, "schemaKey", "iglu:com.acme/x/jsonschema/1-0-0");
      Put(m1, "error", ResolutionError());
      messages.PushBack(m1, a());
      Value m2 = Obj();
      Put(m2, "field", "contexts");
      Put(m2, "value", C());
      Put(m2, "error", "bad " + C());
      messages.PushBack(m2, a());
      Value m3 = Obj();
      Put(m3, "schemaKey", "iglu:com.acme/y/jsonschema/1-0-0");
      Put(m3, "error", IgluError());
      messages.PushBack(m3, a());
      Put(f, "messages", std::move(messages));
      Value p = Obj();
      Put(p, "raw", Raw());
      Put(p, "enriched", Enriched());
      rows.push_back(BadRow("schema_violations", "2-0-1", std::move(f), std::move(p)));
    }
    {
      Value f = Failure();
      Value messages = Arr();
      Value m1 = Obj();
      Value en = Obj();
      Put(en, "schemaKey", "iglu:com.snowplowanalytics.snowplow/ip_lookups/jsonschema/2-0-0");
      Put(en, "identifier", "ip-lookups");
      Put(m1, "enrichment", std::move(en));
      Value msg = Obj();
      Put(msg, "field", "user_ipaddress");
      Put(msg, "value", C());
      Put(msg, "expectation", "expected " + C());
      Put(m1, "message", std::move(msg));
      messages.PushBack(m1, a());
      Value m2 = Obj();
      Put(m2, "enrichment", Value(rapidjson::kNullType));
      Value msg2 = Obj();
      Put(msg2, "error", "failed " + C());
      Put(m2, "message", std::move(msg2));
      messages.PushBack(m2, a());
      Put(f, "messages", std::move(messages));
      Value p = Obj();
      Put(p, "raw", Raw());
      Put(p, "enriched", Enriched());
      rows.push_back(BadRow("enrichment_failures", "2-0-1", std::move(f), std::move(p)));
    }
    return rows;
  }

 private:
  CanaryTest* t_;
  Document d_;
};

// Every string of a JSON value that the pseudonymizer may hash, reading into JSON
// texts and base64url JSON like the pseudonymizer does. `leaves` gets the strings that
// are hashed whole (their pseudonym must appear), `all` every candidate.
void Collect(const Value& v, bool in_headers, std::set<std::string>* leaves, std::set<std::string>* all) {
  if (v.IsObject()) {
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      Collect(it->value, std::string(it->name.GetString()) == "headers", leaves, all);
    }
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray()) Collect(e, in_headers, leaves, all);
  } else if (v.IsString()) {
    std::string s(v.GetString(), v.GetStringLength());
    all->insert(s);
    Document inner;
    std::string decoded;
    if (!s.empty() && (s[0] == '{' || s[0] == '[') && !inner.Parse(s.c_str()).HasParseError()) {
      Collect(inner, false, leaves, all);
      return;
    }
    if (DecodeBase64Url(s, &decoded) && !decoded.empty() && decoded[0] == '{' &&
        !inner.Parse(decoded.c_str()).HasParseError()) {
      Collect(inner, false, leaves, all);
      return;
    }
    if (in_headers) {
      size_t colon = s.find(':');
      std::string value = s.substr(colon + 1);
      while (!value.empty() && value[0] == ' ') value.erase(0, 1);
      all->insert(value);
      leaves->insert(value);
      return;
    }
    leaves->insert(s);
  }
}

// Fails if a canary is in `text`, or in any base64url string inside JSON in `text`.
void ExpectNoCanary(const std::string& what, const std::string& text) {
  EXPECT_EQ(text.find("cnry"), std::string::npos) << what << " leaks a canary";
  EXPECT_EQ(text.find(kNumberCanaryPrefix), std::string::npos) << what << " leaks a number canary";
  std::regex b64("[A-Za-z0-9_-]{24,}");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), b64); it != std::sregex_iterator(); ++it) {
    std::string decoded;
    if (DecodeBase64Url(it->str(), &decoded)) {
      EXPECT_EQ(decoded.find("cnry"), std::string::npos) << what << " leaks a canary in base64";
      EXPECT_EQ(decoded.find(kNumberCanaryPrefix), std::string::npos) << what << " leaks in base64";
    }
  }
}

// Every 64-hex-character pseudonym in `text`, also inside base64url strings.
std::set<std::string> Hex64(const std::string& text) {
  std::set<std::string> out;
  std::regex hex("[0-9a-f]{64}");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), hex); it != std::sregex_iterator(); ++it) {
    out.insert(it->str());
  }
  std::regex b64("[A-Za-z0-9_-]{24,}");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), b64); it != std::sregex_iterator(); ++it) {
    std::string decoded;
    if (it->str().size() != 64 && DecodeBase64Url(it->str(), &decoded) && !decoded.empty() && decoded[0] == '{') {
      for (const auto& h : Hex64(decoded)) out.insert(h);
    }
  }
  return out;
}

std::string NormalizeTimestamps(const std::string& s) {
  return std::regex_replace(s, std::regex(R"("timestamp":"[^"]*")"), R"("timestamp":"T")");
}

TEST_F(CanaryTest, NoCanaryReachesOutputAndPseudonymsMatchOpenssl) {
  CorpusBuilder b(this);
  std::vector<std::string> lines;
  std::vector<EnrichedEvent> events;
  for (const char* type : {"page_view", "page_ping", "struct", "unstruct", "transaction", "transaction_item"}) {
    events.push_back(b.Event(type));
    lines.push_back(events.back().ToTsv());
  }
  const size_t first_bad_row = lines.size();
  for (auto& row : b.BadRows()) lines.push_back(row);
  const size_t first_broken = lines.size();
  EnrichedEvent broken_json = b.Event("page_view");
  broken_json[furrow::event::kContexts] = "{\"schema\":\"" + b.C();
  lines.push_back(broken_json.ToTsv());                 // json_column
  lines.push_back(b.C() + "\t" + b.C() + "\tshort");    // field_count
  lines.push_back("{\"user\":\"" + b.C() + "\"");       // bad_row (broken JSON)
  lines.push_back("{\"user\":\"" + b.C() + "\"}");      // bad_row (not self-describing)
  std::string input;
  for (const auto& l : lines) input += l + "\n";

  const std::string metrics_path = (dir_ / "metrics.prom").string();
  RunResult r = Run("--log-level debug pseudonymize --key-file '" + (dir_ / "key").string() +
                        "' --metrics-file '" + metrics_path + "'",
                    input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string metrics = ReadFile(metrics_path);

  // 1. No canary anywhere.
  ExpectNoCanary("stdout", r.out);
  ExpectNoCanary("stderr", r.err);
  ExpectNoCanary("metrics", metrics);
  EXPECT_EQ(r.err.find(key_), std::string::npos);
  EXPECT_EQ(r.out.find(key_), std::string::npos);

  std::vector<std::string> out_lines;
  std::istringstream out_stream(r.out);
  for (std::string l; std::getline(out_stream, l);) out_lines.push_back(l);
  ASSERT_EQ(out_lines.size(), lines.size());

  // 2. Candidate clear values, and their pseudonyms by the openssl CLI.
  std::set<std::string> leaves, all;
  for (size_t i = 0; i < first_bad_row; ++i) {
    for (size_t f = 0; f < kFieldCount; ++f) {
      const std::string& v = events[i][f];
      if (furrow::event::IsJsonField(f)) {
        Document d;
        d.Parse(v.c_str());
        Collect(d, false, &leaves, &all);
      } else {
        all.insert(v);
        if (v.find("cnry") != std::string::npos) leaves.insert(v);
      }
    }
  }
  for (size_t i = first_bad_row; i < first_broken; ++i) {
    Document d;
    d.Parse(lines[i].c_str());
    ASSERT_FALSE(d.HasParseError());
    Collect(d, false, &leaves, &all);
  }
  for (size_t i = first_broken; i < lines.size(); ++i) {
    all.insert(lines[i]);
    leaves.insert(lines[i]);
  }
  std::map<std::string, std::string> expected = OpenSsl(all, key_);
  std::set<std::string> known;
  for (const auto& [value, hex] : expected) known.insert(hex);

  // 3. Every pseudonym in the output is openssl's HMAC of an input value, and every
  //    canary leaf's pseudonym is there.
  const std::set<std::string> produced = Hex64(r.out);
  for (const auto& hex : produced) EXPECT_TRUE(known.count(hex)) << "unexpected pseudonym " << hex;
  size_t canary_leaves = 0;
  for (const auto& leaf : leaves) {
    if (leaf.find("cnry") == std::string::npos) continue;
    ++canary_leaves;
    EXPECT_TRUE(produced.count(expected[leaf])) << "no pseudonym for a canary leaf " << leaf;
  }
  EXPECT_GT(canary_leaves, 500u);

  // 4. Enriched events: allowlisted fields byte-identical, the rest openssl's HMAC.
  for (size_t i = 0; i < first_bad_row; ++i) {
    auto fields = furrow::event::SplitTsv(out_lines[i]);
    ASSERT_TRUE(fields.ok()) << out_lines[i];
    for (size_t f = 0; f < kFieldCount; ++f) {
      if (furrow::event::IsJsonField(f)) continue;
      if (kKeptFields.count(std::string(kFieldNames[f]))) {
        EXPECT_EQ((*fields)[f], events[i][f]) << kFieldNames[f];
      } else if (furrow::event::FieldValueType(f) != furrow::event::ValueType::kString) {
        EXPECT_EQ((*fields)[f], "") << kFieldNames[f] << " (typed, not allowlisted: null)";
      } else {
        EXPECT_EQ((*fields)[f], expected[events[i][f]]) << kFieldNames[f];
      }
    }
    Document contexts;
    contexts.Parse(std::string((*fields)[furrow::event::kContexts]).c_str());
    ASSERT_FALSE(contexts.HasParseError());
    const Value* gitlab = rapidjson::Pointer("/data/0/data").Get(contexts);
    ASSERT_NE(gitlab, nullptr);
    for (const auto& k : kKeptGitlabStrings) EXPECT_EQ(std::string((*gitlab)[k.c_str()].GetString()), "keep-" + k);
    for (const auto& k : kKeptGitlabNumbers) EXPECT_TRUE((*gitlab)[k.c_str()].IsInt()) << k;
    for (const auto& k : kGitlabPersonalNumbers) EXPECT_TRUE((*gitlab)[k.c_str()].IsNull()) << k;
    EXPECT_TRUE((*gitlab)["is_gitlab_team_member"].IsNull());
    EXPECT_EQ(std::string(rapidjson::Pointer("/data/0/schema").Get(contexts)->GetString()),
              "iglu:com.gitlab/gitlab_standard/jsonschema/1-1-8");
    Document derived;
    derived.Parse(std::string((*fields)[furrow::event::kDerivedContexts]).c_str());
    EXPECT_EQ(std::string(rapidjson::Pointer("/data/0/data/osFamily").Get(derived)->GetString()), "keep-osFamily");
  }

  // 4b. Every pseudonymized event still parses with Snowplow's analytics SDK (npm
  //     snowplow-analytics-sdk rejects a typed field that does not hold its type).
  {
    const char* source = std::getenv("FURROW_SOURCE_DIR");
    ASSERT_NE(source, nullptr);
    const fs::path sdk_parse = fs::path(source) / "tests/enrich/sdk_parse.js";
    const fs::path tsv = dir_ / "pseudonymized.tsv";
    std::string events_out;
    for (size_t i = 0; i < first_bad_row; ++i) events_out += out_lines[i] + "\n";
    WriteFile(tsv, events_out);
    const std::string cmd = "node '" + sdk_parse.string() + "' '" + tsv.string() + "' > /dev/null 2> '" +
                            (dir_ / "sdk.err").string() + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << ReadFile(dir_ / "sdk.err");
  }

  // 5. Bad rows keep their schema and structural keys; broken lines became generic errors.
  for (size_t i = first_bad_row; i < lines.size(); ++i) {
    Document in, out;
    out.Parse(out_lines[i].c_str());
    ASSERT_FALSE(out.HasParseError()) << out_lines[i];
    if (i >= first_broken) {
      EXPECT_EQ(std::string(out["schema"].GetString()),
                "iglu:com.snowplowanalytics.snowplow.badrows/generic_error/jsonschema/1-0-0");
      EXPECT_EQ(std::string(out["data"]["payload"].GetString()), expected[lines[i]]);
      continue;
    }
    in.Parse(lines[i].c_str());
    EXPECT_EQ(std::string(out["schema"].GetString()), std::string(in["schema"].GetString()));
    EXPECT_EQ(std::string(out["data"]["processor"]["artifact"].GetString()), "furrow");
    EXPECT_EQ(std::string(out["data"]["failure"]["timestamp"].GetString()), kTimestamp);
  }
  EXPECT_NE(metrics.find("furrow_pseudonymize_invalid_lines_total{reason=\"json_column\"} 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("furrow_pseudonymize_invalid_lines_total{reason=\"field_count\"} 1"), std::string::npos);
  EXPECT_NE(metrics.find("furrow_pseudonymize_invalid_lines_total{reason=\"bad_row\"} 2"), std::string::npos);
  EXPECT_NE(metrics.find("furrow_pseudonymize_lines_total{kind=\"generic_error\"} 4"), std::string::npos);

  // 6. Deterministic across processes, and the environment variable gives the same key.
  RunResult again = Run("pseudonymize", input, "FURROW_PSEUDONYMIZE_KEY_FILE='" + (dir_ / "key").string() + "'");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(NormalizeTimestamps(again.out), NormalizeTimestamps(r.out));
}

TEST_F(CanaryTest, KeyRotationAndThePseudonymCommand) {
  WriteFile(dir_ / "old.key", "old-secret-Kx1\n");
  WriteFile(dir_ / "new.key", "new-secret-Ky2\n");
  WriteFile(dir_ / "ring.yaml",
            "active: 2026-01\nkeys:\n  - id: 2025-07\n    file: old.key\n  - id: 2026-01\n    file: new.key\n");
  const std::string ring = "--key-ring '" + (dir_ / "ring.yaml").string() + "'";
  auto old_hmac = OpenSsl({"alice@example.com"}, "old-secret-Kx1");
  auto new_hmac = OpenSsl({"alice@example.com"}, "new-secret-Ky2");

  EnrichedEvent e;
  e[furrow::event::kUserId] = "alice@example.com";
  RunResult r = Run("pseudonymize " + ring, e.ToTsv() + "\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ((*furrow::event::SplitTsv(r.out.substr(0, r.out.size() - 1)))[furrow::event::kUserId],
            new_hmac["alice@example.com"]);
  EXPECT_NE(r.err.find("key_id=2026-01"), std::string::npos) << r.err;

  RunResult active = Run("pseudonym alice@example.com " + ring, "");
  EXPECT_EQ(active.out, new_hmac["alice@example.com"] + "\n");
  RunResult old = Run("pseudonym alice@example.com --key-id 2025-07 " + ring, "");
  EXPECT_EQ(old.out, old_hmac["alice@example.com"] + "\n");
  RunResult all = Run("pseudonym --stdin --all-keys " + ring, "alice@example.com\n");
  EXPECT_EQ(all.out, "2025-07\t" + old_hmac["alice@example.com"] + "\n2026-01\t" + new_hmac["alice@example.com"] + "\n");

  // With a key file, `furrow pseudonym` equals openssl dgst -hmac "$(cat FILE)".
  RunResult one = Run("pseudonym 'bob smith' --key-file '" + (dir_ / "key").string() + "'", "");
  EXPECT_EQ(one.out, OpenSsl({"bob smith"}, key_)["bob smith"] + "\n");
}

TEST_F(CanaryTest, PipelineKeyOfADataDirectory) {
  fs::create_directories(dir_ / "data" / "keys");
  WriteFile(dir_ / "data" / "keys" / "pseudonymize.key", "pipeline-key-Q7\n");
  RunResult r = Run("pseudonym carol --data-dir '" + (dir_ / "data").string() + "'", "");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, OpenSsl({"carol"}, "pipeline-key-Q7")["carol"] + "\n");
  RunResult missing = Run("pseudonym carol --data-dir '" + (dir_ / "nothing").string() + "'", "");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_EQ(missing.out, "");
  EXPECT_FALSE(fs::exists(dir_ / "nothing"));  // never created by a reader
}

TEST_F(CanaryTest, KeyNeverPrintedAndMissingKeyWritesNothing) {
  const std::string key_file = "--key-file '" + (dir_ / "key").string() + "'";
  for (const std::string args : {"--help-all", "pseudonymize --help", "pseudonym --help"}) {
    RunResult r = Run(args, "");
    EXPECT_EQ(r.out.find(key_), std::string::npos) << args;
    EXPECT_EQ(r.err.find(key_), std::string::npos) << args;
  }
  // Start-up errors name the problem, not the key, and write nothing to stdout.
  WriteFile(dir_ / "bad-allowlist.yaml", "feilds: [app_id]\n");
  RunResult bad = Run("pseudonymize " + key_file + " --allowlist '" + (dir_ / "bad-allowlist.yaml").string() + "'",
                      "x\n");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_EQ(bad.out, "");
  EXPECT_EQ(bad.err.find(key_), std::string::npos);
  EXPECT_NE(bad.err.find("feilds"), std::string::npos) << bad.err;

  RunResult none = Run("pseudonymize", "secret-line\n");
  EXPECT_NE(none.exit_code, 0);
  EXPECT_EQ(none.out, "");
  EXPECT_NE(none.err.find("--key-file"), std::string::npos) << none.err;

  WriteFile(dir_ / "empty.key", "\n");
  RunResult empty = Run("pseudonymize --key-file '" + (dir_ / "empty.key").string() + "'", "secret-line\n");
  EXPECT_NE(empty.exit_code, 0);
  EXPECT_EQ(empty.out, "");
  EXPECT_NE(empty.err.find("empty"), std::string::npos) << empty.err;

  RunResult unreadable = Run("pseudonymize --key-file '" + (dir_ / "missing.key").string() + "'", "secret-line\n");
  EXPECT_NE(unreadable.exit_code, 0);
  EXPECT_EQ(unreadable.out, "");

  // Debug logs of a normal run do not carry the key either.
  RunResult ok = Run("--log-level debug --log-format json pseudonymize " + key_file, "a\tb\n");
  EXPECT_EQ(ok.exit_code, 0);
  EXPECT_EQ(ok.err.find(key_), std::string::npos);
  EXPECT_EQ(ok.out.find(key_), std::string::npos);
}

TEST_F(CanaryTest, OverlongLinesBecomeGenericErrors) {
  std::string longline(2000, 'c');
  longline.insert(0, "cnry");
  RunResult r = Run("pseudonymize --max-line-bytes 1024 --key-file '" + (dir_ / "key").string() + "'",
                    longline + "\n" + longline + "\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectNoCanary("stdout", r.out);
  std::istringstream lines(r.out);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    ++n;
    Document d;
    d.Parse(line.c_str());
    ASSERT_FALSE(d.HasParseError());
    EXPECT_EQ(std::string(d["data"]["payload"].GetString()), OpenSsl({longline.substr(0, 1024)}, key_).begin()->second);
  }
  EXPECT_EQ(n, 2);
}

}  // namespace
