#include "base/input_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace tmt {

void require_readable_file(const std::string& path, const std::string& what) {
  const auto refuse = [&](int error) {
    throw std::invalid_argument("cannot read " + what + " '" + path + "': " + std::strerror(error));
  };
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) refuse(errno);
  if (S_ISDIR(info.st_mode)) refuse(EISDIR);
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) refuse(errno);
  std::fclose(file);
}

}  // namespace tmt
