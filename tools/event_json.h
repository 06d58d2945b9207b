// The JSON lines the tools print for committed events: raftlog-sub for what
// it delivers, raftlog-ctl fetch for what a node holds. One writer, so that
// both print an event the same way.
#pragma once

#include <string>
#include <string_view>

#include "raftlog/core/types.h"
#include "raftlog/subscriber.h"

namespace raftlog::tools {

// Is s UTF-8 text: well-formed (no overlong forms, surrogates or code points
// past U+10FFFF) and free of control characters other than tab?
bool IsText(std::string_view s);

// A JSON string of s. Bytes >= 0x80 pass through: callers hand in UTF-8.
std::string JsonString(std::string_view s);

// s as a JSON string when it is text (IsText), else its base64 (still valid
// JSON): for topics and producers, msgpack str that nothing forces to be UTF-8.
std::string JsonText(std::string_view s);

// {"index":I,"term":T,"topic":"...","producer":"...","seq":S,"timestamp":MS,"payload":"text"}
// with "payload_b64":"..." instead of "payload" when the payload is not
// text. No newline.
std::string EventJson(const ReceivedEvent& e);

// A committed log entry as fetched: a Command entry holding an event record
// as EventJson; a Noop or Config entry as {"index":I,"term":T,"type":"noop"}
// (or "config"); a Command entry that is not a readable event record as
// {"index":I,"term":T,"type":"command","error":"why","data_b64":"..."}.
std::string EntryJson(const core::Entry& e);

}  // namespace raftlog::tools
