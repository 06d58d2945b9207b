#include "event_json.h"

#include <cstdio>

#include "base64.h"
#include "raftlog/wire/event_ops.h"

namespace raftlog::tools {

bool IsText(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    if ((c & 0xe0) == 0xc0) {
      len = 2, cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3, cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    if (cp >= 0x80 && cp < 0xa0) return false;  // C1 controls
    i += len;
  }
  return true;
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (ch == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::string JsonText(std::string_view s) {
  return JsonString(IsText(s) ? std::string(s) : Base64(s));
}

std::string EventJson(const ReceivedEvent& e) {
  std::string line = "{\"index\":" + std::to_string(e.index) +
                     ",\"term\":" + std::to_string(e.term) + ",\"topic\":" + JsonText(e.topic) +
                     ",\"producer\":" + JsonText(e.producer) + ",\"seq\":" + std::to_string(e.seq) +
                     ",\"timestamp\":" + std::to_string(e.timestamp_ms);
  if (IsText(e.payload)) {
    line += ",\"payload\":" + JsonString(e.payload);
  } else {
    line += ",\"payload_b64\":" + JsonString(Base64(e.payload));
  }
  return line + "}";
}

std::string EntryJson(const core::Entry& e) {
  std::string head =
      "{\"index\":" + std::to_string(e.index) + ",\"term\":" + std::to_string(e.term);
  if (e.type != core::EntryType::kCommand) {
    return head + ",\"type\":" + JsonString(core::EntryTypeName(e.type)) + "}";
  }
  wire::EventRecord rec;
  Status s = wire::DecodeEventRecord(e.data.data(), e.data.size(), wire::DecodeLimits(), &rec);
  if (!s.ok()) {
    return head + ",\"type\":\"command\",\"error\":" + JsonText(s.message()) +
           ",\"data_b64\":" + JsonString(Base64(e.data)) + "}";
  }
  return EventJson(ReceivedEvent{e.index, e.term, std::move(rec.topic), std::move(rec.payload),
                                 std::move(rec.producer), rec.seq, rec.timestamp_ms});
}

}  // namespace raftlog::tools
