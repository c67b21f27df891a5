#include "agent/auth.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace podagent::agent {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// One CSV record (RFC 4180 quoting: "a,b" and "" for a quote inside);
// nullopt for an unterminated quote.
std::optional<std::vector<std::string>> split_csv(std::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c != '"') {
        fields.back() += c;
      } else if (i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  if (quoted) return std::nullopt;
  return fields;
}

std::vector<std::string> split_groups(std::string_view text) {
  std::vector<std::string> groups;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view g = trim(text.substr(0, comma));
    if (!g.empty()) groups.emplace_back(g);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return groups;
}

base::Result<TokenEntry> parse_token_line(std::string_view line, size_t number) {
  const auto fields = split_csv(line);
  auto fail = [number](std::string_view why) {
    return base::Error(fmt::format("line {}: {}", number, why));
  };
  if (!fields) return fail("unterminated quote");
  if (fields->size() < 3 || fields->size() > 4)
    return fail(fmt::format("expected token,user,uid,\"groups\", found {} fields", fields->size()));
  const std::string_view token = trim((*fields)[0]);
  TokenEntry entry;
  entry.user = std::string(trim((*fields)[1]));
  entry.uid = std::string(trim((*fields)[2]));
  if (token.empty()) return fail("empty token");
  if (entry.user.empty()) return fail("empty user");
  if (fields->size() == 4) entry.groups = split_groups((*fields)[3]);
  const auto role = role_of(entry.groups);
  if (!role)
    return fail(fmt::format("the token of user \"{}\" has no role: add the group \"{}\" or \"{}\"",
                            entry.user, kAdminGroup, kReadOnlyGroup));
  entry.role = *role;
  entry.digest = sha256(token);
  return entry;
}

// XOR-accumulates every byte, so the time does not depend on where the
// digests differ.
bool equal_digests(const std::array<uint8_t, 32>& a, const std::array<uint8_t, 32>& b) {
  volatile uint8_t diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff = diff | static_cast<uint8_t>(a[i] ^ b[i]);
  return diff == 0;
}

std::vector<std::string_view> path_segments(std::string_view target) {
  target = target.substr(0, target.find('?'));
  std::vector<std::string_view> out;
  while (!target.empty()) {
    const size_t slash = target.find('/');
    if (slash != 0) out.push_back(target.substr(0, slash));
    if (slash == std::string_view::npos) break;
    target.remove_prefix(slash + 1);
  }
  return out;
}

std::string verb_of(std::string_view method) {
  if (method == "GET" || method == "HEAD") return "get";
  if (method == "POST") return "create";
  if (method == "PUT") return "update";
  if (method == "PATCH") return "patch";
  if (method == "DELETE") return "delete";
  std::string lower(method);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

// The subresources a read-only caller may not use even with GET: they show
// what containers print, or act inside them.
bool guarded_subresource(std::string_view sub) {
  return sub == "log" || sub == "exec" || sub == "attach" || sub == "portforward" || sub == "proxy";
}

}  // namespace

std::optional<Role> role_of(const std::vector<std::string>& groups) {
  const auto has = [&](std::string_view g) {
    return std::find(groups.begin(), groups.end(), g) != groups.end();
  };
  if (has(kAdminGroup)) return Role::Admin;
  if (has(kReadOnlyGroup)) return Role::ReadOnly;
  return std::nullopt;
}

base::Result<std::vector<TokenEntry>> parse_tokens(std::string_view text) {
  std::vector<TokenEntry> entries;
  size_t number = 0;
  while (!text.empty()) {
    ++number;
    const size_t eol = text.find('\n');
    const std::string_view line = trim(text.substr(0, eol));
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (line.empty() || line.front() == '#') continue;
    auto entry = parse_token_line(line, number);
    if (!entry) return entry.error();
    for (const auto& e : entries)
      if (equal_digests(e.digest, entry->digest))
        return base::Error(fmt::format("line {}: the token of user \"{}\" repeats an earlier token",
                                       number, entry->user));
    entries.push_back(std::move(*entry));
  }
  return entries;
}

base::Result<std::vector<TokenEntry>> load_tokens_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return base::Error(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  auto tokens = parse_tokens(text.str());
  if (!tokens) return base::Error(fmt::format("{}: {}", path.string(), tokens.error().message));
  return tokens;
}

