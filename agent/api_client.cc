#include "agent/api_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>

#include "base/unique_fd.h"
#include "model/document.h"

namespace podagent::agent {

namespace {

using Clock = std::chrono::steady_clock;

base::Result<int> connect_unix(const std::string& path) {
  sockaddr_un addr{};
  if (path.empty() || path.size() >= sizeof addr.sun_path)
    return base::Error("invalid API socket path \"" + path + "\"");
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return base::Error(std::string("socket: ") + std::strerror(errno));
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int error = errno;
    ::close(fd);
    return base::Error("cannot connect to the agent at " + path + ": " + std::strerror(error) +
                       " (is podagent running?)");
  }
  return fd;
}

// Reads from the socket into a buffer, every wait bounded by one deadline.
class Reader {
 public:
  Reader(int fd, Clock::time_point deadline) : fd_(fd), deadline_(deadline) {}

  // Appends what arrives next; false on EOF. Errors: timeout, read failure.
  base::Result<bool> fill() {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now()).count();
    pollfd p{fd_, POLLIN, 0};
    if (!unbounded_ && (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) == 0))
      return base::Error("timed out waiting for the agent's answer");
    char chunk[16384];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0) return base::Error(std::string("reading the answer: ") + std::strerror(errno));
    buffer_.append(chunk, static_cast<size_t>(n));
    return n > 0;
  }

  // The buffer up to and without `delimiter`, which is consumed; at most
  // `limit` bytes. Errors: too long, EOF before it.
  base::Result<std::string> until(std::string_view delimiter, size_t limit) {
    for (;;) {
      if (size_t at = buffer_.find(delimiter); at != std::string::npos) {
        if (at > limit) break;
        std::string out = buffer_.substr(0, at);
        buffer_.erase(0, at + delimiter.size());
        return out;
      }
      if (buffer_.size() > limit + delimiter.size()) break;
      auto more = fill();
      if (!more) return more.error();
      if (!*more) return base::Error("the agent closed the connection mid-answer");
    }
    return base::Error("the agent's answer exceeds the client's size limit");
  }

  // From now on, waits without a deadline (blocking reads).
  void unbounded() { unbounded_ = true; }

  // Exactly `n` bytes.
  base::Result<std::string> exactly(size_t n) {
    while (buffer_.size() < n) {
      auto more = fill();
      if (!more) return more.error();
      if (!*more) return base::Error("the agent closed the connection mid-answer");
    }
    std::string out = buffer_.substr(0, n);
    buffer_.erase(0, n);
    return out;
  }

  // Everything to EOF, at most `limit` bytes.
  base::Result<std::string> to_eof(size_t limit) {
    for (;;) {
      if (buffer_.size() > limit) return base::Error("the agent's answer exceeds the size limit");
      auto more = fill();
      if (!more) return more.error();
      if (!*more) return std::move(buffer_);
    }
  }

 private:
  int fd_;
  Clock::time_point deadline_;
  bool unbounded_ = false;
  std::string buffer_;
};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

struct Head {
  int status = 0;
  std::string content_type;
  bool chunked = false;
  std::optional<size_t> content_length;
};

base::Result<Head> parse_head(const std::string& text) {
  Head head;
  size_t eol = text.find("\r\n");
  const std::string_view status_line = std::string_view(text).substr(0, eol);
  if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12)
    return base::Error("the agent's answer is not HTTP");
  head.status = std::atoi(std::string(status_line.substr(9, 3)).c_str());
  while (eol != std::string::npos) {
    const size_t start = eol + 2;
    eol = text.find("\r\n", start);
    const std::string_view line = std::string_view(text).substr(start, eol - start);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string name = lower(trim(line.substr(0, colon)));
    const std::string_view value = trim(line.substr(colon + 1));
    if (name == "content-type") head.content_type = value;
    if (name == "transfer-encoding")
      head.chunked = lower(value).find("chunked") != std::string::npos;
    if (name == "content-length") {
      char* end = nullptr;
      const std::string digits(value);
      const unsigned long long n = std::strtoull(digits.c_str(), &end, 10);
      if (digits.empty() || *end != '\0') return base::Error("invalid Content-Length");
      head.content_length = static_cast<size_t>(n);
    }
  }
  return head;
}

