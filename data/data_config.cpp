#include "data/data_config.h"

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>

namespace tmt {
namespace {

// Throws unless value >= minimum, naming the key as it is spelled in the YAML.
void require_at_least(const char* key, int64_t value, int64_t minimum) {
  if (value < minimum) {
    throw std::invalid_argument(std::string("data.") + key + " must be >= " +
                                std::to_string(minimum) + ", got " + std::to_string(value));
  }
}

void require_set(const char* key, const std::string& value, const char* why) {
  if (value.empty()) throw std::invalid_argument(std::string("data.") + key + " must be set " + why);
}

}  // namespace

void DataConfig::validate() const {
  // Every key's range holds whichever task reads it, so a config stays valid when its kind
  // changes. Padding, the start symbol and one symbol to copy; or the four special pieces plus
  // room for real ones.
  require_at_least("vocab_size", vocab_size, kind == DataKind::copy ? 3 : 8);
  // The start symbol plus at least one token to copy.
  require_at_least("seq_len", seq_len, 2);
  require_at_least("batch_size", batch_size, 1);
  require_at_least("valid_size", valid_size, 1);
  if (!(character_coverage > 0.0 && character_coverage <= 1.0)) {
    std::ostringstream s;
    s << "data.character_coverage must be in (0, 1], got " << character_coverage;
    throw std::invalid_argument(s.str());
  }
  require_at_least("spm_sentences", spm_sentences, 0);
  require_at_least("max_len", max_len, 1);
  if (!(max_ratio >= 1.0) || !std::isfinite(max_ratio)) {
    std::ostringstream s;
    s << "data.max_ratio must be a finite number >= 1, got " << max_ratio;
    throw std::invalid_argument(s.str());
  }
  require_at_least("max_tokens", max_tokens, 1);
  require_at_least("pool_batches", pool_batches, 1);
  require_at_least("prefetch", prefetch, 1);
  if (kind == DataKind::copy) return;
  require_set("dir", dir, "for data.kind 'parallel' (the folder holding the corpus files)");
  require_set("src_lang", src_lang, "for data.kind 'parallel'");
  require_set("tgt_lang", tgt_lang, "for data.kind 'parallel'");
  if (src_lang == tgt_lang) {
    throw std::invalid_argument("data.src_lang and data.tgt_lang must differ, both are '" + src_lang + "'");
  }
  require_set("train_prefix", train_prefix, "for data.kind 'parallel'");
  require_set("valid_prefix", valid_prefix, "for data.kind 'parallel'");
}

const char* to_string(DataKind k) { return k == DataKind::copy ? "copy" : "parallel"; }

const char* to_string(SubwordModel m) { return m == SubwordModel::bpe ? "bpe" : "unigram"; }

const char* to_string(Batching b) {
  switch (b) {
    case Batching::fixed: return "fixed";
    case Batching::pool: return "pool";
    case Batching::random: return "random";
  }
  return "?";
}

}  // namespace tmt
