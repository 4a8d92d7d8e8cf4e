{
  "targets": [
    {
      "target_name": "solo5_node",
      "sources": ["<!@(node sources.js binding.gyp solo5_node sources)"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node sources.js binding.gyp solo5_node include_dirs)"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O1", "-g", "-Wall", "-Wextra", "-fno-omit-frame-pointer", "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined"],
      "ldflags": ["-fsanitize=address,undefined"]
    },
    {
      "target_name": "sn_test",
      "sources": ["<!@(node sources.js test/native/binding.gyp sn_test sources)"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node sources.js test/native/binding.gyp sn_test include_dirs)"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O1", "-g", "-Wall", "-Wextra", "-fno-omit-frame-pointer", "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined"],
      "ldflags": ["-fsanitize=address,undefined"]
    }
  ]
}
