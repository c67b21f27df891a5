// podagent validate [-o json|yaml] FILE...: checks manifests (Pods,
// ConfigMaps and Secrets) as the agent would read them (decode, apply the
// API server's defaults, validate) and prints every problem as
//   FILE: error: [WHERE: ]FIELD: MESSAGE
//   FILE: warning: [WHERE: ]FIELD: MESSAGE
// on stderr, WHERE naming the document or List item when the file holds
// several objects. No line ever shows a Secret's values. Without -o, each
// valid file gets "FILE: ok (N pods[, N ConfigMaps][, N Secrets])" on
// stdout; with -o, stdout gets the defaulted objects (one object, or a v1
// List: ConfigMaps, Secrets, then pods, file by file, in the order apply
// sends them), a Secret's data base64-encoded as the API shows it, and only
// when every file is valid, so that a redirect never captures a partial
// result.

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <type_traits>

#include "agent/cli/commands.h"
#include "agent/cli/flags.h"
#include "agent/config_object_persistence.h"
#include "model/config_object_codec.h"
#include "model/defaults.h"
#include "model/document.h"
#include "model/pod_codec.h"
#include "model/validation.h"

namespace podagent::cli {
namespace {

// The whole of `path` ("-": stdin), or why not.
base::Result<std::string> read_input(const std::string& path) {
  std::FILE* file = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (file == nullptr) return base::Error(std::strerror(errno));
  std::string text;
  char buffer[8192];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) text.append(buffer, n);
  const int error = std::ferror(file) != 0 ? errno : 0;
  if (file != stdin) std::fclose(file);
  if (error != 0) return base::Error(std::strerror(error));
  return text;
}

class Report {
 public:
  explicit Report(std::string file) : file_(std::move(file)) {}

  void error(std::string_view where, const std::string& text) {
    line("error", where, text);
    ++errors_;
  }
  void warning(std::string_view where, const std::string& text) { line("warning", where, text); }
  int errors() const { return errors_; }

