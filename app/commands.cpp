#include "app/commands.h"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <string>

#include "app/bleu_command.h"
#include "app/subcommands.h"
#include "model/cpu_runtime.h"
#include "model/torch_compat.h"

namespace tmt {
namespace {

std::string version_text() {
  return "tmt " TMT_VERSION " (LibTorch " + torch_version() + ", CUDA " +
         (cuda_available() ? "available" : "not available") + ")\nCPU: " + cpu_engine_description();
}

// A subcommand working on a run: -c CONFIG, --set overrides, --run-dir.
CLI::App* add_run_command(CLI::App& app, const char* name, const char* description, RunArgs& args) {
  CLI::App* cmd = app.add_subcommand(name, description);
  cmd->add_option("-c,--config", args.config, "YAML config file")->required();
  cmd->add_option("--set", args.overrides, "Override a config key: section.key=value (repeatable)");
  cmd->add_option("--run-dir", args.run_dir, "Run directory (default: runs/<config name>)");
  return cmd;
}

}  // namespace

std::string run_dir_of(const RunArgs& args) {
  if (!args.run_dir.empty()) return args.run_dir;
  return (std::filesystem::path("runs") / std::filesystem::path(args.config).stem()).string();
}

int run_cli(int argc, char** argv) {
  CLI::App app{"tmt: train Transformer translation models, translate, and score"};
  app.require_subcommand(0, 1);
  bool show_version = false;
  app.add_flag("--version", show_version, "Print the version, the LibTorch version, CUDA availability and the CPU's BLAS");

  RunArgs prepare;
  CLI::App* prepare_cmd = add_run_command(
      app, "prepare", "Check a parallel corpus, train its joint SentencePiece model, binarise every split into RUN_DIR/data",
      prepare);
  RunArgs train;
  CLI::App* train_cmd = add_run_command(app, "train", "Train a model from a YAML config", train);
  train_cmd->add_flag("--no-resume", train.no_resume,
                      "Start over instead of resuming from RUN_DIR's newest valid checkpoint (the old "
                      "checkpoints are moved into RUN_DIR/previous_<time>/)");

  TranslateArgs translate;
  CLI::App* translate_cmd = app.add_subcommand("translate", "Translate lines from stdin (or -i) to stdout (or -o)");
  translate_cmd->add_option("--checkpoint", translate.checkpoint, "Checkpoint written by tmt train")->required();
  translate_cmd->add_option("-c,--config", translate.config, "YAML config whose decode section to use");
  translate_cmd->add_option("--vocab", translate.vocab, "SentencePiece model (default: data/spm.model beside the checkpoint)");
  translate_cmd->add_option("--beam", translate.beam, "Beam size (default: decode.beam_size, the paper's 4)")->check(CLI::PositiveNumber);
  translate_cmd->add_option("--alpha", translate.alpha, "Length penalty exponent (default: decode.alpha, the paper's 0.6)")->check(CLI::NonNegativeNumber);
  translate_cmd->add_option("--nbest", translate.nbest, "Translations per line, as 'LINE ||| TEXT ||| SCORE' when > 1")->check(CLI::PositiveNumber);
  translate_cmd->add_option("--max-tokens", translate.max_tokens, "Source tokens per decoding batch")->check(CLI::PositiveNumber);
  translate_cmd->add_option("--device", translate.device, "auto (default: cuda:0 when there is a GPU), cpu, cuda or cuda:N");
  translate_cmd->add_option("--set", translate.overrides, "Override a config key: section.key=value (repeatable)");
  translate_cmd->add_option("-i,--input", translate.input, "Input file (default: stdin)");
  translate_cmd->add_option("-o,--output", translate.output, "Output file (default: stdout)");

  BleuArgs bleu;
  CLI::App* bleu_cmd = app.add_subcommand("bleu", "Score a hypothesis against references: sacreBLEU-exact BLEU and chrF");
  bleu_cmd->add_option("refs", bleu.refs, "Reference files, one sentence a line")->required();
  bleu_cmd->add_option("-i,--input", bleu.input, "Hypothesis file (default: stdin)");
  // The names are checked once, by bleu_command.
  bleu_cmd->add_option("--tokenize,--tok", bleu.tokenize, "BLEU tokenizer: none, 13a (default), intl or char");
  bleu_cmd->add_flag("--lowercase,--lc", bleu.lowercase, "Compare lowercased text");
  bleu_cmd->add_option("-m,--metrics", bleu.metrics, "bleu, chrf, or bleu,chrf")
      ->delimiter(',');
  bleu_cmd->add_option("-f,--format", bleu.format, "text (sacreBLEU's -f text) or json");

  AverageArgs average;
  CLI::App* average_cmd = app.add_subcommand("average", "Average checkpoints parameter by parameter (the paper's averaging)");
  average_cmd->add_option("-o,--output", average.output, "Averaged checkpoint to write")->required();
  average_cmd->add_option("checkpoints", average.checkpoints, "Checkpoints to average (with --last: the run directory)");
  average_cmd->add_option("--last", average.last, "Average the last N checkpoint_<update>.pt of RUN_DIR")
      ->check(CLI::PositiveNumber);
  average_cmd->add_option("--run-dir", average.run_dir, "Run directory for --last");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help, or the error with a usage hint
    return code == 0 ? 0 : kExitUsage;
  }

  const char* area = prepare_cmd->parsed()                          ? "[data]"
                     : train_cmd->parsed() || average_cmd->parsed() ? "[train]"
                                                                    : "[decode]";
  try {
    if (show_version) {
      std::cout << version_text() << '\n';
      return 0;
    }
    if (prepare_cmd->parsed()) return prepare_command(prepare);
    if (train_cmd->parsed()) return train_command(train);
    if (translate_cmd->parsed()) return translate_command(translate);
    if (average_cmd->parsed()) return average_command(average);
    if (bleu_cmd->parsed()) return bleu_command(bleu);
    std::cout << app.help();
    return kExitUsage;
  } catch (const std::invalid_argument& e) {
    std::cerr << "tmt: " << area << " error: " << e.what() << '\n';
    return kExitUsage;
  } catch (const c10::Error& e) {
    std::cerr << "tmt: " << area << " error: " << e.what_without_backtrace() << '\n';
    return kExitRuntime;
  } catch (const std::exception& e) {
    std::cerr << "tmt: " << area << " error: " << e.what() << '\n';
    return kExitRuntime;
  }
}

}  // namespace tmt