std::optional<ApiError> authorize(const Identity& identity, std::string_view method,
                                  std::string_view target) {
  const auto seg = path_segments(target);
  // /api/v1/namespaces/{ns}/{resource}/{name}/{sub}
  const bool namespaced = seg.size() >= 5 && seg[0] == "api" && seg[2] == "namespaces";
  std::string resource =
      namespaced ? std::string(seg[4]) : std::string(target.substr(0, target.find('?')));
  const std::string name = namespaced && seg.size() >= 6 ? std::string(seg[5]) : "";
  const std::string_view sub = namespaced && seg.size() >= 7 ? seg[6] : std::string_view();
  if (!sub.empty()) resource += "/" + std::string(sub);
  const auto deny = [&](std::string_view verb) {
    std::string why =
        fmt::format("User \"{}\" cannot {} resource \"{}\"", identity.user, verb, resource);
    if (namespaced) why += fmt::format(" in the namespace \"{}\"", seg[3]);
    return forbidden(namespaced ? seg[4] : std::string_view(resource), name, why);
  };
  if (!identity.role) return deny(verb_of(method));
  if (*identity.role == Role::Admin) return std::nullopt;
  if (method != "GET" && method != "HEAD") return deny(verb_of(method));
  if (guarded_subresource(sub)) return deny("get");
  return std::nullopt;
}

std::optional<Identity> ApiAuthenticator::identify_token(std::string_view token) const {
  const auto digest = sha256(token);
  const TokenEntry* found = nullptr;
  // No early exit: every entry is compared, whichever matches.
  for (const auto& entry : tokens_)
    if (equal_digests(entry.digest, digest)) found = &entry;
  if (found == nullptr) return std::nullopt;
  return Identity{found->user, found->groups, found->role};
}

std::optional<ApiError> ApiAuthenticator::authenticate(ApiRequest& request) {
  return authenticate_peer(request, PeerInfo{});
}

std::optional<ApiError> ApiAuthenticator::authenticate_peer(ApiRequest& request,
                                                            const PeerInfo& peer) {
  std::optional<Identity> identity;
  if (peer.client_certificate && !peer.client_certificate->common_name.empty()) {
    const auto& cert = *peer.client_certificate;
    identity = Identity{cert.common_name, cert.organizations, role_of(cert.organizations)};
  } else {
    // "Bearer <token>", the scheme in any case, as the API server reads it.
    const std::string_view header = trim(request.authorization);
    const size_t space = header.find(' ');
    if (space != std::string_view::npos) {
      std::string scheme(header.substr(0, space));
      std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      const std::string_view token = trim(header.substr(space + 1));
      if (scheme == "bearer" && !token.empty()) identity = identify_token(token);
    }
  }
  if (!identity) return unauthorized("Unauthorized");
  if (auto denied = authorize(*identity, request.method, request.target)) return denied;
  request.read_only = identity->role != Role::Admin;
  return std::nullopt;
}

base::Status validate_tcp_security(const TcpSecurityOptions& options) {
  if (options.tokens_file.empty() && options.client_ca_file.empty())
    return base::Error(
        "refusing to serve the API on TCP without authentication: set api.tcp.tokensFile "
        "(bearer tokens) or api.tcp.clientCAFile (client certificates), or disable api.tcp",
        "api.tcp.tokensFile");
  if (options.tls_cert_file.empty() != options.tls_key_file.empty())
    return base::Error(
        "set both or neither of api.tcp.tlsCertFile and api.tcp.tlsKeyFile",
        options.tls_cert_file.empty() ? "api.tcp.tlsCertFile" : "api.tcp.tlsKeyFile");
  return {};
}

base::Result<TcpSecurity> prepare_tcp_security(const TcpSecurityOptions& options,
                                               const std::filesystem::path& state_dir,
                                               std::string_view node_name) {
  if (auto s = validate_tcp_security(options); !s) return s.error();
  TcpSecurity out;
  auto serving =
      ensure_serving_cert(state_dir, node_name, options.tls_cert_file, options.tls_key_file);
  if (!serving) return serving.error();
  out.serving = *serving;
  std::vector<TokenEntry> tokens;
  if (!options.tokens_file.empty()) {
    auto loaded = load_tokens_file(options.tokens_file);
    if (!loaded) return base::Error(loaded.error().message, "api.tcp.tokensFile");
    tokens = std::move(*loaded);
  }
  auto tls = TlsContext::make_server(TlsServerOptions{out.serving, options.client_ca_file});
  if (!tls) return base::Error(tls.error().message, "api.tcp");
  out.tls = std::move(*tls);
  out.authenticator = std::make_shared<ApiAuthenticator>(std::move(tokens));
  return out;
}

}  // namespace podagent::agent
