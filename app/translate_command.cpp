#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/config.h"
#include "app/logging.h"
#include "app/subcommands.h"
#include "base/atomic_file.h"
#include "data/copy_task.h"
#include "data/prepare.h"
#include "data/vocabulary.h"
#include "decode/beam_search.h"
#include "decode/greedy.h"
#include "model/checkpoint.h"
#include "model/cpu_runtime.h"
#include "model/device.h"
#include "model/torch_compat.h"

namespace tmt {
namespace {

namespace fs = std::filesystem;

// One input line as ids (the end symbol included for text), empty for an empty line.
using Source = std::vector<int64_t>;

// Parses a copy-task line of space-separated token ids.
Source parse_ids(const std::string& line, int64_t line_no, int64_t vocab_size) {
  Source ids;
  std::istringstream in(line);
  std::string word;
  while (in >> word) {
    size_t used = 0;
    int64_t id = -1;
    try {
      id = std::stoll(word, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != word.size()) {
      throw std::invalid_argument("input line " + std::to_string(line_no) + ": '" + word +
                                  "' is not a token id (the copy task reads space-separated integers)");
    }
    if (id < 0 || id >= vocab_size) {
      throw std::invalid_argument("input line " + std::to_string(line_no) + ": token id " + word +
                                  " is outside the vocabulary [0, " + std::to_string(vocab_size) + ")");
    }
    ids.push_back(id);
  }
  return ids;
}

std::vector<std::string> read_lines(const std::string& input) {
  std::ifstream file;
  if (!input.empty() && input != "-") {
    file.open(input);
    if (!file) throw std::invalid_argument("input file '" + input + "' cannot be read");
  }
  std::istream& in = file.is_open() ? file : std::cin;
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Shortens sources over the model's positions, or refuses them (decode.truncate_long).
void fit_to_model(std::vector<Source>& sources, const Config& config, bool text) {
  const auto limit = static_cast<size_t>(config.model.max_positions);
  for (size_t i = 0; i < sources.size(); ++i) {
    if (sources[i].size() <= limit) continue;
    if (!config.decode.truncate_long) {
      throw std::invalid_argument("input line " + std::to_string(i + 1) + " has " + std::to_string(sources[i].size()) +
                                  " tokens, over model.max_positions " + std::to_string(limit) +
                                  " (set decode.truncate_long: true to truncate)");
    }
    spdlog::warn("[decode] input line {} has {} tokens; truncated to the model's {}", i + 1, sources[i].size(), limit);
    sources[i].resize(limit);
    if (text) sources[i].back() = kEosId;
  }
}

// Groups non-empty sources of similar length into batches of at most decode.max_tokens tokens.
std::vector<std::vector<size_t>> decode_batches(const std::vector<Source>& sources, int64_t max_tokens) {
  std::vector<size_t> order;
  for (size_t i = 0; i < sources.size(); ++i) {
    if (!sources[i].empty()) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return sources[a].size() < sources[b].size(); });
  std::vector<std::vector<size_t>> batches;
  for (size_t i : order) {
    const auto len = static_cast<int64_t>(sources[i].size());
    if (batches.empty() || static_cast<int64_t>(batches.back().size() + 1) * len > max_tokens) batches.emplace_back();
    batches.back().push_back(i);
  }
  return batches;
}

torch::Tensor pad_batch(const std::vector<Source>& sources, const std::vector<size_t>& rows, int64_t pad_id) {
  int64_t width = 0;
  for (size_t i : rows) width = std::max<int64_t>(width, static_cast<int64_t>(sources[i].size()));
  torch::Tensor src = torch::full({static_cast<int64_t>(rows.size()), width}, pad_id, torch::kLong);  // [rows, width]
  for (size_t r = 0; r < rows.size(); ++r) {
    const Source& ids = sources[rows[r]];
    std::copy(ids.begin(), ids.end(), src.data_ptr<int64_t>() + static_cast<int64_t>(r) * width);
  }
  return src;
}

// Copy-task models: greedy decoding of id lines; the start symbol is part of the copy.
std::vector<std::string> translate_copy(Transformer& model, const Config& config, std::vector<Source>& sources) {
  fit_to_model(sources, config, /*text=*/false);
  std::vector<std::string> outputs(sources.size());
  for (const auto& rows : decode_batches(sources, config.decode.max_tokens)) {
    const torch::Tensor src = pad_batch(sources, rows, model->vocab().pad_id).to(model->parameters().front().device());
    const int64_t max_len = config.decode.output_limit(src.size(1), config.model.max_positions);
    const torch::Tensor out =
        greedy_decode(model, src, CopyTask::kStartId, /*end_id=*/-1, max_len).to(torch::kCPU);  // [rows, max_len]
    for (size_t r = 0; r < rows.size(); ++r) {
      std::ostringstream line;
      line << CopyTask::kStartId;
      const auto src_len = static_cast<int64_t>(sources[rows[r]].size());
      const int64_t n = std::min(out.size(1), config.decode.output_limit(src_len, config.model.max_positions));
      for (int64_t t = 0; t < n; ++t) line << ' ' << out[static_cast<int64_t>(r)][t].item<int64_t>();
      outputs[rows[r]] = line.str();
    }
  }
  return outputs;
}

// Text models: SentencePiece in, beam search, SentencePiece out; n-best in Marian's format.
std::vector<std::string> translate_text(Transformer& model, const Config& config, const Vocabulary& vocab,
                                        const std::vector<std::string>& lines) {
  std::vector<Source> sources(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::vector<int32_t> ids = vocab.encode(lines[i]);
    if (ids.empty()) continue;  // an empty line translates to an empty line
    sources[i].assign(ids.begin(), ids.end());
    sources[i].push_back(kEosId);
  }
  fit_to_model(sources, config, /*text=*/true);
  std::vector<std::string> outputs(lines.size());
  for (const auto& rows : decode_batches(sources, config.decode.max_tokens)) {
    const auto results = beam_search(model, pad_batch(sources, rows, kPadId), kBosId, kEosId, config.decode);
    for (size_t r = 0; r < rows.size(); ++r) {
      std::ostringstream out;
      for (size_t k = 0; k < results[r].size(); ++k) {
        const Hypothesis& h = results[r][k];
        const std::string text = vocab.decode(std::vector<int32_t>(h.tokens.begin(), h.tokens.end()));
        if (config.decode.nbest == 1) {
          out << text;
        } else {
          out << (k > 0 ? "\n" : "") << rows[r] << " ||| " << text << " ||| " << std::fixed << std::setprecision(6)
              << h.score;
        }
      }
      outputs[rows[r]] = out.str();
    }
  }
  return outputs;
}

}  // namespace

int translate_command(const TranslateArgs& args) {
  setup_logging();
  const Checkpoint checkpoint = read_checkpoint(args.checkpoint);
  const CheckpointHeader& header = checkpoint.header;
  Config config = parse_config(header.config_yaml, "checkpoint " + args.checkpoint, args.overrides);
  if (!args.config.empty()) {
    // The architecture always comes from the checkpoint; a config file supplies decoding settings.
    config.decode = load_config(args.config, args.overrides).decode;
  }
  if (args.beam > 0) config.decode.beam_size = args.beam;
  if (args.alpha >= 0) config.decode.alpha = args.alpha;
  if (args.nbest > 0) config.decode.nbest = args.nbest;
  if (args.max_tokens > 0) config.decode.max_tokens = args.max_tokens;
  config.decode.validate();

  const torch::Device device = resolve_device(DeviceSpec::parse(args.device));
  if (device.is_cuda()) configure_cuda_kernels();
  Transformer model(config.model, header.vocab);
  load_weights(checkpoint.model, *model, args.checkpoint);
  model->to(device);
  model->eval();
  const std::vector<std::string> lines = read_lines(args.input);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> outputs;
  if (config.data.kind == DataKind::copy) {
    std::vector<Source> sources;
    for (size_t i = 0; i < lines.size(); ++i) {
      sources.push_back(parse_ids(lines[i], static_cast<int64_t>(i) + 1, header.vocab.src_size));
    }
    outputs = translate_copy(model, config, sources);
  } else {
    const std::string spm = args.vocab.empty()
                                ? vocab_path((fs::path(args.checkpoint).parent_path() / "data").string())
                                : args.vocab;
    const Vocabulary vocab(spm);
    if (vocab.size() != header.vocab.tgt_size || vocab.hash_hex() != header.vocab_hash) {
      throw std::invalid_argument("SentencePiece model '" + spm + "' (" + std::to_string(vocab.size()) +
                                  " pieces, hash " + vocab.hash_hex() + ") is not the one checkpoint '" +
                                  args.checkpoint + "' was trained with (" + std::to_string(header.vocab.tgt_size) +
                                  " pieces, hash " + header.vocab_hash + ")");
    }
    outputs = translate_text(model, config, vocab, lines);
  }
  std::ostringstream text;
  for (const auto& line : outputs) text << line << '\n';
  if (args.output.empty() || args.output == "-") {
    std::cout << text.str() << std::flush;
  } else {
    write_text_atomically(args.output, text.str());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  spdlog::info("[decode] {} lines in {:.2f} s ({:.1f} lines/s), beam {}, device {}; CPU: {}", lines.size(), seconds,
               static_cast<double>(lines.size()) / std::max(seconds, 1e-9), config.decode.beam_size, device.str(),
               cpu_engine_description());
  return 0;
}

}  // namespace tmt
