#include "data/corpus.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "base/atomic_file.h"

namespace tmt {
namespace {

constexpr char kMagic[8] = {'T', 'M', 'T', 'C', 'O', 'R', 'P', '\0'};
constexpr size_t kHeaderBytes = 64;

// The on-disk header, exactly 64 bytes.
struct RawHeader {
  char magic[8];
  uint32_t version;
  uint32_t token_bytes;
  int64_t vocab_size;
  uint64_t vocab_hash;
  int64_t pairs;
  int64_t src_tokens;
  int64_t tgt_tokens;
  uint64_t reserved;
};
static_assert(sizeof(RawHeader) == kHeaderBytes, "corpus header must be 64 bytes");

std::string hex(uint64_t v) {
  std::ostringstream s;
  s << std::hex << std::setw(16) << std::setfill('0') << v;
  return s.str();
}

uint64_t expected_bytes(const CorpusHeader& h) {
  return kHeaderBytes + 2 * (static_cast<uint64_t>(h.pairs) + 1) * sizeof(uint64_t) +
         static_cast<uint64_t>(h.src_tokens + h.tgt_tokens) * h.token_bytes;
}

// The index of the first of `count` ids (of token_bytes each) that is >= limit; count if none.
uint64_t first_id_at_least(const unsigned char* ids, uint64_t count, uint32_t token_bytes, int64_t limit) {
  for (uint64_t t = 0; t < count; ++t) {
    uint32_t id = 0;
    if (token_bytes == 2) {
      uint16_t narrow = 0;
      std::memcpy(&narrow, ids + 2 * t, 2);
      id = narrow;
    } else {
      std::memcpy(&id, ids + 4 * t, 4);
    }
    if (static_cast<int64_t>(id) >= limit) return t;
  }
  return count;
}

template <typename T>
void write_tokens(std::ofstream& out, const std::vector<std::vector<int32_t>>& side) {
  std::vector<T> buffer;
  for (const auto& sentence : side) {
    buffer.assign(sentence.begin(), sentence.end());
    out.write(reinterpret_cast<const char*>(buffer.data()), static_cast<std::streamsize>(buffer.size() * sizeof(T)));
  }
}

void write_offsets(std::ofstream& out, const std::vector<std::vector<int32_t>>& side) {
  std::vector<uint64_t> offsets{0};
  offsets.reserve(side.size() + 1);
  for (const auto& sentence : side) offsets.push_back(offsets.back() + sentence.size());
  out.write(reinterpret_cast<const char*>(offsets.data()), static_cast<std::streamsize>(offsets.size() * sizeof(uint64_t)));
}

}  // namespace

void write_corpus(const std::string& path, const std::vector<std::vector<int32_t>>& src,
                  const std::vector<std::vector<int32_t>>& tgt, int64_t vocab_size, uint64_t vocab_hash) {
  if (src.size() != tgt.size()) {
    throw std::invalid_argument("write_corpus: " + std::to_string(src.size()) + " source and " +
                                std::to_string(tgt.size()) + " target sentences for '" + path + "'");
  }
  RawHeader h{};
  std::memcpy(h.magic, kMagic, sizeof(kMagic));
  h.version = kCorpusFormatVersion;
  h.token_bytes = vocab_size <= 65536 ? 2 : 4;
  h.vocab_size = vocab_size;
  h.vocab_hash = vocab_hash;
  h.pairs = static_cast<int64_t>(src.size());
  for (const auto& s : src) h.src_tokens += static_cast<int64_t>(s.size());
  for (const auto& t : tgt) h.tgt_tokens += static_cast<int64_t>(t.size());
  write_atomically(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(&h), sizeof(h));
    write_offsets(out, src);
    write_offsets(out, tgt);
    if (h.token_bytes == 2) {
      write_tokens<uint16_t>(out, src);
      write_tokens<uint16_t>(out, tgt);
    } else {
      write_tokens<uint32_t>(out, src);
      write_tokens<uint32_t>(out, tgt);
    }
    out.close();
    if (!out) throw std::runtime_error(std::string("cannot write '") + tmp + "': " + std::strerror(errno));
  });
}

