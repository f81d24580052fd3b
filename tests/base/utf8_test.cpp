// UTF-8 well-formedness as Python's strict decoder sees it, and where the first bad byte is.

#include "base/utf8.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

TEST(IsValidUtf8, AcceptsWellFormedAndRejectsEachIllFormedKind) {
  EXPECT_TRUE(tmt::is_valid_utf8(""));
  EXPECT_TRUE(tmt::is_valid_utf8("plain ascii"));
  EXPECT_TRUE(tmt::is_valid_utf8("ä ö ü ß €"));
  EXPECT_TRUE(tmt::is_valid_utf8("\xF0\x9F\x98\x80"));       // U+1F600
  EXPECT_TRUE(tmt::is_valid_utf8("\xF4\x8F\xBF\xBF"));       // U+10FFFF, the last code point
  EXPECT_TRUE(tmt::is_valid_utf8("\xED\x9F\xBF"));           // U+D7FF, just below the surrogates
  EXPECT_TRUE(tmt::is_valid_utf8("\xEE\x80\x80"));           // U+E000, just above them
  EXPECT_TRUE(tmt::is_valid_utf8(std::string("a\0b", 3)));   // NUL is a valid code point

  EXPECT_FALSE(tmt::is_valid_utf8("\xC3"));                  // truncated
  EXPECT_FALSE(tmt::is_valid_utf8("\xF0\x9F\x98"));          // truncated 4-byte
  EXPECT_FALSE(tmt::is_valid_utf8("\x80"));                  // lone continuation byte
  EXPECT_FALSE(tmt::is_valid_utf8("\xC0\xAF"));              // overlong 2-byte
  EXPECT_FALSE(tmt::is_valid_utf8("\xC1\xBF"));              // overlong 2-byte
  EXPECT_FALSE(tmt::is_valid_utf8("\xE0\x80\xAF"));          // overlong 3-byte
  EXPECT_FALSE(tmt::is_valid_utf8("\xF0\x80\x80\xAF"));      // overlong 4-byte
  EXPECT_FALSE(tmt::is_valid_utf8("\xED\xA0\x80"));          // U+D800 surrogate
  EXPECT_FALSE(tmt::is_valid_utf8("\xED\xBF\xBF"));          // U+DFFF surrogate
  EXPECT_FALSE(tmt::is_valid_utf8("\xF4\x90\x80\x80"));      // U+110000
  EXPECT_FALSE(tmt::is_valid_utf8("\xF5\x80\x80\x80"));      // lead byte beyond U+10FFFF
  EXPECT_FALSE(tmt::is_valid_utf8("\xFF"));
  EXPECT_FALSE(tmt::is_valid_utf8("\xC3\x28"));              // continuation replaced by ASCII
}

TEST(FirstInvalidUtf8, PointsAtTheFirstByteOfTheBadSequence) {
  constexpr size_t kNone = std::string_view::npos;
  EXPECT_EQ(tmt::first_invalid_utf8(""), kNone);
  EXPECT_EQ(tmt::first_invalid_utf8("ä ö"), kNone);
  EXPECT_EQ(tmt::first_invalid_utf8("\x80"), 0u);
  EXPECT_EQ(tmt::first_invalid_utf8("ab\xC3"), 2u);                 // truncated at the end
  EXPECT_EQ(tmt::first_invalid_utf8("\xC3\xA4x\xED\xA0\x80"), 3u);  // after a good 2-byte sequence
  EXPECT_EQ(tmt::first_invalid_utf8("ok \xC3\x28 \xFF"), 3u);        // the first of two
}
