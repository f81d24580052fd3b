#pragma once
// Exact n-gram keys in open-addressing tables reused across segments: the counting core of BLEU
// and chrF (internal to metrics/).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace tmt::metrics_detail {

using Key = unsigned __int128;

// An n-gram's key packs its units (+1, so that zero means absent) into 128 bits: four 32-bit
// word ids, or six 21-bit code points. Keys are exact, so there are no hash collisions to
// worry about, and different orders never share a key.
inline Key push_unit(Key key, uint32_t unit, int index, int bits) {
  return key | (static_cast<Key>(unit + 1) << (bits * index));
}

// Mixes all 128 bits into the low bits the table masks (murmur3's finalizer); a weaker mix
// lets n-grams with a common prefix share slots.
inline uint64_t hash_key(Key k) {
  uint64_t x = static_cast<uint64_t>(k) * 0x9E3779B97F4A7C15ULL ^
               static_cast<uint64_t>(k >> 64) * 0xC2B2AE3D27D4EB4FULL;
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDULL;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ULL;
  return x ^ (x >> 33);
}

struct Slot {
  Key key = 0;
  uint32_t stamp = 0;
  int32_t count = 0;    // BLEU: max count over references; chrF: reference count
  int32_t current = 0;  // BLEU: count in the reference being added
  int32_t ref = -1;     // BLEU: the reference `current` belongs to
};

// Open-addressing slots reused across segments: reset() forgets every entry in O(1) by bumping
// a stamp (a slot counts only while its stamp is current) and grows to twice the expected size.
template <typename SlotT>
class StampedSlots {
 public:
  void reset(size_t expected) {
    size_t cap = 64;
    while (cap < 2 * expected + 2) cap <<= 1;
    if (cap > slots.size()) {
      slots.assign(cap, SlotT{});
      stamp = 0;
    }
    mask = cap - 1;
    if (++stamp == 0) {  // the stamp wrapped: stale slots could look current
      std::fill(slots.begin(), slots.end(), SlotT{});
      stamp = 1;
    }
  }

  std::vector<SlotT> slots;
  size_t mask = 0;
  uint32_t stamp = 0;
};

// Counts for one segment.
class NgramTable {
 public:
  void reset(size_t expected) { table_.reset(expected); }
  Slot& insert(Key key) {
    size_t h = hash_key(key) & table_.mask;
    while (table_.slots[h].stamp == table_.stamp && table_.slots[h].key != key) h = (h + 1) & table_.mask;
    Slot& s = table_.slots[h];
    if (s.stamp != table_.stamp) s = Slot{key, table_.stamp, 0, 0, -1};
    return s;
  }
  Slot* find(Key key) {
    size_t h = hash_key(key) & table_.mask;
    while (table_.slots[h].stamp == table_.stamp) {
      if (table_.slots[h].key == key) return &table_.slots[h];
      h = (h + 1) & table_.mask;
    }
    return nullptr;
  }

 private:
  StampedSlots<Slot> table_;
};

// Word -> per-segment id, so that word n-grams become exact integer keys.
class WordIds {
 public:
  void reset(size_t expected) {
    table_.reset(expected);
    next_ = 0;
  }
  uint32_t id(std::string_view word) {
    uint64_t h = 1469598103934665603ULL;  // FNV-1a
    for (const char c : word) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    size_t i = (h ^ (h >> 32)) & table_.mask;
    while (table_.slots[i].stamp == table_.stamp) {
      if (table_.slots[i].hash == h && table_.slots[i].word == word) return table_.slots[i].id;
      i = (i + 1) & table_.mask;
    }
    table_.slots[i] = WordSlot{word, h, table_.stamp, next_};
    return next_++;
  }

 private:
  struct WordSlot {
    std::string_view word;
    uint64_t hash = 0;
    uint32_t stamp = 0;
    uint32_t id = 0;
  };
  StampedSlots<WordSlot> table_;
  uint32_t next_ = 0;
};

}  // namespace tmt::metrics_detail
