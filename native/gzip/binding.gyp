{
  "targets": [
    {
      "target_name": "coldstore_gzip",
      "sources": ["coldstore_gzip.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror=implicit-function-declaration"],
      "libraries": ["-lisal", "-ldeflate"]
    }
  ]
}
