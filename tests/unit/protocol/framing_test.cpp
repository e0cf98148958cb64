// guest/protocol/src/framing.cpp: [u32 BE length][u8 type][payload] frames and the decoder.
#include "runvirt/agent/framing.hpp"

#include <gtest/gtest.h>

#include "unit/test_util.hpp"

namespace runvirt::agent {
namespace {

using test::contains;
using test::errorOf;

std::vector<Frame> feedAll(FrameDecoder& decoder, const std::string& bytes) {
  decoder.feed(bytes.data(), bytes.size());
  std::vector<Frame> frames;
  while (auto frame = decoder.next()) frames.push_back(std::move(*frame));
  return frames;
}

std::string header(std::uint32_t length, std::uint8_t type) {
  return {char(length >> 24), char((length >> 16) & 0xff), char((length >> 8) & 0xff),
          char(length & 0xff), char(type)};
}

TEST(Framing, EncodeWritesBigEndianLengthAndType) {
  EXPECT_EQ(encodeFrame(FrameType::Message, "{}"), std::string("\0\0\0\x02\x01{}", 7));
  std::string big(0x010203, 'x');
  EXPECT_EQ(encodeFrame(FrameType::Data, big).substr(0, 5), std::string("\x00\x01\x02\x03\x02", 5));
}

TEST(Framing, MessageRoundTrip) {
  nlohmann::json message = {{"type", "start_container"}, {"id", 2}, {"container", "web"}};
  FrameDecoder decoder;
  auto frames = feedAll(decoder, encodeMessage(message));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].type, FrameType::Message);
  EXPECT_EQ(decodeMessage(frames[0].payload), message);
  EXPECT_TRUE(decoder.empty());
}

TEST(Framing, FrameSplitAcrossManyFeeds) {
  std::string bytes = encodeMessage({{"type", "shutdown"}, {"id", 8}});
  FrameDecoder decoder;
  for (std::size_t i = 0; i + 1 < bytes.size(); ++i) {
    decoder.feed(&bytes[i], 1);
    ASSERT_FALSE(decoder.next()) << "frame complete after " << i + 1 << " of " << bytes.size()
                                 << " bytes";
  }
  decoder.feed(&bytes.back(), 1);
  auto frame = decoder.next();
  ASSERT_TRUE(frame);
  EXPECT_EQ(decodeMessage(frame->payload)["type"], "shutdown");
}

TEST(Framing, SeveralFramesInOneFeedKeepTheirOrder) {
  std::string bytes = encodeMessage({{"n", 1}}) + encodeData(0, Stream::Stdout, "out") +
                      encodeFrame(FrameType::Message, "") + encodeMessage({{"n", 2}});
  std::string partial = encodeMessage({{"n", 3}});
  bytes += partial.substr(0, 7);
  FrameDecoder decoder;
  auto frames = feedAll(decoder, bytes);
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(decodeMessage(frames[0].payload)["n"], 1);
  EXPECT_EQ(frames[1].type, FrameType::Data);
  EXPECT_EQ(frames[2].payload, "");
  EXPECT_EQ(decodeMessage(frames[3].payload)["n"], 2);
  frames = feedAll(decoder, partial.substr(7));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(decodeMessage(frames[0].payload)["n"], 3);
}

TEST(Framing, OversizedLengthIsRejectedBeforeThePayloadArrives) {
  FrameDecoder decoder;
  std::string bytes = header(kMaxFramePayload + 1, 1);
  EXPECT_EQ(errorOf([&] { decoder.feed(bytes.data(), bytes.size()); }),
            "peer sent a frame of 1048577 bytes (limit 1048576)");
}

TEST(Framing, LargestFrameIsAccepted) {
  std::string payload(kMaxFramePayload, 'a');
  FrameDecoder decoder;
  auto frames = feedAll(decoder, encodeFrame(FrameType::Data, payload));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].payload.size(), kMaxFramePayload);
  EXPECT_TRUE(
      contains(errorOf([&] { encodeFrame(FrameType::Data, payload + "a"); }), "exceeds the limit"));
}

TEST(Framing, UnknownFrameTypeIsRejected) {
  FrameDecoder decoder;
  std::string bytes = header(2, 3) + "{}";
  EXPECT_EQ(errorOf([&] { decoder.feed(bytes.data(), bytes.size()); }),
            "peer sent unknown frame type 3");
  FrameDecoder zero;
  bytes = header(0, 0);
  EXPECT_EQ(errorOf([&] { zero.feed(bytes.data(), bytes.size()); }),
            "peer sent unknown frame type 0");
}

TEST(Framing, DataFrameRoundTrip) {
  std::string bytes("bin\0ary\xff", 8);
  FrameDecoder decoder;
  auto frames = feedAll(decoder, encodeData(0x01020304, Stream::Stderr, bytes));
  ASSERT_EQ(frames.size(), 1u);
  ASSERT_EQ(frames[0].type, FrameType::Data);
  DataChunk chunk = decodeData(frames[0].payload);
  EXPECT_EQ(chunk.process, 0x01020304u);
  EXPECT_EQ(chunk.stream, Stream::Stderr);
  EXPECT_EQ(chunk.bytes, bytes);
}

TEST(Framing, EmptyDataChunkMeansNoBytes) {
  std::string payload = encodeData(7, Stream::Stdin, "").substr(kFrameHeaderBytes);
  DataChunk chunk = decodeData(payload);
  EXPECT_EQ(chunk.process, 7u);
  EXPECT_EQ(chunk.stream, Stream::Stdin);
  EXPECT_TRUE(chunk.bytes.empty());
}

TEST(Framing, BadDataPayloadsAreRejected) {
  EXPECT_EQ(errorOf([] { decodeData(std::string("\0\0\0", 3)); }), "data frame too short");
  EXPECT_EQ(errorOf([] { decodeData(std::string("\0\0\0\1\3x", 6)); }),
            "data frame names unknown stream 3");
}

TEST(Framing, BadJsonPayloadIsRejected) {
  EXPECT_EQ(errorOf([] { decodeMessage("{\"type\":"); }), "message is not valid JSON");
  EXPECT_EQ(errorOf([] { decodeMessage(""); }), "message is not valid JSON");
}

}  // namespace
}  // namespace runvirt::agent
