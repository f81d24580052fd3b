// sacreBLEU-exact BLEU and chrF. Expected numbers come from an independent Python
// re-implementation of sacreBLEU 2.x's published algorithms (tokenizer_13a/re/intl/char.py,
// metrics/bleu.py, metrics/chrf.py, base.py; `re` for 13a, `unicodedata` for intl, str.lower()),
// printed with repr() so that they round-trip exactly. That script reproduces the chrF values
// published for sacreBLEU in the Hugging Face metric card (61.576379378113785, 84.64214891738334),
// and agreed with this implementation bit for bit on 37 random corpora of punctuation, digits,
// entities and non-ASCII text for every tokenizer, with and without lowercasing.

#include "metrics/bleu.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "metrics/chrf.h"
#include "metrics/unicode.h"
#include "tests/test_support.h"

namespace tmt {
namespace {

using Refs = std::vector<std::vector<std::string>>;

std::string tok(const std::string& line, BleuTokenizer t) { return tokenize_bleu(line, t); }

using tests::error_of;

// ----------------------------------------------------------------------------------------------
// Tokenizers

TEST(BleuTokenizer, Tok13aSplitsPunctuationButKeepsNumbersAndInnerApostrophes) {
  // Periods and commas stay inside numbers; the ' ' padding splits the final period.
  EXPECT_EQ(tok("Hello, world! It's 3.14 and 1,000 items (e.g. U.S.).", BleuTokenizer::k13a),
            "Hello , world ! It's 3.14 and 1,000 items ( e . g . U . S . ) .");
  // A dash splits only after a digit; a year keeps no period.
  EXPECT_EQ(tok("5-3 score, a-b x-1 2024.", BleuTokenizer::k13a), "5 - 3 score , a-b x-1 2024 .");
  EXPECT_EQ(tok("[a]{b}~c^d_e`f|g\\h/i:j;k=l?m@n#o$p%q+r*s", BleuTokenizer::k13a),
            "[ a ] { b } ~ c ^ d _ e ` f | g \\ h / i : j ; k = l ? m @ n # o $ p % q + r * s");
}

TEST(BleuTokenizer, Tok13aUnescapesEntitiesInOrderAndDropsSkipped) {
  // &amp;lt; becomes &lt; and then <, as the sequential str.replace calls do.
  EXPECT_EQ(tok("&quot;Hi&quot; &amp; &lt;b&gt; &amp;lt; a<skipped>b", BleuTokenizer::k13a),
            "\" Hi \" & < b > < ab");
}

TEST(BleuTokenizer, SplitsOnPythonUnicodeWhitespace) {
  // U+00A0 and U+3000 separate tokens as in Python's str.split().
  EXPECT_EQ(tok("caf\u00e9\u00a0bar\u3000baz", BleuTokenizer::k13a), "caf\u00e9 bar baz");
  EXPECT_EQ(tok(" a  b\t c \u00a0", BleuTokenizer::kNone), "a b c");
}

TEST(BleuTokenizer, IntlSplitsUnicodePunctuationAndSymbols) {
  EXPECT_EQ(tok("\u201eHallo\u201c \u00abWelt\u00bb \u2014 5\u20ac \u00a9 2024.", BleuTokenizer::kIntl),
            "\u201e Hallo \u201c \u00ab Welt \u00bb \u2014 5 \u20ac \u00a9 2024.");  // mteval-v14 keeps "2024."
  EXPECT_EQ(tok("1,000.5 3.14 (x) a.b", BleuTokenizer::kIntl), "1,000.5 3.14 ( x ) a . b");
  // ½ and ² are numbers (No), not symbols.
  EXPECT_EQ(tok("Preis: 10\u20ac, d.h. \u00bdx\u00b2", BleuTokenizer::kIntl),
            "Preis : 10 \u20ac , d . h . \u00bdx\u00b2");
}

TEST(BleuTokenizer, CharMakesEveryCharacterAToken) {
  EXPECT_EQ(tok("ab c\u65e5\u672c", BleuTokenizer::kChar), "a b c \u65e5 \u672c");
}

TEST(BleuTokenizer, LowercaseFollowsPythonIncludingFinalSigmaAndDottedI) {
  EXPECT_EQ(lowercase_like_python("\u03a3\u0391\u03a3 \u0130 \u00c0B \u03a3"),
            "\u03c3\u03b1\u03c2 i\u0307 \u00e0b \u03c3");
}

TEST(BleuTokenizer, RstripDropsTrailingUnicodeWhitespace) {
  EXPECT_EQ(rstrip_like_python("a b \t\r\u3000"), "a b");
  EXPECT_EQ(rstrip_like_python("\u00e9"), "\u00e9");
}

TEST(BleuTokenizer, UnknownNameIsRejected) {
  EXPECT_EQ(error_of([] { parse_bleu_tokenizer("zh"); }),
            "unknown BLEU tokenizer 'zh'; expected one of none, 13a, intl, char");
}

// ----------------------------------------------------------------------------------------------
// Corpus BLEU

TEST(CorpusBleu, PerfectMatchIs100) {
  const BleuScore s = corpus_bleu({"the cat sat on the mat ."}, Refs{{"the cat sat on the mat ."}});
  EXPECT_EQ(s.score, 100.00000000000004);  // exp(log(100)), as in Python
  EXPECT_EQ(s.counts, (std::array<int64_t, 4>{7, 6, 5, 4}));
  EXPECT_EQ(s.totals, (std::array<int64_t, 4>{7, 6, 5, 4}));
  EXPECT_EQ(format_bleu(s),
            "BLEU = 100.00 100.0/100.0/100.0/100.0 (BP = 1.000 ratio = 1.000 hyp_len = 7 ref_len = 7)");
}

TEST(CorpusBleu, AllMismatchIsZeroWithZeroPrecisions) {
  // sacreBLEU returns early when no n-gram matches: score 0.0 and precisions 0.0.
  const BleuScore s = corpus_bleu({"a b c d e"}, Refs{{"v w x y z"}});
  EXPECT_EQ(s.score, 0.0);
  EXPECT_EQ(s.totals, (std::array<int64_t, 4>{5, 4, 3, 2}));
  EXPECT_EQ(format_bleu(s),
            "BLEU = 0.00 0.0/0.0/0.0/0.0 (BP = 1.000 ratio = 1.000 hyp_len = 5 ref_len = 5)");
}

TEST(CorpusBleu, EmptyHypothesisHasZeroBrevityPenalty) {
  const BleuScore s = corpus_bleu({"", ""}, Refs{{"the cat", "a dog"}});
  EXPECT_EQ(s.score, 0.0);
  EXPECT_EQ(s.bp, 0.0);
  EXPECT_EQ(format_bleu(s),
            "BLEU = 0.00 0.0/0.0/0.0/0.0 (BP = 0.000 ratio = 0.000 hyp_len = 0 ref_len = 4)");
}

TEST(CorpusBleu, ShortHypothesisGetsBrevityPenalty) {
  // BP = exp(1 - 6/4); all precisions 100.
  const BleuScore s = corpus_bleu({"the cat sat on"}, Refs{{"the cat sat on the mat"}});
  EXPECT_EQ(s.bp, 0.6065306597126334);
  EXPECT_EQ(s.score, 60.653065971263366);
  EXPECT_EQ(s.ratio, 0.6666666666666666);
  EXPECT_EQ(bleu_verbose(s), "100.0/100.0/100.0/100.0 (BP = 0.607 ratio = 0.667 hyp_len = 4 ref_len = 6)");
}

TEST(CorpusBleu, SmoothingMethodsTreatZeroMatchesAsSacreBleuDoes) {
  // counts 3/1/0/0 of totals 4/3/2/1. exp: 100/(2*2), 100/(4*1); floor: 100*0.1/2, 100*0.1/1;
  // none: log(0) floors to -9999999999, so the score is 0.
  const std::vector<std::string> hyp{"a b c d"};
  const Refs ref{{"a b x d"}};
  BleuOptions options;
  BleuScore s = corpus_bleu(hyp, ref, options);
  EXPECT_EQ(s.score, 35.35533905932737);
  EXPECT_EQ(s.precisions, (std::array<double, 4>{75.0, 33.333333333333336, 25.0, 25.0}));
  options.smooth = BleuSmoothing::kFloor;
  s = corpus_bleu(hyp, ref, options);
  EXPECT_EQ(s.score, 18.803015465431972);
  EXPECT_EQ(bleu_verbose(s), "75.0/33.3/5.0/10.0 (BP = 1.000 ratio = 1.000 hyp_len = 4 ref_len = 4)");
  options.smooth = BleuSmoothing::kNone;
  s = corpus_bleu(hyp, ref, options);
  EXPECT_EQ(s.score, 0.0);
  EXPECT_EQ(bleu_verbose(s), "75.0/33.3/0.0/0.0 (BP = 1.000 ratio = 1.000 hyp_len = 4 ref_len = 4)");
}

TEST(CorpusBleu, FewerThanFourTokensScoresZeroEvenWithMatches) {
  // No 4-grams: the precision loop stops, log(0) floors the sum, the score is 0.
  BleuOptions options;
  options.tokenize = BleuTokenizer::kNone;
  const BleuScore s = corpus_bleu({"the cat, sat"}, Refs{{"the cat , sat"}}, options);
  EXPECT_EQ(s.score, 0.0);
  EXPECT_EQ(s.counts, (std::array<int64_t, 4>{2, 0, 0, 0}));
  EXPECT_EQ(bleu_verbose(s), "66.7/25.0/25.0/0.0 (BP = 0.717 ratio = 0.750 hyp_len = 3 ref_len = 4)");
}

TEST(CorpusBleu, MultipleReferencesClipByTheMaximumCount) {
  // "the" x3 in the hypothesis; the references hold it once and twice: 2 matches count.
  const BleuScore s =
      corpus_bleu({"the the the cat"}, Refs{{"the cat is here now"}, {"the the cat"}});
  EXPECT_EQ(s.counts, (std::array<int64_t, 4>{3, 2, 1, 0}));
  EXPECT_EQ(s.ref_len, 3);  // lengths 5 and 3 are both 1 from 4: the tie goes to the shorter
  EXPECT_EQ(s.score, 59.460355750136046);
  EXPECT_EQ(s.nrefs, 2);
}

TEST(CorpusBleu, ClosestReferenceLengthTiesChooseTheShorter) {
  // Hypothesis of 4 tokens, references of 3 and 5, in either order.
  EXPECT_EQ(corpus_bleu({"a b c d"}, Refs{{"a b c"}, {"a b c d e"}}).ref_len, 3);
  EXPECT_EQ(corpus_bleu({"a b c d"}, Refs{{"a b c d e"}, {"a b c"}}).ref_len, 3);
}

TEST(CorpusBleu, EmptyHypothesisLinesAreEmptySentences) {
  const BleuScore s = corpus_bleu({"the cat sat on the mat", "", "a dog barks loudly today"},
                                  Refs{{"the cat sat on the mat", "nothing here", "a dog barks loudly"}});
  EXPECT_EQ(s.score, 78.78039987929003);
  EXPECT_EQ(s.sys_len, 11);
  EXPECT_EQ(s.ref_len, 12);
}

TEST(CorpusBleu, EmptyReferenceLinesAreDroppedAndMakeNrefsVar) {
  const BleuScore s = corpus_bleu({"the cat sat on the mat", "a dog barks"},
                                  Refs{{"the cat sat on the mat", ""}, {"a cat sat on the mat", "the dog barks"}});
  EXPECT_EQ(s.score, 88.35836453663153);
  EXPECT_EQ(s.nrefs, -1);
  EXPECT_EQ(bleu_signature({}, s.nrefs), "nrefs:var|case:mixed|eff:no|tok:13a|smooth:exp|version:2.4.2");
}

TEST(CorpusBleu, LineEmptyInEveryReferenceIsRejected) {
  CorpusSources sources{"hyp.txt", {"ref.txt"}};
  EXPECT_EQ(error_of([&] { corpus_bleu({"a", "b"}, Refs{{"a", ""}}, {}, sources); }),
            "line 2 is empty in every reference ('ref.txt'); sacreBLEU rejects empty references too");
}

TEST(CorpusBleu, LowercaseMatchesAcrossCase) {
  BleuOptions options;
  EXPECT_EQ(corpus_bleu({"The Cat SAT on the mat"}, Refs{{"the cat sat on the mat"}}, options).score,
            30.213753973567677);
  options.lowercase = true;
  const BleuScore s = corpus_bleu({"The Cat SAT on the mat"}, Refs{{"the cat sat on the mat"}}, options);
  EXPECT_EQ(s.score, 100.00000000000004);
  EXPECT_EQ(bleu_signature(options, s.nrefs), "nrefs:1|case:lc|eff:no|tok:13a|smooth:exp|version:2.4.2");
}

TEST(CorpusBleu, TokenizerChangesTheScore) {
  const std::vector<std::string> hyp{"\u201eHallo\u201c, sagte er \u2014 5\u20ac."};
  const Refs ref{{"\u201eHallo\u201c sagte er: 5 \u20ac."}};
  BleuOptions options;
  EXPECT_EQ(corpus_bleu(hyp, ref, options).score, 15.619699684601283);  // 13a
  options.tokenize = BleuTokenizer::kIntl;
  const BleuScore intl = corpus_bleu(hyp, ref, options);
  EXPECT_EQ(intl.score, 29.84745896009822);
  EXPECT_EQ(bleu_verbose(intl), "80.0/55.6/25.0/7.1 (BP = 1.000 ratio = 1.111 hyp_len = 10 ref_len = 9)");
  options.tokenize = BleuTokenizer::kChar;
  EXPECT_EQ(corpus_bleu({"\u65e5\u672c\u8a9e\u306e\u6587"}, Refs{{"\u65e5\u672c\u8a9e\u6587"}}, options).score,
            42.72870063962342);
}

TEST(CorpusBleu, SignaturesAndLinesMatchSacreBleu) {
  BleuOptions options;
  EXPECT_EQ(bleu_signature(options), "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.4.2");
  options.tokenize = BleuTokenizer::kIntl;
  options.smooth = BleuSmoothing::kFloor;
  EXPECT_EQ(bleu_signature(options, 2), "nrefs:2|case:mixed|eff:no|tok:intl|smooth:floor[0.10]|version:2.4.2");
  options.tokenize = BleuTokenizer::kChar;
  options.smooth = BleuSmoothing::kNone;
  EXPECT_EQ(bleu_signature(options), "nrefs:1|case:mixed|eff:no|tok:char|smooth:none|version:2.4.2");
  const BleuScore s = corpus_bleu({"a b c d"}, Refs{{"a b x d"}});
  EXPECT_EQ(format_bleu(s, 1, bleu_signature({})),
            "BLEU|nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.4.2 = 35.4 "
            "75.0/33.3/25.0/25.0 (BP = 1.000 ratio = 1.000 hyp_len = 4 ref_len = 4)");
}

TEST(CorpusBleu, LineCountMismatchNamesBothFiles) {
  CorpusSources sources{"hyp.txt", {"ref.de", "ref2.de"}};
  EXPECT_EQ(error_of(
                [&] { corpus_bleu({"a", "b", "c"}, Refs{{"a", "b", "c"}, {"a", "b"}}, {}, sources); }),
            "hypothesis 'hyp.txt' has 3 lines but reference 'ref2.de' has 2; expected the same number of lines");
  EXPECT_EQ(error_of([&] { corpus_chrf({}, Refs{{}}, {}, sources); }),
            "hypothesis 'hyp.txt' has no lines; expected one line per reference line");
}

TEST(CorpusBleu, ParallelChunksSumToTheSerialStatistics) {
  // 6000 lines are scored in two threads (where there are two cores); each half alone runs
  // serially. The integer statistics must add up exactly.
  std::vector<std::string> hyps, refs;
  uint32_t x = 12345;
  auto next = [&x] { return x = x * 1664525u + 1013904223u; };
  for (int i = 0; i < 6000; ++i) {
    std::string h, r;
    for (int k = 0; k < 12; ++k) {
      const std::string w = "w" + std::to_string(next() % 40);
      r += w + (next() % 5 == 0 ? ", " : " ");
      h += (next() % 3 == 0 ? "v" + std::to_string(next() % 40) : w) + " ";
    }
    hyps.push_back(h);
    refs.push_back(r);
  }
  const auto half = [&](const std::vector<std::string>& v, bool first) {
    return first ? std::vector<std::string>(v.begin(), v.begin() + 3000)
                 : std::vector<std::string>(v.begin() + 3000, v.end());
  };
  const BleuScore all = corpus_bleu(hyps, Refs{refs});
  const BleuScore a = corpus_bleu(half(hyps, true), Refs{half(refs, true)});
  const BleuScore b = corpus_bleu(half(hyps, false), Refs{half(refs, false)});
  for (int n = 0; n < 4; ++n) {
    EXPECT_EQ(all.counts[n], a.counts[n] + b.counts[n]);
    EXPECT_EQ(all.totals[n], a.totals[n] + b.totals[n]);
  }
  EXPECT_EQ(all.ref_len, a.ref_len + b.ref_len);
  const ChrfScore call = corpus_chrf(hyps, Refs{refs});
  const ChrfScore ca = corpus_chrf(half(hyps, true), Refs{half(refs, true)});
  const ChrfScore cb = corpus_chrf(half(hyps, false), Refs{half(refs, false)});
  for (size_t i = 0; i < call.stats.size(); ++i) EXPECT_EQ(call.stats[i], ca.stats[i] + cb.stats[i]);
}

// ----------------------------------------------------------------------------------------------
// chrF

TEST(CorpusChrf, SmallCaseByHand) {
  // "abcd" vs "abce", whitespace removed first (so "a b c d" vs "ab ce" is the same case):
  //   1-grams: hyp a b c d, ref a b c e, 3 match  -> P = R = 3/4
  //   2-grams: ab bc cd vs ab bc ce, 2 match      -> P = R = 2/3
  //   3-grams: abc bcd vs abc bce, 1 match        -> P = R = 1/2
  //   4-grams: abcd vs abce, 0 match              -> P = R = 0
  //   5-, 6-grams: none on either side, so they leave the average (effective order 4).
  //   avgP = avgR = (3/4 + 2/3 + 1/2 + 0) / 4 = 23/48; F2 = 5PR / (4P + R) = P = 47.91666...%
  const ChrfScore a = corpus_chrf({"abcd"}, Refs{{"abce"}});
  EXPECT_EQ(a.score, 47.91666666666667);
  EXPECT_EQ(a.stats, (std::array<int64_t, 18>{4, 4, 3, 3, 3, 2, 2, 2, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(corpus_chrf({"a b c d"}, Refs{{"ab ce"}}).score, 47.91666666666667);
  EXPECT_EQ(format_chrf(a), "chrF2 = 47.92");
  EXPECT_EQ(format_chrf(a, 1, chrf_signature({})),
            "chrF2|nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.4.2 = 47.9");
}

TEST(CorpusChrf, PublishedSacreBleuValues) {
  // The sacreBLEU outputs quoted in the Hugging Face chrF metric card.
  EXPECT_EQ(corpus_chrf({"The relationship between Obama and Netanyahu is not exactly friendly."},
                        Refs{{"The ties between Obama and Netanyahu are not particularly friendly."}})
                .score,
            61.576379378113785);
  EXPECT_EQ(corpus_chrf({"The relationship between cats and dogs is not exactly friendly.",
                         "a good bookshop is just a genteel black hole that knows how to read."},
                        Refs{{"The relationship between dogs and cats is not exactly friendly.",
                              "A good bookshop is just a genteel Black Hole that knows how to read."}})
                .score,
            84.64214891738334);
}

TEST(CorpusChrf, PicksTheReferenceWithTheBestSentenceScore) {
  const ChrfScore s = corpus_chrf({"the cat sat"}, Refs{{"a dog ran"}, {"the cat sat down"}});
  EXPECT_EQ(s.score, 66.01764142221674);
  EXPECT_EQ(s.stats, (std::array<int64_t, 18>{9, 13, 9, 8, 12, 8, 7, 11, 7, 6, 10, 6, 5, 9, 5, 4, 8, 4}));
  EXPECT_EQ(chrf_signature({}, s.nrefs), "nrefs:2|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.4.2");
}

TEST(CorpusChrf, LowercaseAndEmptyHypothesis) {
  ChrfOptions options;
  options.lowercase = true;
  EXPECT_EQ(corpus_chrf({"The CAT"}, Refs{{"the cat"}}, options).score, 100.0);
  EXPECT_EQ(chrf_signature(options), "nrefs:1|case:lc|eff:yes|nc:6|nw:0|space:no|version:2.4.2");
  const ChrfScore empty = corpus_chrf({""}, Refs{{"abc"}});
  EXPECT_EQ(empty.score, 0.0);
  EXPECT_EQ(empty.stats[1], 3);  // reference 1-grams still count
}

}  // namespace
}  // namespace tmt
