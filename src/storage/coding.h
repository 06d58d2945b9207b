// The on-disk format of the LevelDB store: keys and records.
//
// Keys: one prefix byte per key space (docs/storage.md has the table).
//   'e' + 8-byte big-endian index  a run of log entries, by the index of its last
//                                  (big-endian sorts by index)
//   'h'                             hard state
//   'm'                             log metadata: head index and term
//   's'                             snapshot metadata
//   'c' ...                         snapshot chunks (reserved)
// Records: [crc32c: 4 bytes little-endian][format version: 1 byte][body],
// the CRC covering version and body. Numbers in bodies are varints.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "raftlog/core/types.h"
#include "raftlog/status.h"
#include "raftlog/storage/log_store.h"

namespace raftlog::storage {

constexpr char kEntryPrefix = 'e';
// One empty-valued key per configuration entry, under the same big-endian
// index: the core finds the configuration in force at open without
// reading the log. (Stores written before membership change hold no
// configuration entry: nothing could append one.)
constexpr char kConfigPrefix = 'c';
constexpr std::string_view kHardStateKey = "h";
constexpr std::string_view kLogMetaKey = "m";
constexpr std::string_view kSnapshotKey = "s";
constexpr size_t kEntryKeySize = 9;

// The head of the log, kept in its own key so open() need not scan.
struct LogMeta {
  core::LogIndex head_index = 0;
  core::Term head_term = 0;
};

std::string EntryKey(core::LogIndex index);
std::string ConfigKey(core::LogIndex index);
bool ParseConfigKey(std::string_view key, core::LogIndex* index);
// False if key is not an entry key.
bool ParseEntryKey(std::string_view key, core::LogIndex* index);

// Each Encode* replaces *out with a sealed record.
void EncodeEntry(const core::Entry& entry, std::string* out);
// Appends the entry's record to *out: an 'e' key's value is a run of
// consecutive entries' records, keyed by the last one's index. A value
// written before runs existed is a run of one.
void AppendEntryRecord(const core::Entry& entry, std::string* out);
// Takes the first entry record off the front of *run, without checking its
// checksum (DecodeEntry does): *record is its bytes, *index the index it
// claims. Corruption naming the run's key if the record is malformed.
Status NextEntryRecord(std::string_view* run, core::LogIndex key_index, std::string_view* record,
                       core::LogIndex* index);
void EncodeHardState(const core::HardState& hs, std::string* out);
void EncodeLogMeta(const LogMeta& meta, std::string* out);
void EncodeSnapshotMeta(const SnapshotMeta& meta, std::string* out);

// Each Decode* returns Corruption naming what was read ("entry 17:
// checksum mismatch") for a damaged or malformed record. DecodeEntry also
// checks that the record holds the entry the key says it does.
Status DecodeEntry(std::string_view record, core::LogIndex key_index, core::Entry* entry);
Status DecodeHardState(std::string_view record, core::HardState* hs);
Status DecodeLogMeta(std::string_view record, LogMeta* meta);
Status DecodeSnapshotMeta(std::string_view record, SnapshotMeta* meta);

}  // namespace raftlog::storage
