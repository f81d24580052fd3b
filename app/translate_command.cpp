#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/config.h"
#include "app/logging.h"
#include "app/subcommands.h"
#include "data/atomic_file.h"
#include "data/copy_task.h"
#include "decode/greedy.h"
#include "train/checkpoint.h"

namespace tmt {
namespace {

// Sentences decoded together.
constexpr int64_t kTranslateBatch = 64;

// Parses one input line of space-separated token ids.
std::vector<int64_t> parse_ids(const std::string& line, int64_t line_no, int64_t vocab_size) {
  std::vector<int64_t> ids;
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

std::vector<std::string> read_lines(std::istream& in) {
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Greedy copy-task translation of id lines; the start symbol is part of the copied sequence.
std::vector<std::string> translate_lines(Transformer& model, const Config& config,
                                         const std::vector<std::string>& lines) {
  std::vector<std::vector<int64_t>> sources;
  for (size_t i = 0; i < lines.size(); ++i) {
    sources.push_back(parse_ids(lines[i], static_cast<int64_t>(i) + 1, model->vocab().src_size));
  }
  std::vector<std::string> outputs(lines.size());
  const int64_t limit = config.model.max_positions;
  for (size_t begin = 0; begin < sources.size(); begin += kTranslateBatch) {
    const size_t end = std::min(sources.size(), begin + kTranslateBatch);
    std::vector<size_t> rows;
    int64_t width = 0;
    for (size_t i = begin; i < end; ++i) {
      if (sources[i].empty()) continue;  // an empty line translates to an empty line
      if (static_cast<int64_t>(sources[i].size()) > limit) {
        spdlog::warn("[decode] input line {} has {} tokens; truncated to the model's {}", i + 1,
                     sources[i].size(), limit);
        sources[i].resize(limit);
      }
      rows.push_back(i);
      width = std::max<int64_t>(width, static_cast<int64_t>(sources[i].size()));
    }
    if (rows.empty()) continue;
    torch::Tensor src = torch::full({static_cast<int64_t>(rows.size()), width}, model->vocab().pad_id,
                                    torch::kLong);  // [rows, width]
    for (size_t r = 0; r < rows.size(); ++r) {
      const auto& ids = sources[rows[r]];
      src[r].narrow(0, 0, static_cast<int64_t>(ids.size()))
          .copy_(torch::tensor(ids, torch::kLong));
    }
    const int64_t max_len = std::min(max_output_length(config.decode, width), limit - 1);
    const torch::Tensor out = greedy_decode(model, src, CopyTask::kStartId, /*end_id=*/-1, max_len);
    for (size_t r = 0; r < rows.size(); ++r) {
      std::ostringstream line;
      line << CopyTask::kStartId;
      const int64_t src_len = static_cast<int64_t>(sources[rows[r]].size());
      const int64_t n = std::min(out.size(1), max_output_length(config.decode, src_len));
      for (int64_t t = 0; t < n; ++t) line << ' ' << out[r][t].item<int64_t>();
      outputs[rows[r]] = line.str();
    }
  }
  return outputs;
}

}  // namespace

int translate_command(const TranslateArgs& args) {
  setup_logging();
  const CheckpointHeader header = read_checkpoint_header(args.checkpoint);
  Config config = parse_config(header.config_yaml, "checkpoint " + args.checkpoint, args.overrides);
  if (!args.config.empty()) {
    // The architecture always comes from the checkpoint; a config file supplies decoding settings.
    config.decode = load_config(args.config, args.overrides).decode;
  }
  if (config.data.kind != DataKind::copy) {
    throw std::invalid_argument("checkpoint '" + args.checkpoint +
                                "' is a text model; this tmt translates copy-task models only (text "
                                "translation with SentencePiece comes with beam search)");
  }
  Transformer model(config.model, header.vocab);
  load_checkpoint_weights(args.checkpoint, *model);
  model->eval();

  std::vector<std::string> lines;
  if (args.input.empty() || args.input == "-") {
    lines = read_lines(std::cin);
  } else {
    std::ifstream in(args.input);
    if (!in) throw std::invalid_argument("input file '" + args.input + "' cannot be read");
    lines = read_lines(in);
  }
  const auto start = std::chrono::steady_clock::now();
  const std::vector<std::string> outputs = translate_lines(model, config, lines);
  std::ostringstream text;
  for (const auto& line : outputs) text << line << '\n';
  if (args.output.empty() || args.output == "-") {
    std::cout << text.str() << std::flush;
  } else {
    write_text_atomically(args.output, text.str());
  }
  spdlog::info("[decode] {} lines in {:.2f} s", lines.size(), std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return 0;
}

}  // namespace tmt
