#pragma once
// sacreBLEU's BLEU tokenizers: mteval-v13a (the default), mteval-v14 international, characters,
// and none.

#include <string>
#include <string_view>

namespace tmt {

/// BLEU tokenizers, named as sacreBLEU's `--tokenize` choices.
enum class BleuTokenizer { kNone, k13a, kIntl, kChar };

/// Tokenizes one line as sacreBLEU's BLEU tokenizer does (after its right strip); tokens are
/// separated by single spaces.
std::string tokenize_bleu(std::string_view line, BleuTokenizer tokenizer);

/// Parses a tokenizer name ("none", "13a", "intl", "char"); throws std::invalid_argument otherwise.
BleuTokenizer parse_bleu_tokenizer(const std::string& name);

/// mteval-v13a's regexes without the final ' '.join(line.split()): the result is left in `b`
/// (`a` is scratch), for callers that split it anyway.
void tokenize_13a_raw(std::string_view line, std::string& a, std::string& b);

}  // namespace tmt