// With `on_body`, each chunk goes to it as it comes instead of into the
// result, and `limit` bounds one chunk rather than the whole body.
base::Result<std::string> read_chunked(Reader& reader, size_t limit,
                                       const std::function<void(std::string_view)>& on_body = {}) {
  std::string body;
  for (;;) {
    auto line = reader.until("\r\n", 256);
    if (!line) return line.error();
    char* end = nullptr;
    const unsigned long long size = std::strtoull(line->c_str(), &end, 16);
    if (end == line->c_str()) return base::Error("invalid chunk size in the agent's answer");
    if (size == 0) return body;  // trailers, if any, are of no interest
    if (body.size() + size > limit) return base::Error("the agent's answer exceeds the size limit");
    auto data = reader.exactly(static_cast<size_t>(size) + 2);
    if (!data) return data.error();
    if (on_body) {
      on_body(std::string_view(*data).substr(0, static_cast<size_t>(size)));
      continue;
    }
    body.append(*data, 0, static_cast<size_t>(size));
  }
}

std::string render_request(const ClientRequest& request) {
  std::string out = request.method + " " + request.target +
                    " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                    "User-Agent: podagent-cli\r\nAccept: " +
                    request.accept + "\r\n";
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT")
    out += "Content-Type: " + request.content_type +
           "\r\nContent-Length: " + std::to_string(request.body.size()) + "\r\n";
  return out + "\r\n" + request.body;
}

base::Status send_all(int fd, std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{fd, POLLOUT, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) == 0)
      return base::Error("timed out sending the request");
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) return base::Error(std::string("sending the request: ") + std::strerror(errno));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

}  // namespace

base::Result<ClientResponse> ApiClient::send(const ClientRequest& request) const {
  return send_streaming(request, nullptr);
}

base::Result<ClientResponse> ApiClient::send_streaming(
    const ClientRequest& request, const std::function<void(std::string_view)>& on_body) const {
  const auto deadline = Clock::now() + options_.timeout;
  auto fd = connect_unix(options_.socket_path);
  if (!fd) return fd.error();
  base::UniqueFd socket(*fd);
  if (auto sent = send_all(socket.get(), render_request(request), deadline); !sent)
    return sent.error();
  Reader reader(socket.get(), deadline);
  auto head_text = reader.until("\r\n\r\n", options_.max_header_bytes);
  if (!head_text) return head_text.error();
  auto head = parse_head(*head_text);
  if (!head) return head.error();
  ClientResponse response{head->status, head->content_type, {}};
  base::Result<std::string> body = std::string();
  if (on_body && head->chunked && head->status == 200) {
    reader.unbounded();
    body = read_chunked(reader, options_.max_body_bytes, on_body);
  } else if (head->chunked) {
    body = read_chunked(reader, options_.max_body_bytes);
  } else if (head->content_length) {
    if (*head->content_length > options_.max_body_bytes)
      return base::Error("the agent's answer exceeds the size limit");
    body = reader.exactly(*head->content_length);
  } else if (head->status != 204 && head->status != 304) {
    body = reader.to_eof(options_.max_body_bytes);
  }
  if (!body) return body.error();
  response.body = std::move(*body);
  return response;
}

namespace {

// The body's Status object, when it is one.
std::optional<model::Node> status_of(const ClientResponse& response) {
  auto docs = model::parse_documents(response.body);
  if (!docs || docs->size() != 1) return std::nullopt;
  const model::Node* kind = docs->front().find("kind");
  if (!kind || kind->text != "Status") return std::nullopt;
  return std::move(docs->front());
}

}  // namespace

std::string api_error_reason(const ClientResponse& response) {
  auto status = status_of(response);
  const model::Node* reason = status ? status->find("reason") : nullptr;
  return reason ? reason->text : "";
}

std::string url_escape(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string api_error_text(const ClientResponse& response) {
  if (auto status = status_of(response); status && status->find("message")) {
    const std::string reason = api_error_reason(response);
    return "Error from server (" + (reason.empty() ? std::to_string(response.status) : reason) +
           "): " + status->find("message")->text;
  }
  std::string body = response.body;
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
  return "Error from server (" + std::to_string(response.status) +
         "): " + (body.empty() ? "the server answered without a message" : body);
}

}  // namespace podagent::agent
