#pragma once
// UTF-8 well-formedness, as Python's strict decoder and Unicode Table 3-7 define it: no
// overlong forms, no surrogates, nothing above U+10FFFF.

#include <cstddef>
#include <string_view>

namespace tmt {

/// The offset of the first byte of `text` that does not begin a well-formed sequence, or
/// std::string_view::npos when all of it is well-formed.
size_t first_invalid_utf8(std::string_view text);

/// True when `text` is well-formed UTF-8.
inline bool is_valid_utf8(std::string_view text) { return first_invalid_utf8(text) == std::string_view::npos; }

}  // namespace tmt
