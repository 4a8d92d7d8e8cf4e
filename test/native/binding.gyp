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
        "fake_hvtsolo5.cc",
        "hvt_solo5_decode.c",
        "../../addon/helper/helper_hvt_solo5_core.c",
        "../../addon/helper/helper_hvt_solo5_blk.c",
        "../../addon/helper/helper_hvt_solo5_net.c",
        "../../addon/helper/helper_hvt_loop.c",
        "../../addon/helper/helper_diag.c",
        "../../addon/net/net_stream.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "../../include",
        "../../addon",
        "../../addon/broker",
        "../../addon/net",
        "../../addon/block",
        "../../addon/helper"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_DISABLE_CPP_EXCEPTIONS"
      ],
      "cflags_c": [
        "-std=c11",
        "-O2",
        "-Wall",
        "-Wextra"
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
