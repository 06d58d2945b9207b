// A small JSON reader for the tools' output lines: a flat object of strings,
// numbers, booleans and null. Enough to check that a line is JSON and what
// its fields hold; anything else (nesting, a trailing comma, junk after the
// object) is a parse failure.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace raftlog::testing {

struct JsonValue {
  enum class Kind { kString, kNumber, kBool, kNull } kind = Kind::kNull;
  std::string text;  // kString: the decoded string; kNumber: the digits
  bool boolean = false;
  uint64_t number() const { return std::stoull(text); }
};

using JsonObject = std::map<std::string, JsonValue>;

class FlatJsonParser {
 public:
  explicit FlatJsonParser(const std::string& s) : s_(s) {}

  std::optional<JsonObject> object() {
    JsonObject out;
    space();
    if (!eat('{')) return std::nullopt;
    space();
    if (eat('}')) return end(out);
    for (;;) {
      std::string key;
      space();
      if (!string(&key)) return std::nullopt;
      space();
      if (!eat(':')) return std::nullopt;
      space();
      JsonValue v;
      if (!value(&v) || out.count(key)) return std::nullopt;
      out[key] = v;
      space();
      if (eat('}')) return end(out);
      if (!eat(',')) return std::nullopt;
    }
  }

 private:
  std::optional<JsonObject> end(const JsonObject& out) {
    space();
    if (i_ != s_.size()) return std::nullopt;
    return out;
  }
  void space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
  }
  bool eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) return ++i_, true;
    return false;
  }
  bool literal(const std::string& word) {
    if (s_.compare(i_, word.size(), word) != 0) return false;
    i_ += word.size();
    return true;
  }
  bool value(JsonValue* v) {
    if (i_ >= s_.size()) return false;
    if (s_[i_] == '"') return v->kind = JsonValue::Kind::kString, string(&v->text);
    if (literal("true")) return v->kind = JsonValue::Kind::kBool, v->boolean = true, true;
    if (literal("false")) return v->kind = JsonValue::Kind::kBool, true;
    if (literal("null")) return v->kind = JsonValue::Kind::kNull, true;
    size_t start = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    if (i_ == start) return false;
    v->kind = JsonValue::Kind::kNumber;
    v->text = s_.substr(start, i_ - start);
    return true;
  }
  bool string(std::string* out) {
    if (!eat('"')) return false;
    while (i_ < s_.size()) {
      char c = s_[i_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        *out += c;
        continue;
      }
      if (i_ >= s_.size()) return false;
      char e = s_[i_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          *out += e;
          break;
        case 'n':
          *out += '\n';
          break;
        case 't':
          *out += '\t';
          break;
        case 'r':
          *out += '\r';
          break;
        case 'b':
          *out += '\b';
          break;
        case 'f':
          *out += '\f';
          break;
        case 'u': {
          if (i_ + 4 > s_.size()) return false;
          unsigned code = std::stoul(s_.substr(i_, 4), nullptr, 16);
          i_ += 4;
          if (code >= 0x80) return false;  // the tools escape control characters only
          *out += static_cast<char>(code);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }

  const std::string& s_;
  size_t i_ = 0;
};

inline std::optional<JsonObject> ParseFlatJson(const std::string& line) {
  return FlatJsonParser(line).object();
}

}  // namespace raftlog::testing
