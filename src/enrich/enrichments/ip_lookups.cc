#include "enrich/enrichments/ip_lookups.h"

#include <maxminddb.h>

#include <array>
#include <charconv>
#include <cstring>

#include "enrich/bad_rows.h"
#include "enrich/enrichments/config_util.h"

namespace furrow::enrich {

using namespace ::furrow::event;  // NOLINT: field indices

namespace {

class Database {
 public:
  Database() = default;
  ~Database() {
    if (open_) MMDB_close(&mmdb_);
  }
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Status Open(const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
      return NotFoundError("MaxMind database " + path.string() + " does not exist");
    }
    int rc = MMDB_open(path.c_str(), MMDB_MODE_MMAP, &mmdb_);
    if (rc != MMDB_SUCCESS) {
      return InvalidArgumentError("cannot open MaxMind database " + path.string() + ": " +
                                  MMDB_strerror(rc));
    }
    open_ = true;
    return Status::Ok();
  }

  // The entry for `ip`, or found=false.
  MMDB_lookup_result_s Lookup(const char* ip, int* gai_error, int* mmdb_error) const {
    return MMDB_lookup_string(const_cast<MMDB_s*>(&mmdb_), ip, gai_error, mmdb_error);
  }

 private:
  MMDB_s mmdb_{};
  bool open_ = false;
};

bool GetString(MMDB_entry_s* entry, std::string* out, const char* const* path) {
  MMDB_entry_data_s data;
  if (MMDB_aget_value(entry, &data, path) != MMDB_SUCCESS || !data.has_data) return false;
  if (data.type != MMDB_DATA_TYPE_UTF8_STRING) return false;
  *out = CleanTsv(std::string_view(data.utf8_string, data.data_size));
  return true;
}

bool GetDouble(MMDB_entry_s* entry, std::string* out, const char* const* path) {
  MMDB_entry_data_s data;
  if (MMDB_aget_value(entry, &data, path) != MMDB_SUCCESS || !data.has_data) return false;
  double v;
  if (data.type == MMDB_DATA_TYPE_DOUBLE) v = data.double_value;
  else if (data.type == MMDB_DATA_TYPE_FLOAT) v = data.float_value;
  else return false;
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  if (ec != std::errc()) return false;
  out->assign(buf, p);
  return true;
}

class IpLookups final : public Enrichment {
 public:
  explicit IpLookups(std::string schema_key) : schema_key_(std::move(schema_key)) {}

  std::string_view name() const override { return "ip_lookups"; }
  const std::string& schema_key() const override { return schema_key_; }

  std::unique_ptr<Database> geo, isp, domain, connection;

