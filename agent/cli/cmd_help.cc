#include <cstdio>

#include "agent/cli/commands.h"

#ifndef PODAGENT_VERSION
#define PODAGENT_VERSION "unknown"
#endif

namespace podagent::cli {

std::string_view version() { return PODAGENT_VERSION; }

void print_usage(std::FILE* out) {
  std::fputs(
      "podagent runs Kubernetes Pod manifests on this node, without a control plane.\n"
      "\n"
      "Usage:\n"
      "  podagent run [flags]                    run the agent (until SIGTERM or SIGINT)\n"
      "  podagent validate [-o json|yaml] FILE...  check manifests; '-' reads stdin\n"
      "  podagent config [flags]                 print the effective configuration\n"
      "  podagent get pods [NAME...] [-n NS|-A] [-o wide|json|yaml]\n"
      "                                          list the agent's pods\n"
      "  podagent describe pod NAME [-n NS]      show one pod in detail\n"
      "  podagent apply -f FILE                  create the file's pods, ConfigMaps and\n"
      "                                          Secrets, or replace them\n"
      "  podagent delete pod NAME [-n NS] [--grace-period N]\n"
      "                                          delete a pod\n"
      "  podagent logs POD [-c C] [-f] [-p]      print a container's log\n"
      "  podagent exec POD [-c C] -- CMD...      run a command in a container\n"
      "  podagent debug POD --image IMG [--target C] [--name N] [-- CMD...]\n"
      "                                          add an ephemeral container to a pod\n"
      "  podagent soak [--pods N] [--duration D] [--json FILE]\n"
      "                                          soak-test restart policies on a running agent\n"
      "  podagent image import FILE [--name REF] | ls | rm REF\n"
      "                                          manage the node's local images\n"
      "  podagent version                        print the version\n"
      "  podagent help                           print this text\n"
      "\n"
      "The client commands (get, describe, apply, delete, logs, exec, debug) talk to the agent on\n"
      "its API socket: --socket PATH, else api.socket of the configuration.\n"
      "'podagent COMMAND --help' describes a command's flags. The configuration is\n"
      "documented field by field in config/podagent.yaml.\n",
      out);
}

int version_command(std::span<char* const> /*args*/) {
  std::printf("podagent %.*s\n", static_cast<int>(version().size()), version().data());
  return kExitOk;
}

int help_command(std::span<char* const> /*args*/) {
  print_usage(stdout);
  return kExitOk;
}

}  // namespace podagent::cli
