#include "tracker/collector_payload.h"

#include <thrift/Thrift.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>

#include <exception>
#include <limits>
#include <memory>

#include "collector_payload_types.h"
#include "core/json_escape.h"

namespace furrow::tracker {
namespace {

using apache::thrift::protocol::TBinaryProtocolT;
using apache::thrift::transport::TMemoryBuffer;
using GenPayload = ::furrow::tracker::thrift::CollectorPayload;

// The Thrift message size limit is an int; records are far smaller in practice.
constexpr size_t kMaxDecodableBytes = static_cast<size_t>(std::numeric_limits<int32_t>::max());

GenPayload ToGenerated(const CollectorPayload& p) {
  GenPayload g;
  g.__set_schema(p.schema);
  g.__set_ipAddress(p.ip_address);
  g.__set_timestamp(p.timestamp_ms);
  g.__set_encoding(p.encoding);
  g.__set_collector(p.collector);
  if (p.user_agent) g.__set_userAgent(*p.user_agent);
  if (p.referer_uri) g.__set_refererUri(*p.referer_uri);
  if (p.path) g.__set_path(*p.path);
  if (p.querystring) g.__set_querystring(*p.querystring);
  if (p.body) g.__set_body(*p.body);
  if (p.headers) g.__set_headers(*p.headers);
  if (p.content_type) g.__set_contentType(*p.content_type);
  if (p.hostname) g.__set_hostname(*p.hostname);
  if (p.network_user_id) g.__set_networkUserId(*p.network_user_id);
  return g;
}

template <typename T>
std::optional<T> IfSet(bool isset, T& value) {
  if (!isset) return std::nullopt;
  return std::optional<T>(std::move(value));
}

}  // namespace

std::string EncodeCollectorPayload(const CollectorPayload& payload) {
  GenPayload g = ToGenerated(payload);
  auto buffer = std::make_shared<TMemoryBuffer>(static_cast<uint32_t>(
      256 + payload.body.value_or("").size() + payload.querystring.value_or("").size()));
  TBinaryProtocolT<TMemoryBuffer> protocol(buffer);
  g.write(&protocol);
  return buffer->getBufferAsString();
}

Result<CollectorPayload> DecodeCollectorPayload(std::string_view bytes) {
  if (bytes.size() > kMaxDecodableBytes) {
    return InvalidArgumentError("collector payload larger than 2 GiB");
  }
  GenPayload g;
  try {
    auto config = std::make_shared<apache::thrift::TConfiguration>(
        static_cast<int>(bytes.size()), static_cast<int>(bytes.size()), /*recursionLimit=*/8);
    // OBSERVE: the buffer reads `bytes` in place and never writes to it.
    auto buffer = std::make_shared<TMemoryBuffer>(
        reinterpret_cast<uint8_t*>(const_cast<char*>(bytes.data())),
        static_cast<uint32_t>(bytes.size()), TMemoryBuffer::OBSERVE, config);
    // A hostile length prefix can never exceed the bytes actually present: these
    // limits make Thrift refuse it before allocating.
    const auto limit = static_cast<int32_t>(bytes.size());
    TBinaryProtocolT<TMemoryBuffer> protocol(buffer, limit, limit, /*strict_read=*/false,
                                             /*strict_write=*/true);
    g.read(&protocol);
    if (buffer->available_read() != 0) {
      return InvalidArgumentError("trailing bytes after collector payload struct");
    }
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("malformed collector payload: ") + e.what());
  }
  if (!g.__isset.schema || !g.__isset.ipAddress || !g.__isset.timestamp || !g.__isset.encoding ||
      !g.__isset.collector) {
    return InvalidArgumentError(
        "collector payload lacks a required field (schema, ipAddress, timestamp, encoding, "
        "collector)");
  }
  CollectorPayload p;
  p.schema = std::move(g.schema);
  p.ip_address = std::move(g.ipAddress);
  p.timestamp_ms = g.timestamp;
  p.encoding = std::move(g.encoding);
  p.collector = std::move(g.collector);
  p.user_agent = IfSet(g.__isset.userAgent, g.userAgent);
  p.referer_uri = IfSet(g.__isset.refererUri, g.refererUri);
  p.path = IfSet(g.__isset.path, g.path);
  p.querystring = IfSet(g.__isset.querystring, g.querystring);
  p.body = IfSet(g.__isset.body, g.body);
  p.headers = IfSet(g.__isset.headers, g.headers);
  p.content_type = IfSet(g.__isset.contentType, g.contentType);
  p.hostname = IfSet(g.__isset.hostname, g.hostname);
  p.network_user_id = IfSet(g.__isset.networkUserId, g.networkUserId);
  return p;
}

std::string CollectorPayloadToJson(const CollectorPayload& payload) {
  std::string out;
  out.reserve(256 + payload.body.value_or("").size());
  auto field = [&out](std::string_view name, std::string_view value) {
    out += out.size() == 1 ? "\"" : ",\"";
    out += name;
    out += "\":";
    AppendJsonString(&out, value);
  };
  out = "{";
  field("schema", payload.schema);
  field("ipAddress", payload.ip_address);
  out += ",\"timestamp\":";
  out += std::to_string(payload.timestamp_ms);
  field("encoding", payload.encoding);
  field("collector", payload.collector);
  if (payload.user_agent) field("userAgent", *payload.user_agent);
  if (payload.referer_uri) field("refererUri", *payload.referer_uri);
  if (payload.path) field("path", *payload.path);
  if (payload.querystring) field("querystring", *payload.querystring);
  if (payload.body) field("body", *payload.body);
  if (payload.headers) {
    out += ",\"headers\":[";
    for (size_t i = 0; i < payload.headers->size(); ++i) {
      if (i > 0) out += ',';
      AppendJsonString(&out, (*payload.headers)[i]);
    }
    out += ']';
  }
  if (payload.content_type) field("contentType", *payload.content_type);
  if (payload.hostname) field("hostname", *payload.hostname);
  if (payload.network_user_id) field("networkUserId", *payload.network_user_id);
  out += '}';
  return out;
}

}  // namespace furrow::tracker
