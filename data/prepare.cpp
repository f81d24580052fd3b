#include "data/prepare.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "data/corpus.h"
#include "data/text_file.h"
#include "data/vocabulary.h"

namespace tmt {
namespace {

namespace fs = std::filesystem;

// One split's two sides, read and checked, with the pairs that survive UTF-8 checking.
struct RawSplit {
  SplitReport report;
  std::vector<std::string> src;
  std::vector<std::string> tgt;
};

RawSplit read_split(const DataConfig& config, const std::string& name, const std::string& prefix) {
  RawSplit split;
  split.report.name = name;
  split.report.src_path = find_corpus_file(config.dir, prefix, config.src_lang);
  split.report.tgt_path = find_corpus_file(config.dir, prefix, config.tgt_lang);
  TextFile src = read_text_file(split.report.src_path);
  TextFile tgt = read_text_file(split.report.tgt_path);
  if (src.lines.size() != tgt.lines.size()) {
    throw std::invalid_argument("'" + src.path + "' has " + std::to_string(src.lines.size()) + " lines but '" +
                                tgt.path + "' has " + std::to_string(tgt.lines.size()) +
                                ": the two sides of a parallel corpus must align line by line");
  }
  split.report.read = static_cast<int64_t>(src.lines.size());
  std::vector<bool> bad(src.lines.size(), false);
  for (const TextFile* side : {&src, &tgt}) {
    if (!side->invalid_utf8_lines.empty() && !config.skip_invalid) {
      throw std::invalid_argument(side->path + ":" + std::to_string(side->invalid_utf8_lines.front()) +
                                  ": not valid UTF-8 (" + std::to_string(side->invalid_utf8_lines.size()) +
                                  " such lines in the file; set data.skip_invalid: true to drop those pairs)");
    }
    for (int64_t line : side->invalid_utf8_lines) bad[line - 1] = true;
  }
  for (size_t i = 0; i < src.lines.size(); ++i) {
    if (bad[i]) {
      ++split.report.invalid_utf8;
      continue;
    }
    split.src.push_back(std::move(src.lines[i]));
    split.tgt.push_back(std::move(tgt.lines[i]));
  }
  return split;
}

[[noreturn]] void no_pairs_left(const SplitReport& r, const std::string& why) {
  throw std::invalid_argument("no training pairs left after filtering '" + r.src_path + "' and '" + r.tgt_path +
                              "' (" + std::to_string(r.read) + " read: " + why + ")");
}

bool blank(const std::string& line) {
  return std::all_of(line.begin(), line.end(), [](unsigned char c) { return std::isspace(c) != 0; });
}

// Refuses a training split with no pair of two non-blank sides before SentencePiece is trained on
// nothing and says so in its own words.
void require_training_pairs(const RawSplit& train) {
  int64_t blanks = 0;
  for (size_t i = 0; i < train.src.size(); ++i) {
    if (!blank(train.src[i]) && !blank(train.tgt[i])) return;
    ++blanks;
  }
  no_pairs_left(train.report, std::to_string(blanks) + " with a blank side, " +
                                  std::to_string(train.report.invalid_utf8) + " not UTF-8");
}

// Encodes a split; for training, drops empty, over-long and badly proportioned pairs.
void encode_and_write(RawSplit& split, const Vocabulary& vocab, const DataConfig& config, bool filter,
                      const std::string& output) {
  std::vector<std::vector<int32_t>> src_ids, tgt_ids;
  src_ids.reserve(split.src.size());
  tgt_ids.reserve(split.tgt.size());
  SplitReport& r = split.report;
  for (size_t i = 0; i < split.src.size(); ++i) {
    std::vector<int32_t> s = vocab.encode(split.src[i]);
    std::vector<int32_t> t = vocab.encode(split.tgt[i]);
    if (filter) {
      const auto ls = static_cast<double>(s.size()), lt = static_cast<double>(t.size());
      if (s.empty() || t.empty()) {
        ++r.empty;
        continue;
      }
      if (ls > static_cast<double>(config.max_len) || lt > static_cast<double>(config.max_len)) {
        ++r.too_long;
        continue;
      }
      if (std::max(ls, lt) / std::min(ls, lt) > config.max_ratio) {
        ++r.bad_ratio;
        continue;
      }
    }
    r.src_tokens += static_cast<int64_t>(s.size());
    r.tgt_tokens += static_cast<int64_t>(t.size());
    src_ids.push_back(std::move(s));
    tgt_ids.push_back(std::move(t));
  }
  r.kept = static_cast<int64_t>(src_ids.size());
  if (filter && r.kept == 0) {
    std::ostringstream why;
    why << r.empty << " with an empty side, " << r.too_long << " over data.max_len " << config.max_len << ", "
        << r.bad_ratio << " over data.max_ratio " << config.max_ratio << ", " << r.invalid_utf8 << " not UTF-8";
    no_pairs_left(r, why.str());
  }
  r.output = output;
  write_corpus(output, src_ids, tgt_ids, vocab.size(), vocab.hash());
}

}  // namespace

std::string vocab_path(const std::string& data_dir) { return (fs::path(data_dir) / "spm.model").string(); }

std::string split_path(const std::string& data_dir, const std::string& split) {
  return (fs::path(data_dir) / (split + ".bin")).string();
}

std::string find_corpus_file(const std::string& dir, const std::string& prefix, const std::string& lang) {
  const fs::path plain = fs::path(dir) / (prefix + "." + lang);
  const fs::path gz = fs::path(dir) / (prefix + "." + lang + ".gz");
  if (fs::exists(plain) && fs::exists(gz)) {
    throw std::invalid_argument("two corpus files for '" + prefix + "." + lang + "' in data.dir '" + dir + "': '" +
                                plain.string() + "' and '" + gz.string() + "'; remove or rename one");
  }
  if (fs::is_regular_file(plain)) return plain.string();
  if (fs::is_regular_file(gz)) return gz.string();
  throw std::invalid_argument("no corpus file for '" + prefix + "." + lang + "' in data.dir '" + dir +
                              "': looked for '" + plain.string() + "' and '" + gz.string() + "'");
}

PrepareReport prepare_data(const DataConfig& config, uint64_t seed, int64_t threads, const std::string& out_dir) {
  if (config.kind != DataKind::parallel) {
    throw std::invalid_argument("tmt prepare needs data.kind 'parallel', got '" + std::string(to_string(config.kind)) + "'");
  }
  // Everything is read and checked before anything is written.
  std::vector<RawSplit> splits;
  splits.push_back(read_split(config, "train", config.train_prefix));
  splits.push_back(read_split(config, "valid", config.valid_prefix));
  for (const std::string& prefix : config.test_prefixes) splits.push_back(read_split(config, prefix, prefix));

  require_training_pairs(splits[0]);

  // Everything is written into a staging folder and moved into place only when all of it is:
  // a failure leaves the data folder as it was, never a vocabulary without its corpora.
  const fs::path staging = fs::path(out_dir) / ".prepare.partial";
  fs::remove_all(staging);
  fs::create_directories(staging);
  struct RemoveStaging {
    fs::path path;
    ~RemoveStaging() {
      std::error_code ignored;
      fs::remove_all(path, ignored);
    }
  } remove_staging{staging};
  PrepareReport report;
  report.vocab_path = vocab_path(staging.string());
  std::vector<std::string> sentences;
  sentences.reserve(splits[0].src.size() * 2);
  sentences.insert(sentences.end(), splits[0].src.begin(), splits[0].src.end());
  sentences.insert(sentences.end(), splits[0].tgt.begin(), splits[0].tgt.end());
  VocabularyOptions options;
  options.model_type = to_string(config.subword_model);
  options.vocab_size = config.vocab_size;
  options.character_coverage = config.character_coverage;
  options.input_sentence_size = config.spm_sentences;
  options.seed = seed;
  options.threads = threads > 0 ? threads : 2;
  const auto start = std::chrono::steady_clock::now();
  report.vocab_long_sentences = train_vocabulary(sentences, options, report.vocab_path);
  report.vocab_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  sentences = {};

  const Vocabulary vocab(report.vocab_path);
  report.vocab_size = vocab.size();
  report.vocab_hash = vocab.hash_hex();
  for (size_t i = 0; i < splits.size(); ++i) {
    encode_and_write(splits[i], vocab, config, /*filter=*/i == 0, split_path(staging.string(), splits[i].report.name));
    report.splits.push_back(splits[i].report);
    splits[i] = RawSplit{};
  }
  // The corpora first, the vocabulary last: a folder with spm.model is a prepared one.
  for (SplitReport& split : report.splits) {
    const std::string target = split_path(out_dir, split.name);
    fs::rename(split.output, target);
    split.output = target;
  }
  fs::rename(report.vocab_path, vocab_path(out_dir));
  report.vocab_path = vocab_path(out_dir);
  return report;
}

}  // namespace tmt
