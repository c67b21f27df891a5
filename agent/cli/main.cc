#include <cstdio>
#include <string_view>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: podagent run|validate ...\n");
    return 2;
  }
  (void)argv;
  return 0;
}