ParallelCorpus::ParallelCorpus(const std::string& path, int64_t vocab_size, uint64_t vocab_hash,
                               const std::string& vocab_path)
    : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw std::runtime_error("cannot open corpus '" + path + "': " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot stat corpus '" + path + "': " + std::strerror(errno));
  }
  bytes_ = static_cast<size_t>(st.st_size);
  if (bytes_ < kHeaderBytes) {
    ::close(fd);
    throw std::runtime_error("'" + path + "' is not a tmt corpus: " + std::to_string(bytes_) +
                             " bytes, shorter than the header");
  }
  void* map = ::mmap(nullptr, bytes_, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) throw std::runtime_error("cannot map corpus '" + path + "': " + std::strerror(errno));
  data_ = static_cast<const unsigned char*>(map);

  try {
    RawHeader h{};
    std::memcpy(&h, data_, sizeof(h));
    if (std::memcmp(h.magic, kMagic, sizeof(kMagic)) != 0) {
      throw std::runtime_error("'" + path + "' is not a tmt corpus (no TMTCORP magic)");
    }
    if (h.version != kCorpusFormatVersion) {
      throw std::runtime_error("corpus '" + path + "' has format version " + std::to_string(h.version) +
                               ", this tmt reads version " + std::to_string(kCorpusFormatVersion) +
                               ": re-run tmt prepare");
    }
    header_ = CorpusHeader{h.version, h.token_bytes, h.vocab_size, h.vocab_hash, h.pairs, h.src_tokens, h.tgt_tokens};
    // Counts no file of this size can hold are refused before expected_bytes() could overflow.
    const auto at_most = static_cast<int64_t>(bytes_);
    if ((h.token_bytes != 2 && h.token_bytes != 4) || h.pairs < 0 || h.src_tokens < 0 || h.tgt_tokens < 0 ||
        h.pairs > at_most / 16 || h.src_tokens > at_most || h.tgt_tokens > at_most || expected_bytes(header_) != bytes_) {
      throw std::runtime_error("corpus '" + path + "' is truncated or corrupt: " + std::to_string(bytes_) +
                               " bytes, its header describes " + std::to_string(expected_bytes(header_)));
    }
    if (h.vocab_hash != vocab_hash || h.vocab_size != vocab_size) {
      throw std::runtime_error("corpus '" + path + "' was binarised with a SentencePiece model of hash " +
                               hex(h.vocab_hash) + " (" + std::to_string(h.vocab_size) + " pieces), but '" +
                               vocab_path + "' has hash " + hex(vocab_hash) + " (" + std::to_string(vocab_size) +
                               " pieces): re-run tmt prepare");
    }
    src_offsets_ = reinterpret_cast<const uint64_t*>(data_ + kHeaderBytes);
    tgt_offsets_ = src_offsets_ + h.pairs + 1;
    src_base_ = kHeaderBytes + 2 * (static_cast<uint64_t>(h.pairs) + 1) * sizeof(uint64_t);
    tgt_base_ = src_base_ + static_cast<uint64_t>(h.src_tokens) * h.token_bytes;
    for (int64_t i = 0; i < h.pairs; ++i) {
      if (src_offsets_[i] > src_offsets_[i + 1] || tgt_offsets_[i] > tgt_offsets_[i + 1]) {
        throw std::runtime_error("corpus '" + path + "' is corrupt: offsets decrease at pair " + std::to_string(i));
      }
    }
    if (src_offsets_[0] != 0 || tgt_offsets_[0] != 0 ||
        src_offsets_[h.pairs] != static_cast<uint64_t>(h.src_tokens) ||
        tgt_offsets_[h.pairs] != static_cast<uint64_t>(h.tgt_tokens)) {
      throw std::runtime_error("corpus '" + path + "' is corrupt: offsets do not span its tokens");
    }
    // Ids outside the vocabulary would index past the embedding table (a device assert on a GPU).
    const uint64_t tokens = static_cast<uint64_t>(h.src_tokens + h.tgt_tokens);
    const uint64_t first_bad = first_id_at_least(data_ + src_base_, tokens, h.token_bytes, h.vocab_size);
    if (first_bad != tokens) {
      throw std::runtime_error("corpus '" + path + "' is corrupt: token " + std::to_string(first_bad) +
                               " is outside the vocabulary of " + std::to_string(h.vocab_size) + " pieces");
    }
  } catch (...) {
    ::munmap(const_cast<unsigned char*>(data_), bytes_);
    data_ = nullptr;
    throw;
  }
}

ParallelCorpus::~ParallelCorpus() {
  if (data_ != nullptr) ::munmap(const_cast<unsigned char*>(data_), bytes_);
}

ParallelCorpus::ParallelCorpus(ParallelCorpus&& other) noexcept { *this = std::move(other); }

ParallelCorpus& ParallelCorpus::operator=(ParallelCorpus&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) ::munmap(const_cast<unsigned char*>(data_), bytes_);
    path_ = std::move(other.path_);
    header_ = other.header_;
    data_ = std::exchange(other.data_, nullptr);
    bytes_ = other.bytes_;
    src_offsets_ = other.src_offsets_;
    tgt_offsets_ = other.tgt_offsets_;
    src_base_ = other.src_base_;
    tgt_base_ = other.tgt_base_;
  }
  return *this;
}

int64_t ParallelCorpus::src_length(int64_t i) const {
  return static_cast<int64_t>(src_offsets_[i + 1] - src_offsets_[i]);
}

int64_t ParallelCorpus::tgt_length(int64_t i) const {
  return static_cast<int64_t>(tgt_offsets_[i + 1] - tgt_offsets_[i]);
}

void ParallelCorpus::copy_tokens(uint64_t begin, uint64_t end, uint64_t base, int64_t* out) const {
  if (header_.token_bytes == 2) {
    const auto* ids = reinterpret_cast<const uint16_t*>(data_ + base);
    for (uint64_t t = begin; t < end; ++t) *out++ = ids[t];
  } else {
    const auto* ids = reinterpret_cast<const uint32_t*>(data_ + base);
    for (uint64_t t = begin; t < end; ++t) *out++ = ids[t];
  }
}

void ParallelCorpus::copy_src(int64_t i, int64_t* out) const {
  copy_tokens(src_offsets_[i], src_offsets_[i + 1], src_base_, out);
}

void ParallelCorpus::copy_tgt(int64_t i, int64_t* out) const {
  copy_tokens(tgt_offsets_[i], tgt_offsets_[i + 1], tgt_base_, out);
}

}  // namespace tmt
