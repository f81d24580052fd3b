// Times corpus BLEU and chrF on 100k synthetic lines of ~25 words (seeded): the reference is a
// random sentence, the hypothesis the same sentence with about 30% of its words replaced.
//
//   build/bench/bench_bleu [lines]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "metrics/bleu.h"
#include "metrics/chrf.h"

int main(int argc, char** argv) {
  const size_t lines = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 100000;
  std::mt19937 rng(1234);
  std::vector<std::string> vocab;
  for (int w = 0; w < 5000; ++w) {
    std::string word;
    const int len = 2 + static_cast<int>(rng() % 8);
    for (int k = 0; k < len; ++k) word.push_back(static_cast<char>('a' + rng() % 26));
    vocab.push_back(word);
  }
  const char* const punct[] = {",", ".", "!", "?", ")", "'s", ";"};
  auto word = [&]() -> const std::string& {
    const size_t band = std::vector<size_t>{50, 500, 5000}[rng() % 3];  // a crude Zipf
    return vocab[rng() % band];
  };

  std::vector<std::string> hyps, refs;
  hyps.reserve(lines);
  refs.reserve(lines);
  size_t words = 0;
  for (size_t i = 0; i < lines; ++i) {
    std::string ref, hyp;
    const int n = 15 + static_cast<int>(rng() % 21);
    for (int k = 0; k < n; ++k) {
      std::string w = word();
      if (rng() % 100 < 8) w += punct[rng() % 7];
      const std::string h = rng() % 100 < 30 ? word() : w;
      ref += (k ? " " : "") + w;
      hyp += (k ? " " : "") + h;
    }
    ref += ".";
    hyp += ".";
    words += n;
    refs.push_back(std::move(ref));
    hyps.push_back(std::move(hyp));
  }
  const std::vector<std::vector<std::string>> ref_streams{std::move(refs)};

  const auto t0 = std::chrono::steady_clock::now();
  const tmt::BleuScore bleu = tmt::corpus_bleu(hyps, ref_streams);
  const auto t1 = std::chrono::steady_clock::now();
  const tmt::ChrfScore chrf = tmt::corpus_chrf(hyps, ref_streams);
  const auto t2 = std::chrono::steady_clock::now();

  const double bleu_s = std::chrono::duration<double>(t1 - t0).count();
  const double chrf_s = std::chrono::duration<double>(t2 - t1).count();
  std::printf("%zu lines, %.1f words/line\n", lines, static_cast<double>(words) / lines);
  std::printf("%s\n%s\n", tmt::format_bleu(bleu).c_str(), tmt::format_chrf(chrf).c_str());
  std::printf("corpus BLEU %.3f s, chrF %.3f s, total %.3f s\n", bleu_s, chrf_s, bleu_s + chrf_s);
  return 0;
}
