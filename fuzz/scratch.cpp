#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "fuzz/fuzz_targets.h"

namespace tmt::fuzz {

std::string scratch_file(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("tmt_fuzz_" + std::to_string(::getpid()) + "_" + name))
                               .string();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) throw std::runtime_error("fuzz: cannot write scratch file " + path);
  return path;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void require(bool holds, const std::string& what) {
  if (!holds) throw std::logic_error("fuzz invariant: " + what);
}

}  // namespace tmt::fuzz
