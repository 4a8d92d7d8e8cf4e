// fake_stream.cc: TEST ONLY: drives the shipped stream codec (decoder, bounded writer) from the tests.
#include <napi.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "fake_guest.h"
#include "net_stream.h"

namespace sntest {

namespace {

// streamDecode(chunks, maxFrame, end): feeds the chunks in order, then (with
// end) reports the end of the stream; returns the frames and the verdict.
Napi::Value StreamDecode(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  uint64_t max_frame;
  if (info.Length() != 3 || !info[0].IsArray() || !IsUint(info[1], 0, 1U << 20, &max_frame) || !info[2].IsBoolean()) {
    Napi::TypeError::New(env, "Usage: streamDecode(chunks: Buffer[], maxFrame: number, end: boolean)")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array chunks = info[0].As<Napi::Array>();
  sn::StreamDecoder dec(static_cast<uint32_t>(max_frame));
  std::vector<std::string> frames;
  sn::FrameSink sink = [&](const sn::Frame *f, uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
      frames.emplace_back(reinterpret_cast<const char *>(const_cast<const uint8_t *>(f[i].data)), f[i].len);
  };
  bool ok = true;
  for (uint32_t i = 0; i < chunks.Length() && ok; i++) {
    Napi::Value c = chunks.Get(i);
    if (!c.IsBuffer()) {
      Napi::TypeError::New(env, "streamDecode: every chunk must be a Buffer").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Buffer<uint8_t> b = c.As<Napi::Buffer<uint8_t>>();
    ok = dec.Feed(b.Data(), b.Length(), sink);
  }
  const size_t pending = dec.pending();
  if (ok && info[2].As<Napi::Boolean>().Value()) ok = dec.End() || dec.why() == "the peer closed the stream";
  Napi::Object out = Napi::Object::New(env);
  Napi::Array fa = Napi::Array::New(env, frames.size());
  for (size_t i = 0; i < frames.size(); i++)
    fa.Set(static_cast<uint32_t>(i),
           Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t *>(frames[i].data()), frames[i].size()));
  out.Set("frames", fa);
  out.Set("ok", ok);
  out.Set("why", dec.why());
  out.Set("pending", static_cast<double>(pending));
  return out;
}

uint64_t Next(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

// streamWriterRun(seed, count, maxQueued, mtu): a StreamLink writes `count`
// frames of random sizes to a socketpair whose reader does not read; then the
// reader drains it with small reads (partial frames) while the link flushes.
// Returns what was written, queued and dropped, the most bytes ever queued,
// and whether the frames that arrived are exactly the accepted ones, in order.
Napi::Value StreamWriterRun(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  uint64_t seed, count, max_queued, mtu;
  if (info.Length() != 4 || !IsUint(info[0], 1, UINT32_MAX, &seed) || !IsUint(info[1], 1, 1U << 20, &count) ||
      !IsUint(info[2], 0, 1U << 26, &max_queued) || !IsUint(info[3], 68, 65521, &mtu)) {
    Napi::TypeError::New(env, "Usage: streamWriterRun(seed, count, maxQueued, mtu)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
    Napi::Error::New(env, std::string("socketpair failed: ") + strerrorname_np(errno)).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  sn::StreamLink link(sv[0], static_cast<uint32_t>(mtu), max_queued);
  uint64_t s = seed;
  std::vector<std::string> accepted;
  uint64_t written = 0, queued = 0, dropped = 0, most = 0;
  std::vector<uint8_t> f(mtu + 14);
  for (uint64_t i = 0; i < count; i++) {
    const uint32_t len = 14 + static_cast<uint32_t>(Next(&s) % (mtu + 1));
    for (uint32_t k = 0; k < len; k++) f[k] = static_cast<uint8_t>(i * 31 + k);
    sn::StreamWriter::SendResult r = link.Send(f.data(), len);
    if (r == sn::StreamWriter::SendResult::kWritten) written++;
    if (r == sn::StreamWriter::SendResult::kQueued) queued++;
    if (r == sn::StreamWriter::SendResult::kDropped) dropped++;
    if (r == sn::StreamWriter::SendResult::kWritten || r == sn::StreamWriter::SendResult::kQueued)
      accepted.emplace_back(reinterpret_cast<const char *>(f.data()), len);
    if (link.queued() > most) most = link.queued();
  }
  sn::StreamDecoder dec(static_cast<uint32_t>(mtu) + 14);
  size_t got = 0;
  bool intact = true;
  sn::FrameSink sink = [&](const sn::Frame *fr, uint32_t n) {
    for (uint32_t i = 0; i < n; i++, got++) {
      const char *d = reinterpret_cast<const char *>(const_cast<const uint8_t *>(fr[i].data));
      if (got >= accepted.size() || accepted[got] != std::string(d, fr[i].len)) intact = false;
    }
  };
  uint8_t small[97];
  for (;;) {
    link.OnWritable();
    ssize_t r = read(sv[1], small, 1 + Next(&s) % sizeof small);
    if (r > 0) {
      dec.Feed(small, static_cast<size_t>(r), sink);
      continue;
    }
    if (!link.wants_write()) break;
  }
  close(sv[0]);
  close(sv[1]);
  Napi::Object out = Napi::Object::New(env);
  out.Set("written", static_cast<double>(written));
  out.Set("queued", static_cast<double>(queued));
  out.Set("dropped", static_cast<double>(dropped));
  out.Set("txDropped", static_cast<double>(link.tx_dropped()));
  out.Set("mostQueued", static_cast<double>(most));
  out.Set("delivered", static_cast<double>(got));
  out.Set("accepted", static_cast<double>(accepted.size()));
  out.Set("intact", intact && !dec.failed() && dec.pending() == 0);
  return out;
}

}  // namespace

void RegisterStream(Napi::Env env, Napi::Object exports) {
  exports.Set("streamDecode", Napi::Function::New(env, StreamDecode, "streamDecode"));
  exports.Set("streamWriterRun", Napi::Function::New(env, StreamWriterRun, "streamWriterRun"));
}

}  // namespace sntest
