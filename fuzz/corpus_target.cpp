// The binarised corpus reader: a file it opens has offsets that stay inside it and ids inside
// the vocabulary, so reading every pair is safe; anything else is refused naming the file.

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/corpus.h"
#include "fuzz/fuzz_targets.h"

namespace tmt::fuzz {

void corpus(const uint8_t* data, size_t size) {
  // The vocabulary the caller expects is whatever the header claims, so the fuzzer gets past
  // the hash check to the offsets and ids.
  int64_t vocab_size = 0;
  uint64_t vocab_hash = 0;
  if (size >= 32) {
    std::memcpy(&vocab_size, data + 16, sizeof vocab_size);
    std::memcpy(&vocab_hash, data + 24, sizeof vocab_hash);
  }
  const std::string path = scratch_file("corpus.bin", data, size);
  try {
    const ParallelCorpus corpus(path, vocab_size, vocab_hash, "spm.model");
    int64_t src_total = 0;
    int64_t tgt_total = 0;
    std::vector<int64_t> ids;
    for (int64_t i = 0; i < corpus.size(); ++i) {
      const int64_t src = corpus.src_length(i);
      const int64_t tgt = corpus.tgt_length(i);
      require(src >= 0 && tgt >= 0, "lengths are not negative");
      src_total += src;
      tgt_total += tgt;
      require(src_total <= corpus.header().src_tokens && tgt_total <= corpus.header().tgt_tokens,
              "pairs stay within the token counts");
      ids.resize(static_cast<size_t>(std::max(src, tgt)));
      corpus.copy_src(i, ids.data());
      for (int64_t t = 0; t < src; ++t) require(ids[t] >= 0 && ids[t] < vocab_size, "source ids in the vocabulary");
      corpus.copy_tgt(i, ids.data());
      for (int64_t t = 0; t < tgt; ++t) require(ids[t] >= 0 && ids[t] < vocab_size, "target ids in the vocabulary");
    }
    require(src_total == corpus.header().src_tokens && tgt_total == corpus.header().tgt_tokens,
            "pairs hold every token");
  } catch (const std::runtime_error&) {
  }
}

std::vector<std::string> corpus_seeds() {
  const std::string small = scratch_file("seed_small.bin", nullptr, 0);
  write_corpus(small, {{5, 6, 7}, {}, {8}}, {{20, 21}, {22}, {}}, 100, 0x1234);
  const std::string wide = scratch_file("seed_wide.bin", nullptr, 0);
  write_corpus(wide, {{70000, 1}}, {{2, 69999, 3}}, 70001, 0x5678);  // 4-byte ids
  return {read_file(small), read_file(wide)};
}

}  // namespace tmt::fuzz
