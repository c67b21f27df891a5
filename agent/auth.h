#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/api_errors.h"
#include "agent/http_server.h"
#include "agent/tls_context.h"
#include "base/result.h"

namespace podagent::agent {

// Who may call the API on TCP, and what they may do.
//
// Roles come from groups, for tokens and certificates alike:
//   podagent:admin      read and write everything
//   podagent:read-only  GET/HEAD only; 403 on POST/PUT/PATCH/DELETE and on
//                       the pods/log, exec, attach and portforward
//                       subresources (which read container output or act)
// A caller in both groups is admin. A client certificate in neither group
// gets 403 on every request.
//
// The tokens file (api.tcp.tokensFile) is Kubernetes' static token file,
// CSV, one token a line:
//   token,user,uid,"group1,group2"
//   3f9a...c1,alice,1001,"podagent:admin"
//   77b2...0e,monitor,1002,podagent:read-only
// Blank lines and lines starting with '#' are skipped. A line must name a
// token and a user; a token naming neither role, or repeated, makes the whole
// file invalid (so that a typo never silently demotes or promotes someone).
// Tokens are used as "Authorization: Bearer <token>".
//
// A client certificate (api.tcp.clientCAFile) must be signed by that CA:
// its CN is the user and its O entries are the groups, as in Kubernetes.

enum class Role { ReadOnly, Admin };

inline constexpr std::string_view kAdminGroup = "podagent:admin";
inline constexpr std::string_view kReadOnlyGroup = "podagent:read-only";

struct Identity {
  std::string user;
  std::vector<std::string> groups;
  std::optional<Role> role;  // nullopt: authenticated, but may do nothing
  bool operator==(const Identity&) const = default;
};

// The role the groups give (admin wins), or nullopt.
std::optional<Role> role_of(const std::vector<std::string>& groups);

struct TokenEntry {
  std::string user;
  std::string uid;
  std::vector<std::string> groups;
  Role role = Role::ReadOnly;
  std::array<uint8_t, 32> digest{};  // SHA-256 of the token; the token is not kept
};

// Parses a tokens file's text; errors name the line ("line 3: ...").
base::Result<std::vector<TokenEntry>> parse_tokens(std::string_view text);
// Reads and parses the file; errors name the file and the line.
base::Result<std::vector<TokenEntry>> load_tokens_file(const std::filesystem::path& path);

// Whether `identity` may make this request; the 403 Status when not.
// `method` as sent ("GET"); `target` the request target with its query.
std::optional<ApiError> authorize(const Identity& identity, std::string_view method,
                                  std::string_view target);

// Authenticates by client certificate first (when the connection has a
// verified one), else by bearer token, then authorizes. 401 when neither
// identifies the caller. Read-only callers are also marked
// request.read_only, so the routes refuse writes on their own as well.
// Immutable after construction; used on the io_context thread.
class ApiAuthenticator final : public Authenticator {
 public:
  explicit ApiAuthenticator(std::vector<TokenEntry> tokens) : tokens_(std::move(tokens)) {}

  std::optional<ApiError> authenticate(ApiRequest& request) override;
  std::optional<ApiError> authenticate_peer(ApiRequest& request, const PeerInfo& peer) override;

  // The identity of a bearer token, compared against every entry in
  // constant time (as digests, so neither length nor content leak).
  std::optional<Identity> identify_token(std::string_view token) const;

 private:
  std::vector<TokenEntry> tokens_;
};

// ---- For the composition root ----

// The api.tcp fields that concern security, as in config::TcpListenerConfig.
struct TcpSecurityOptions {
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string client_ca_file;
  std::string tokens_file;
};

// Refuses a TCP listener without any authentication, with an error whose
// field is "api.tcp.tokensFile" and whose message says to set it or
// api.tcp.clientCAFile; and a certificate without its key or the reverse.
base::Status validate_tcp_security(const TcpSecurityOptions& options);

// What listen_tcp needs: the TLS context and the authenticator.
struct TcpSecurity {
  std::shared_ptr<TlsContext> tls;
  std::shared_ptr<ApiAuthenticator> authenticator;
  CertificatePaths serving;  // the configured or generated pair
};

// validate_tcp_security, then ensure_serving_cert (generating a self-signed
// pair under <state_dir>/pki when none is configured), the tokens file and
// the TLS context. Errors name the config field at fault. Blocking file
// I/O; call before serving.
base::Result<TcpSecurity> prepare_tcp_security(const TcpSecurityOptions& options,
                                               const std::filesystem::path& state_dir,
                                               std::string_view node_name);

}  // namespace podagent::agent
