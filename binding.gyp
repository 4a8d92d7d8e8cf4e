{
  "targets": [
    {
      "target_name": "solo5_node",
      "sources": [
        "addon/addon_main.cc",
        "addon/block/block_dev.cc",
        "addon/block/block_readahead.cc",
        "addon/broker/broker_affinity.cc",
        "addon/broker/broker_config.cc",
        "addon/broker/broker_guest.cc",
        "addon/broker/broker_hvtring.cc",
        "addon/broker/broker_layout.cc",
        "addon/broker/broker_napi.cc",
        "addon/broker/broker_pump.cc",
        "addon/broker/broker_solo5.cc",
        "addon/net/net_dev.cc",
        "addon/net/net_endpoint.cc",
        "addon/net/net_fair.cc",
        "addon/net/net_napi.cc",
        "addon/net/net_pcap.cc",
        "addon/net/net_port.cc",
        "addon/net/net_sock.cc",
        "addon/net/net_stream.cc",
        "addon/net/net_switch.cc",
        "addon/net/net_tap.cc",
        "addon/net/switchd.cc",
        "addon/net/switchd_napi.cc",
        "addon/net/switchd_port.cc",
        "addon/net/switchd_sock.cc",
        "addon/oci/oci_console.cc",
        "addon/spawn/spawn.cc",
        "addon/spawn/spawn_exec.cc",
        "addon/spawn/spawn_ns.cc",
        "addon/virtio/kvm_probe.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "include",
        "addon",
        "addon/broker",
        "addon/net",
        "addon/block"
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
