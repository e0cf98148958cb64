// The agent channel's framing as both ends read it, for the two frame fuzz targets: the input's
// first byte splits the rest in two reads (frames also arrive cut in the middle), every decoded
// data frame goes through decodeData, every message frame through `parseMessage`.
#pragma once

#include <cstddef>
#include <cstdint>

#include "runvirt/agent/framing.hpp"
#include "runvirt/agent/protocol.hpp"
#include "runvirt/error.hpp"

template <typename ParseMessage>
void fuzzFrames(const std::uint8_t* data, std::size_t size, ParseMessage parseMessage) {
  using namespace runvirt::agent;
  if (size == 0) return;
  std::size_t split = data[0] % size;
  const char* bytes = reinterpret_cast<const char*>(data + 1);
  std::size_t length = size - 1;
  if (split > length) split = length;
  FrameDecoder decoder;
  try {
    decoder.feed(bytes, split);
    decoder.feed(bytes + split, length - split);
  } catch (const runvirt::Error&) {
    // An oversized frame or an unknown type: the reader drops the peer; frames before it count.
  }
  while (auto frame = decoder.next()) {
    try {
      if (frame->type == FrameType::Data) {
        (void)decodeData(frame->payload);
        continue;
      }
      parseMessage(decodeMessage(frame->payload));
    } catch (const runvirt::Error&) {
      // A refused frame.
    }
  }
}
