#include "base/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace tmt {
namespace {

void fsync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0 || ::fsync(fd) != 0) {
    const std::string reason = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot flush '" + path + "' to disk: " + reason);
  }
  ::close(fd);
}

// Fault injection for tests: TMT_FAULT_WRITE_DELAY_MS holds every write for that long between
// writing the temporary file and renaming it, so that a test can kill a process mid-write.
void fault_write_delay() {
  static const long delay_ms = [] {
    const char* value = std::getenv("TMT_FAULT_WRITE_DELAY_MS");
    return value != nullptr ? std::strtol(value, nullptr, 10) : 0L;
  }();
  if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
}

}  // namespace

void write_atomically(const std::string& path, const std::function<void(const std::string&)>& write) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  try {
    write(tmp);
    fault_write_delay();
    fsync_path(tmp);
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
      throw std::runtime_error("cannot rename '" + tmp + "' to '" + path + "': " + std::strerror(errno));
    }
  } catch (const std::exception& e) {
    std::remove(tmp.c_str());
    throw std::runtime_error("writing '" + path + "' failed: " + e.what());
  }
}

void write_text_atomically(const std::string& path, const std::string& text) {
  write_atomically(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) throw std::runtime_error("cannot write '" + tmp + "': " + std::strerror(errno));
  });
}

}  // namespace tmt
