{
  "targets": [
    {
      "target_name": "mosaic_kernels",
      "sources": ["src/addon.c", "src/gemm.c", "src/conv.c", "src/adam.c"],
      "cflags": ["-O3", "-std=c11", "-ffp-contract=off", "-fno-fast-math", "-Wall", "-Wextra"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-ffp-contract=off"] }
    }
  ]
}
