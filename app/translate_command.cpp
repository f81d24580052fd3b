#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/config.h"
#include "app/decoding_model.h"
#include "app/logging.h"
#include "app/subcommands.h"
#include "base/atomic_file.h"
#include "base/input_file.h"
#include "data/task.h"
#include "decode/beam_search.h"
#include "decode/greedy.h"
#include "decode/length_batches.h"
#include "model/cpu_runtime.h"

namespace tmt {
namespace {

// One input line as ids (the end symbol included for text), empty for an empty line.
using Source = std::vector<int64_t>;

std::vector<std::string> read_lines(const std::string& input) {
  std::ifstream file;
  if (!input.empty() && input != "-") {
    require_readable_file(input, "input file");
    file.open(input);
    if (!file) throw std::invalid_argument("cannot read input file '" + input + "'");
  }
  std::istream& in = file.is_open() ? file : std::cin;
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Shortens sources over the model's positions, keeping the end symbol if there is one, or
// refuses them (decode.truncate_long).
void fit_to_model(std::vector<Source>& sources, const Config& config, int64_t end_id) {
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
    if (end_id >= 0) sources[i].back() = end_id;
  }
}

// Source lengths for length_batches: 0 for an empty line, which translates to an empty line.
std::vector<int64_t> lengths_of(const std::vector<Source>& sources) {
  std::vector<int64_t> lengths;
  for (const Source& s : sources) lengths.push_back(static_cast<int64_t>(s.size()));
  return lengths;
}

// Greedy decoding to the length limit, for tasks without an end symbol.
std::vector<std::string> translate_greedy(Transformer& model, const Config& config, const Task& task,
                                          const std::vector<Source>& sources) {
  std::vector<std::string> outputs(sources.size());
  for (const auto& rows : length_batches(lengths_of(sources), config.decode.max_tokens)) {
    const torch::Tensor src = pad_rows(sources, rows, model->vocab().pad_id).to(model->parameters().front().device());
    const int64_t max_len = config.decode.output_limit(src.size(1), config.model.max_positions);
    const torch::Tensor out =
        greedy_decode(model, src, task.start_id(), task.end_id(), max_len).to(torch::kCPU);  // [rows, max_len]
    for (size_t r = 0; r < rows.size(); ++r) {
      // Rows shorter than the batch's longest stop at their own limit.
      const auto src_len = static_cast<int64_t>(sources[rows[r]].size());
      const int64_t n = std::min(out.size(1), config.decode.output_limit(src_len, config.model.max_positions));
      const torch::Tensor row = out[static_cast<int64_t>(r)].narrow(0, 0, n).contiguous();
      outputs[rows[r]] = task.format(std::vector<int64_t>(row.data_ptr<int64_t>(), row.data_ptr<int64_t>() + n));
    }
  }
  return outputs;
}

// Beam search; n-best lists in Marian's format.
std::vector<std::string> translate_beam(Transformer& model, const Config& config, const Task& task,
                                        const std::vector<Source>& sources) {
  std::vector<std::string> outputs(sources.size());
  for (const auto& rows : length_batches(lengths_of(sources), config.decode.max_tokens)) {
    const auto results = beam_search(model, pad_rows(sources, rows, model->vocab().pad_id), task.start_id(),
                                     task.end_id(), config.decode);
    for (size_t r = 0; r < rows.size(); ++r) {
      std::ostringstream out;
      for (size_t k = 0; k < results[r].size(); ++k) {
        const Hypothesis& h = results[r][k];
        const std::string text = task.format(h.tokens);
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
  DecodingModel loaded = load_for_decoding(args);
  const Config& config = loaded.config;
  const Task* task = loaded.task.get();
  Transformer& model = loaded.model;
  const torch::Device device = loaded.device;
  const std::vector<std::string> lines = read_lines(args.input);
  const auto start = std::chrono::steady_clock::now();
  std::vector<Source> sources;
  for (size_t i = 0; i < lines.size(); ++i) sources.push_back(task->encode(lines[i], static_cast<int64_t>(i) + 1));
  fit_to_model(sources, config, task->end_id());
  const std::vector<std::string> outputs = task->end_id() < 0 ? translate_greedy(model, config, *task, sources)
                                                              : translate_beam(model, config, *task, sources);
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
