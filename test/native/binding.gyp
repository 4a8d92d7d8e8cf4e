{
  "targets": [
    {
      "target_name": "sn_test",
      "sources": [
        "sn_test_main.cc",
        "fake_guest.cc",
        "fake_hostile.cc",
        "fake_bench.cc",
        "fake_stream.cc",
        "fake_hvtring.cc",
        "../../addon/net/net_stream.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "../../include",
        "../../addon",
        "../../addon/broker",
        "../../addon/net",
        "../../addon/block"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_DISABLE_CPP_EXCEPTIONS"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-O2",
        "-Wall",
        "-Wextra"
      ]
    }
  ]
}
