// furrow's CollectorPayload IDL: the raw record the collector writes to raw-good.
//
// Wire-compatible with iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0
// (field ids and types below are the contract; see
// ../shared/reference/snowplow-protocol.md section 2). Serialised with the Thrift
// binary protocol, one struct per stream record. Written by furrow from the public
// field table; C++ is generated at build time (src/tracker/CMakeLists.txt).

namespace cpp furrow.tracker.thrift

struct CollectorPayload {
  31337: string schema
  100: string ipAddress
  200: i64 timestamp
  210: string encoding
  220: string collector
  300: optional string userAgent
  310: optional string refererUri
  320: optional string path
  330: optional string querystring
  340: optional binary body
  350: optional list<string> headers
  360: optional string contentType
  400: optional string hostname
  410: optional string networkUserId
}