 private:
  void line(const char* severity, std::string_view where, const std::string& text) {
    std::fprintf(stderr, "%s: %s: %s%s%s\n", file_.c_str(), severity, std::string(where).c_str(),
                 where.empty() ? "" : ": ", text.c_str());
  }
  std::string file_;
  int errors_ = 0;
};

// Whether `field` is `error.field` or inside it, for some error of `errors`.
bool is_under_any(std::string_view field, const model::FieldErrors& errors) {
  for (const model::FieldError& e : errors) {
    if (!field.starts_with(e.field)) continue;
    if (field.size() == e.field.size() || field[e.field.size()] == '.' ||
        field[e.field.size()] == '[')
      return true;
  }
  return false;
}

// An object with decoding errors is still validated, so that one run
// reports every problem, unless it is not of its kind at all. Validation
// errors about a field that failed to decode are left out: they would only
// repeat it.
template <typename Decoded>
bool validatable(const Decoded& d) {
  for (const model::FieldError& e : d.errors)
    if (e.field.empty() || e.field == "kind" || e.field == "apiVersion") return false;
  return true;
}

model::Pod& object_of(model::DecodedPod& d) { return d.pod; }
model::ConfigMap& object_of(model::DecodedConfigMap& d) { return d.object; }
model::Secret& object_of(model::DecodedSecret& d) { return d.object; }

model::FieldErrors validate_object(const model::Pod& p) { return model::validate_pod(p); }
model::FieldErrors validate_object(const model::ConfigMap& c) {
  return model::validate_config_map(c);
}
model::FieldErrors validate_object(const model::Secret& s) { return model::validate_secret(s); }

model::Node encode_object(const model::Pod& p) { return model::encode_pod(p); }
model::Node encode_object(const model::ConfigMap& c) { return model::encode_config_map(c); }
model::Node encode_object(const model::Secret& s) { return model::encode_secret(s); }

// The model promises that a Secret's errors hold none of its values; the
// terminal is no place to find out otherwise, so the API's redaction is
// applied on top.
template <typename Decoded>
model::FieldErrors shown(model::FieldErrors errors) {
  if constexpr (std::is_same_v<Decoded, model::DecodedSecret>)
    return agent::redact_secret_errors(std::move(errors));
  else
    return errors;
}

// Reports the problems of one decoded object; defaults it. Returns whether
// it is valid.
template <typename Decoded>
bool check(Report& report, Decoded& d) {
  for (const model::FieldError& w : shown<Decoded>(d.warnings))
    report.warning(d.where, w.to_string());
  for (const model::FieldError& e : shown<Decoded>(d.errors)) report.error(d.where, e.to_string());
  if (!validatable(d)) return false;
  auto& object = object_of(d);
  model::apply_defaults(object);
  model::FieldErrors errors = shown<Decoded>(validate_object(object));
  for (const model::FieldError& e : errors)
    if (!is_under_any(e.field, d.errors)) report.error(d.where, e.to_string());
  return errors.empty() && d.errors.empty();
}

struct Counts {
  size_t pods = 0;
  size_t config_maps = 0;
  size_t secrets = 0;
};

// "1 pod, 2 ConfigMaps": pods always when there is nothing else, so that a
// file of pods reads as it always has.
std::string describe(const Counts& n) {
  std::string out;
  auto add = [&out](size_t count, const char* one, const char* many) {
    out += (out.empty() ? "" : ", ") + std::to_string(count) + " " + (count == 1 ? one : many);
  };
  if (n.pods > 0 || (n.config_maps == 0 && n.secrets == 0)) add(n.pods, "pod", "pods");
  if (n.config_maps > 0) add(n.config_maps, "ConfigMap", "ConfigMaps");
  if (n.secrets > 0) add(n.secrets, "Secret", "Secrets");
  return out;
}

// Checks every object of `decoded` of one kind; appends the valid ones,
// encoded, to `valid`. Returns how many were valid.
template <typename Decoded>
size_t check_all(Report& report, std::vector<Decoded>& decoded, std::vector<model::Node>& valid) {
  size_t n = 0;
  for (Decoded& d : decoded) {
    if (!check(report, d)) continue;
    valid.push_back(encode_object(object_of(d)));
    ++n;
  }
  return n;
}

// Checks one file; appends its valid, defaulted objects (encoded) to
// `objects` and counts them in `counts`. Returns whether the file is valid.
bool validate_file(const std::string& file, std::vector<model::Node>& objects, Counts& counts) {
  Report report(file);
  auto text = read_input(file);
  if (!text) {
    report.error("", "cannot read: " + text.error().message);
    return false;
  }
  model::DecodeResult decoded = model::decode_pods(*text);
  for (const model::FieldError& e : decoded.errors) report.error("", e.to_string());
  std::vector<model::Node> valid;
  Counts n;
  // The order apply sends them in: pods may read ConfigMaps and Secrets.
  n.config_maps = check_all(report, decoded.config_maps, valid);
  n.secrets = check_all(report, decoded.secrets, valid);
  n.pods = check_all(report, decoded.pods, valid);
  if (decoded.errors.empty() && decoded.pods.empty() && decoded.config_maps.empty() &&
      decoded.secrets.empty())
    report.warning("", "no pods, ConfigMaps or Secrets in file");
  if (report.errors() > 0) return false;
  for (model::Node& object : valid) objects.push_back(std::move(object));
  counts = n;
  return true;
}

std::string render(std::vector<model::Node> objects, const std::string& format) {
  model::Node out;
  if (objects.size() == 1) {
    out = std::move(objects.front());
  } else {
    out = model::Node::map();
    out.set("apiVersion", model::Node::string("v1"));
    out.set("kind", model::Node::string("List"));
    model::Node items = model::Node::sequence();
    for (model::Node& object : objects) items.push(std::move(object));
    out.set("items", std::move(items));
  }
  if (format == "json") return model::to_json(out, /*pretty=*/true) + "\n";
  std::string yaml = model::to_yaml(out);
  if (!yaml.empty() && yaml.back() != '\n') yaml += '\n';
  return yaml;
}

constexpr std::string_view kUsage =
    "Usage: podagent validate [-o json|yaml] FILE...\n\n"
    "Checks manifests of Pods, ConfigMaps and Secrets (YAML or JSON; one object,\n"
    "a List of them, or several '---' documents) as podagent reads them: decoding,\n"
    "Kubernetes defaults and validation. '-' reads stdin. Exit status: 0 all\n"
    "valid, 1 some file invalid, 2 usage error.\n\n"
    "  -o, --output FORMAT  print the defaulted objects as json or yaml (only when all are\n"
    "                       valid; a Secret's data base64-encoded, as the API shows it)\n";

}  // namespace

int validate_command(std::span<char* const> args) {
  static const FlagSpec kSpecs[] = {{"--output", "-o", true}, {"--help", "-h", false}};
  auto parsed = parse_flags(args, kSpecs);
  std::string problem;
  if (!parsed) {
    problem = parsed.error().to_string();
  } else if (parsed->has("--help")) {
    std::fputs(kUsage.data(), stdout);
    return kExitOk;
  } else if (parsed->positional.empty()) {
    problem = "no FILE given";
  } else if (std::string o = parsed->value("--output");
             parsed->has("--output") && o != "json" && o != "yaml") {
    problem = "-o wants json or yaml, not \"" + o + "\"";
  }
  if (!problem.empty()) {
    std::fprintf(stderr, "podagent validate: %s\n\n%s", problem.c_str(), kUsage.data());
    return kExitUsage;
  }

  const std::string format = parsed->value("--output");
  std::vector<model::Node> objects;
  bool all_valid = true;
  for (const std::string& file : parsed->positional) {
    Counts counts;
    if (!validate_file(file, objects, counts)) {
      all_valid = false;
    } else if (format.empty()) {
      std::printf("%s: ok (%s)\n", file.c_str(), describe(counts).c_str());
    }
  }
  if (!format.empty() && all_valid && !objects.empty())
    std::fputs(render(std::move(objects), format).c_str(), stdout);
  return all_valid ? kExitOk : kExitFailure;
}

}  // namespace podagent::cli