  void Enrich(const EnrichmentInput&, EnrichedEvent* event,
              std::vector<std::string>* failures) const override {
    const std::string& ip = (*event)[kUserIpaddress];
    if (ip.empty()) return;
    auto lookup = [&](const Database* db, const std::string& name) -> MMDB_lookup_result_s {
      int gai = 0, err = MMDB_SUCCESS;
      MMDB_lookup_result_s r = db->Lookup(ip.c_str(), &gai, &err);
      if (gai != 0) {
        r.found_entry = false;  // not an IP address: nothing to look up
      } else if (err != MMDB_SUCCESS) {
        r.found_entry = false;
        std::string message = "{\"error\":\"";
        message += name + " lookup failed: " + MMDB_strerror(err) + "\"}";
        failures->push_back(EnrichmentFailureMessage(schema_key_, "ip_lookups", message));
      }
      return r;
    };
    if (geo) {
      MMDB_lookup_result_s r = lookup(geo.get(), "geo");
      if (r.found_entry) {
        static const char* const kCountry[] = {"country", "iso_code", nullptr};
        static const char* const kRegion[] = {"subdivisions", "0", "iso_code", nullptr};
        static const char* const kCity[] = {"city", "names", "en", nullptr};
        static const char* const kZip[] = {"postal", "code", nullptr};
        static const char* const kLat[] = {"location", "latitude", nullptr};
        static const char* const kLon[] = {"location", "longitude", nullptr};
        static const char* const kRegionName[] = {"subdivisions", "0", "names", "en", nullptr};
        static const char* const kTimezone[] = {"location", "time_zone", nullptr};
        GetString(&r.entry, &(*event)[kGeoCountry], kCountry);
        GetString(&r.entry, &(*event)[kGeoRegion], kRegion);
        GetString(&r.entry, &(*event)[kGeoCity], kCity);
        GetString(&r.entry, &(*event)[kGeoZipcode], kZip);
        GetDouble(&r.entry, &(*event)[kGeoLatitude], kLat);
        GetDouble(&r.entry, &(*event)[kGeoLongitude], kLon);
        GetString(&r.entry, &(*event)[kGeoRegionName], kRegionName);
        GetString(&r.entry, &(*event)[kGeoTimezone], kTimezone);
      }
    }
    if (isp) {
      MMDB_lookup_result_s r = lookup(isp.get(), "isp");
      if (r.found_entry) {
        static const char* const kIsp[] = {"isp", nullptr};
        static const char* const kOrg[] = {"organization", nullptr};
        GetString(&r.entry, &(*event)[kIpIsp], kIsp);
        GetString(&r.entry, &(*event)[kIpOrganization], kOrg);
      }
    }
    if (domain) {
      MMDB_lookup_result_s r = lookup(domain.get(), "domain");
      if (r.found_entry) {
        static const char* const kDomain[] = {"domain", nullptr};
        GetString(&r.entry, &(*event)[kIpDomain], kDomain);
      }
    }
    if (connection) {
      MMDB_lookup_result_s r = lookup(connection.get(), "connectionType");
      if (r.found_entry) {
        static const char* const kType[] = {"connection_type", nullptr};
        GetString(&r.entry, &(*event)[kIpNetspeed], kType);
      }
    }
  }

 private:
  std::string schema_key_;
};

}  // namespace

Result<std::unique_ptr<Enrichment>> CreateIpLookups(const rapidjson::Value& parameters,
                                                    std::string schema_key,
                                                    const std::filesystem::path& base_dir) {
  if (!parameters.IsObject()) return InvalidArgumentError("ip_lookups parameters must be an object");
  auto lookups = std::make_unique<IpLookups>(std::move(schema_key));
  struct Kind {
    const char* member;
    std::array<const char*, 2> databases;
    std::unique_ptr<Database>* slot;
  };
  Kind kinds[] = {
      {"geo", {"GeoLite2-City.mmdb", "GeoIP2-City.mmdb"}, &lookups->geo},
      {"isp", {"GeoIP2-ISP.mmdb", nullptr}, &lookups->isp},
      {"domain", {"GeoIP2-Domain.mmdb", nullptr}, &lookups->domain},
      {"connectionType", {"GeoIP2-Connection-Type.mmdb", nullptr}, &lookups->connection},
  };
  for (const Kind& kind : kinds) {
    auto it = parameters.FindMember(kind.member);
    if (it == parameters.MemberEnd()) continue;
    std::string what = std::string("ip_lookups ") + kind.member;
    FURROW_ASSIGN_OR_RETURN(std::string database, GetString(it->value, "database", what));
    FURROW_ASSIGN_OR_RETURN(std::string uri, GetString(it->value, "uri", what));
    FURROW_ASSIGN_OR_RETURN(std::filesystem::path path, ResolveDataPath(uri, database, base_dir));
    auto db = std::make_unique<Database>();
    FURROW_RETURN_IF_ERROR(db->Open(path));
    *kind.slot = std::move(db);
  }
  if (!lookups->geo && !lookups->isp && !lookups->domain && !lookups->connection) {
    return InvalidArgumentError("ip_lookups names no database (geo, isp, domain or connectionType)");
  }
  return std::unique_ptr<Enrichment>(std::move(lookups));
}

}  // namespace furrow::enrich
