{
  "targets": [
    {
      "target_name": "solo5_node",
      "sources": [
        "addon/addon_main.cc",
        "addon/broker_config.cc",
        "addon/broker_guest.cc",
        "addon/broker_layout.cc",
        "addon/broker_napi.cc",
        "addon/broker_pump.cc",
        "addon/broker_solo5.cc",
        "addon/block_dev.cc",
        "addon/net_dev.cc",
        "addon/net_endpoint.cc",
        "addon/net_fair.cc",
        "addon/net_napi.cc",
        "addon/net_pcap.cc",
        "addon/net_port.cc",
        "addon/net_sock.cc",
        "addon/net_switch.cc",
        "addon/net_tap.cc",
        "addon/spawn.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "include"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra"]
    }
  ]
}
