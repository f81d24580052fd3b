#include "data/text_file.h"

#include <sys/stat.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "base/utf8.h"

namespace tmt {
namespace {

// Big blocks keep zlib and the line splitter out of per-character overhead.
constexpr unsigned kBlockSize = 1u << 20;

[[noreturn]] void throw_unreadable(const std::string& path, int err) {
  throw std::invalid_argument("cannot read '" + path + "': " + std::strerror(err));
}

// zlib reports I/O failures as Z_ERRNO (errno holds the reason); everything else is bad data.
[[noreturn]] void throw_zlib_error(const std::string& path, int errnum, const char* message) {
  if (errnum == Z_ERRNO) throw_unreadable(path, errno != 0 ? errno : EIO);
  std::string reason = message != nullptr && *message != '\0' ? message : zError(errnum);
  // gzerror prefixes the path, which our message already names.
  const std::string prefix = path + ": ";
  if (reason.compare(0, prefix.size(), prefix) == 0) reason.erase(0, prefix.size());
  throw std::invalid_argument("'" + path + "' is not a valid gzip file: " + reason);
}

struct GzCloser {
  void operator()(gzFile_s* file) const {
    if (file != nullptr) gzclose_r(file);
  }
};

void add_line(TextFile& result, std::string_view line) {
  result.lines.emplace_back(line);
  if (!is_valid_utf8(line)) result.invalid_utf8_lines.push_back(static_cast<int64_t>(result.lines.size()));
}

// Appends a line that ended in "\n" (at `end`), dropping the "\r" of a "\r\n".
void add_terminated_line(TextFile& result, const char* begin, const char* end) {
  if (end != begin && end[-1] == '\r') --end;
  add_line(result, std::string_view(begin, static_cast<size_t>(end - begin)));
}

}  // namespace

TextFile read_text_file(const std::string& path) {
  // open() succeeds on a directory and zlib would only fail later with a vaguer message.
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) throw_unreadable(path, errno);
  if (S_ISDIR(info.st_mode)) throw_unreadable(path, EISDIR);

  errno = 0;
  std::unique_ptr<gzFile_s, GzCloser> file(gzopen(path.c_str(), "rb"));
  if (!file) throw_unreadable(path, errno != 0 ? errno : ENOMEM);
  gzbuffer(file.get(), kBlockSize);

  TextFile result;
  result.path = path;
  std::string block(kBlockSize, '\0');
  std::string partial;  // the unterminated tail of the previous block
  for (;;) {
    const int n = gzread(file.get(), block.data(), kBlockSize);
    if (n < 0) {
      int errnum = Z_OK;
      const char* message = gzerror(file.get(), &errnum);
      throw_zlib_error(path, errnum, message);
    }
    if (n == 0) break;
    const char* data = block.data();
    const char* end = data + n;
    const char* start = data;
    for (;;) {
      const auto* newline = static_cast<const char*>(std::memchr(start, '\n', static_cast<size_t>(end - start)));
      if (newline == nullptr) break;
      if (partial.empty()) {
        add_terminated_line(result, start, newline);
      } else {
        partial.append(start, newline);
        add_terminated_line(result, partial.data(), partial.data() + partial.size());
        partial.clear();
      }
      start = newline + 1;
    }
    partial.append(start, end);
  }
  // A truncated gzip stream ends with a non-fatal Z_BUF_ERROR that only gzerror reports.
  int errnum = Z_OK;
  const char* message = gzerror(file.get(), &errnum);
  if (errnum != Z_OK) throw_zlib_error(path, errnum, message);
  const int closed = gzclose_r(file.release());
  if (closed != Z_OK) throw_zlib_error(path, closed, nullptr);

  if (!partial.empty()) {
    // The final line has no "\n", so a trailing "\r" is content, not a terminator.
    add_line(result, partial);
  }
  if (result.lines.empty()) throw std::invalid_argument("'" + path + "' is empty");
  return result;
}

}  // namespace tmt
