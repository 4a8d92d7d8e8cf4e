// fake_bench.cc: TEST ONLY: benchmark loops that play the guest against a broker, and the direct-I/O floor.
#include <napi.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "broker_shm.h"
#include "fake_guest.h"

namespace sntest {

using sn::MonotonicNs;

namespace {

Napi::Value Usage(Napi::Env env, const char *u) {
  Napi::TypeError::New(env, std::string("Usage: ") + u).ThrowAsJavaScriptException();
  return env.Undefined();
}

double Seconds(uint64_t t0) { return static_cast<double>(MonotonicNs() - t0) / 1e9; }

// benchSwitch(a, aIndex, b, bIndex, frame, count): the JS thread is guest A
// sending `count` copies of `frame`; a thread is guest B draining.
Napi::Value BenchSwitch(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  const char *u = "benchSwitch(a: GuestMap, aIndex: number, b: GuestMap, bIndex: number, frame: Buffer, count: number)";
  uint64_t ai, bi, count;
  GuestMem *a = GuestMemOf(info[0]), *b = GuestMemOf(info[2]);
  if (info.Length() != 6 || !a || !b || !IsUint(info[1], 1, 63, &ai) || !IsUint(info[3], 1, 63, &bi) ||
      !info[4].IsBuffer() || !IsUint(info[5], 1, 1ULL << 32, &count))
    return Usage(env, u);
  FakeNet tx(*a, static_cast<uint32_t>(ai)), rx(*b, static_cast<uint32_t>(bi));
  if (!tx.ok() || !rx.ok()) return Usage(env, u);
  Napi::Buffer<uint8_t> frame = info[4].As<Napi::Buffer<uint8_t>>();
  std::atomic<bool> sent_all{false};
  uint64_t received = 0;
  const uint64_t t0 = MonotonicNs();
  std::thread receiver([&] {
    while (received < count) {
      uint32_t got = rx.Drain();
      received += got;
      if (got == 0 && !rx.WaitRx(sent_all.load() ? 50000000 : 1000000000) && sent_all.load()) break;
    }
  });
  for (uint64_t i = 0; i < count; i++) tx.Send(frame.Data(), static_cast<uint32_t>(frame.Length()));
  sent_all.store(true);
  receiver.join();
  Napi::Object out = Napi::Object::New(env);
  out.Set("seconds", Seconds(t0));
  out.Set("sent", static_cast<double>(count));
  out.Set("received", static_cast<double>(received));
  return out;
}

// benchBlock(map, index, op, reqBytes, count, addr, span): sequential
// synchronous requests over the first `span` bytes of the device.
Napi::Value BenchBlock(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  const char *u =
      "benchBlock(map: GuestMap, index: number, op: number, reqBytes: number, count: number, addr: number, span: "
      "number)";
  uint64_t index, op, req, count, addr, span;
  GuestMem *g = GuestMemOf(info[0]);
  if (info.Length() != 7 || !g || !IsUint(info[1], 1, 63, &index) || !IsUint(info[2], 1, 2, &op) ||
      !IsUint(info[3], 1, 1ULL << 30, &req) || !IsUint(info[4], 1, 1ULL << 32, &count) ||
      !IsUint(info[5], 0, 1ULL << 50, &addr) || !IsUint(info[6], 1, 1ULL << 50, &span) || span < req)
    return Usage(env, u);
  FakeBlk blk(*g, static_cast<uint32_t>(index));
  if (!blk.ok()) return Usage(env, u);
  uint64_t errors = 0, off = 0;
  const uint64_t t0 = MonotonicNs();
  for (uint64_t i = 0; i < count; i++) {
    if (off + req > span) off = 0;
    if (blk.Run(static_cast<uint32_t>(op), off, addr, req) != SN_BLK_ST_OK) errors++;
    off += req;
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("seconds", Seconds(t0));
  out.Set("errors", static_cast<double>(errors));
  return out;
}

// benchFloor(fd, op, reqBytes, count, span): the same I/O done directly.
Napi::Value BenchFloor(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  uint64_t fd, op, req, count, span;
  if (info.Length() != 5 || !IsUint(info[0], 0, INT32_MAX, &fd) || !IsUint(info[1], 1, 2, &op) ||
      !IsUint(info[2], 1, 1ULL << 30, &req) || !IsUint(info[3], 1, 1ULL << 32, &count) ||
      !IsUint(info[4], 1, 1ULL << 50, &span) || span < req)
    return Usage(env, "benchFloor(fd: number, op: number, reqBytes: number, count: number, span: number)");
  std::vector<uint8_t> buf(req, 0x5a);
  uint64_t off = 0;
  const uint64_t t0 = MonotonicNs();
  for (uint64_t i = 0; i < count; i++) {
    if (off + req > span) off = 0;
    ssize_t n = op == 1 ? pread(static_cast<int>(fd), buf.data(), req, static_cast<off_t>(off))
                        : pwrite(static_cast<int>(fd), buf.data(), req, static_cast<off_t>(off));
    if (n < 0) break;
    off += req;
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("seconds", Seconds(t0));
  return out;
}

}  // namespace

void RegisterBench(Napi::Env env, Napi::Object exports) {
  exports.Set("benchSwitch", Napi::Function::New(env, BenchSwitch, "benchSwitch"));
  exports.Set("benchBlock", Napi::Function::New(env, BenchBlock, "benchBlock"));
  exports.Set("benchFloor", Napi::Function::New(env, BenchFloor, "benchFloor"));
}

}  // namespace sntest
