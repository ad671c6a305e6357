#include "scripted_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>

namespace furrow::testing {

namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

const char* Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

}  // namespace

ScriptedHttpServer::ScriptedHttpServer(std::vector<ScriptedResponse> script)
    : script_(std::move(script)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(listen_fd_, 16) != 0) {
    std::abort();  // a test harness failure, not a product path
  }
  socklen_t len = sizeof(addr);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Serve(); });
}

ScriptedHttpServer::~ScriptedHttpServer() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
}

std::vector<RecordedRequest> ScriptedHttpServer::Requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

void ScriptedHttpServer::Serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    Handle(fd);
    ::close(fd);
  }
}

void ScriptedHttpServer::Handle(int fd) {
  std::string data;
  char buf[65536];
  size_t head_end = std::string::npos;
  size_t content_length = 0;
  RecordedRequest request;
  while (true) {
    if (head_end == std::string::npos) {
      head_end = data.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        request.raw_head = data.substr(0, head_end);
        size_t line_end = data.find("\r\n");
        std::string line = data.substr(0, line_end);
        size_t sp1 = line.find(' ');
        size_t sp2 = line.find(' ', sp1 + 1);
        request.method = line.substr(0, sp1);
        request.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
        size_t pos = line_end + 2;
        while (pos < head_end) {
          size_t next = data.find("\r\n", pos);
          std::string header = data.substr(pos, next - pos);
          size_t colon = header.find(':');
          if (colon != std::string::npos) {
            request.headers[Lower(header.substr(0, colon))] = Trim(header.substr(colon + 1));
          }
          pos = next + 2;
        }
        auto it = request.headers.find("content-length");
        if (it != request.headers.end()) content_length = std::strtoull(it->second.c_str(), nullptr, 10);
        auto expect = request.headers.find("expect");
        if (expect != request.headers.end() && Lower(expect->second) == "100-continue" &&
            content_length > 0) {
          static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
          if (::send(fd, kContinue, sizeof(kContinue) - 1, MSG_NOSIGNAL) < 0) return;
        }
      }
    }
    if (head_end != std::string::npos && data.size() >= head_end + 4 + content_length) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return;
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) return;
    data.append(buf, static_cast<size_t>(n));
  }
  request.body = data.substr(head_end + 4, content_length);
  size_t index;
  {
    std::lock_guard<std::mutex> lock(mu_);
    index = requests_.size();
    requests_.push_back(request);
  }
  const ScriptedResponse& r = script_[std::min(index, script_.size() - 1)];
  if (r.hang) {
    // Wait for the client to close the connection (or for the server to stop).
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      int ready = ::poll(&p, 1, 50);
      if (ready < 0) return;
      if (ready > 0 && ::read(fd, buf, sizeof(buf)) <= 0) return;
    }
    return;
  }
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + Reason(r.status) + "\r\n";
  for (const auto& [name, value] : r.headers) out += name + ": " + value + "\r\n";
  if (request.method != "HEAD") out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  out += "Connection: close\r\n\r\n";
  if (request.method != "HEAD") out += r.body;
  size_t sent = 0;
  while (sent < out.size()) {
    ssize_t n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<size_t>(n);
  }
}

}  // namespace furrow::testing
