// guest/protocol/src/dns_frames.cpp: framing on the DNS port and the few header fields the
// relays touch.
#include "runvirt/agent/dns_frames.hpp"

#include <gtest/gtest.h>

#include "unit/test_util.hpp"

namespace runvirt::agent::dns {
namespace {

// A query for `name` (type A), id 0x1234, optionally with an EDNS OPT record of `udpSize`.
std::string query(const std::string& name, std::uint16_t udpSize = 0) {
  std::string m = {'\x12', '\x34', '\x01', '\x00', '\x00', '\x01',
                   '\x00', '\x00', '\x00', '\x00', '\x00', static_cast<char>(udpSize ? 1 : 0)};
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    m += static_cast<char>(dot - start);
    m += name.substr(start, dot - start);
    start = dot + 1;
  }
  m += std::string("\0\0\x01\0\x01", 5);
  if (udpSize) {
    m += std::string("\0\0\x29", 3);
    m += static_cast<char>(udpSize >> 8);
    m += static_cast<char>(udpSize & 0xff);
    m += std::string(6, '\0');
  }
  return m;
}

TEST(DnsFrames, FrameCarriesTheLengthBigEndian) {
  std::string frame = encodeFrame(std::string(300, 'x'));
  ASSERT_EQ(frame.size(), 302u);
  EXPECT_EQ(static_cast<unsigned char>(frame[0]), 1);
  EXPECT_EQ(static_cast<unsigned char>(frame[1]), 44);
}

TEST(DnsFrames, EmptyAndOversizedMessagesAreRefused) {
  EXPECT_TRUE(test::contains(test::errorOf([] { encodeFrame(""); }), "cannot be framed"));
  EXPECT_TRUE(
      test::contains(test::errorOf([] { encodeFrame(std::string(65536, 'x')); }), "65536 bytes"));
  EXPECT_EQ(encodeFrame(std::string(65535, 'x')).size(), 65537u);
}

TEST(DnsFrames, DecoderReassemblesSplitFramesAndSkipsEmptyOnes) {
  std::string stream = encodeFrame("first") + std::string(2, '\0') + encodeFrame("second");
  FrameDecoder decoder;
  for (char c : stream) decoder.feed(std::string_view(&c, 1));
  EXPECT_EQ(decoder.next(), "first");
  EXPECT_EQ(decoder.next(), "second");
  EXPECT_EQ(decoder.next(), std::nullopt);
  EXPECT_EQ(decoder.buffered(), 0u);
  decoder.feed(encodeFrame("third").substr(0, 4));
  EXPECT_EQ(decoder.next(), std::nullopt);
  decoder.reset();
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(DnsFrames, HeaderFields) {
  std::string q = query("web");
  ASSERT_TRUE(hasHeader(q));
  EXPECT_FALSE(hasHeader("short"));
  EXPECT_EQ(messageId(q), 0x1234);
  setMessageId(q, 0xbeef);
  EXPECT_EQ(messageId(q), 0xbeef);
  EXPECT_FALSE(isResponse(q));
  EXPECT_FALSE(isTruncated(q));
  q[2] = static_cast<char>(0x80 | 0x02);
  EXPECT_TRUE(isResponse(q));
  EXPECT_TRUE(isTruncated(q));
}

TEST(DnsFrames, UdpLimitIsTheEdnsSizeOr512) {
  EXPECT_EQ(udpReplyLimit(query("example.com")), 512u);
  EXPECT_EQ(udpReplyLimit(query("example.com", 1232)), 1232u);
  EXPECT_EQ(udpReplyLimit(query("example.com", 100)), 512u);  // never below the classic limit
  EXPECT_EQ(udpReplyLimit("garbage"), 512u);
  std::string cut = query("example.com", 4096);
  EXPECT_EQ(udpReplyLimit(cut.substr(0, cut.size() - 9)), 512u);
}

TEST(DnsFrames, TruncatedReplyKeepsHeaderAndQuestion) {
  std::string q = query("a.example", 1232);
  std::string answer = q;
  answer[2] = static_cast<char>(0x81);  // response, recursion desired
  answer[7] = 5;                        // five answers
  answer += std::string(2000, 'r');
  std::string cut = truncatedReply(answer, q);
  std::string question = query("a.example").substr(kHeaderBytes);
  ASSERT_EQ(cut.size(), kHeaderBytes + question.size());
  EXPECT_EQ(messageId(cut), 0x1234);
  EXPECT_TRUE(isResponse(cut));
  EXPECT_TRUE(isTruncated(cut));
  EXPECT_EQ(cut.substr(4, 8), std::string("\0\x01\0\0\0\0\0\0", 8));  // 1 question, no records
  EXPECT_EQ(cut.substr(kHeaderBytes), question);
}

TEST(DnsFrames, TruncatedReplyOfAMalformedQueryIsTheHeaderAlone) {
  std::string answer = query("x");
  EXPECT_EQ(truncatedReply(answer, "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x3f").size(),
            kHeaderBytes);
}

}  // namespace
}  // namespace runvirt::agent::dns
