/*
 * Whole-buffer gzip for coldstore's bundles: ISA-L's igzip for the fast levels (1-3),
 * libdeflate for the others and for every gunzip. Each call is one napi_async_work
 * on libuv's threadpool, so the main thread never waits for (de)compression. The
 * output is a new Buffer owning the malloc'd result (no copy on the main thread).
 * Plain gzip in and out: any decoder reads what this writes, and anything unusual
 * on the way in is rejected so the caller can fall back to node:zlib.
 */
#include <isa-l.h>
#include <libdeflate.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_DEFLATE_LEVEL 4
#define MIN_GUNZIP_CAPACITY (64 * 1024)

typedef enum { JOB_GZIP, JOB_GUNZIP } job_kind;

typedef struct {
  job_kind kind;
  int level;
  const uint8_t *in;
  size_t in_len;
  size_t size_hint;
  napi_ref in_ref; /* keeps the input Buffer alive while a pool thread reads it */
  uint8_t *out;
  size_t out_len;
  const char *error; /* a static message, or NULL */
  napi_deferred deferred;
  napi_async_work work;
} job;

/* Room for the worst case: stored blocks (5 bytes per 64 KiB) plus header and trailer. */
static size_t isal_gzip_bound(size_t n) { return n + (n >> 8) + 1024; }

static void gzip_with_isal(job *j) {
  static const uint32_t level_buf_sizes[] = {0, ISAL_DEF_LVL1_DEFAULT, ISAL_DEF_LVL2_DEFAULT, ISAL_DEF_LVL3_DEFAULT};
  size_t capacity = isal_gzip_bound(j->in_len);
  if (capacity > UINT32_MAX) {
    j->error = "input too large for igzip (4 GiB)";
    return;
  }
  /* The stream holds a 64 KiB history buffer and hash tables: too big for a pool thread's stack. */
  struct isal_zstream *stream = malloc(sizeof(*stream));
  uint8_t *level_buf = malloc(level_buf_sizes[j->level]);
  uint8_t *out = malloc(capacity);
  if (stream == NULL || level_buf == NULL || out == NULL) {
    j->error = "out of memory";
    goto done;
  }
  isal_deflate_stateless_init(stream);
  stream->next_in = (uint8_t *)j->in;
  stream->avail_in = (uint32_t)j->in_len;
  stream->next_out = out;
  stream->avail_out = (uint32_t)capacity;
  stream->level = (uint32_t)j->level;
  stream->level_buf = level_buf;
  stream->level_buf_size = level_buf_sizes[j->level];
  stream->gzip_flag = IGZIP_GZIP;
  stream->end_of_stream = 1;
  stream->flush = NO_FLUSH;
  if (isal_deflate_stateless(stream) != COMP_OK || stream->avail_in != 0) {
    j->error = "igzip compression failed";
    goto done;
  }
  j->out_len = stream->total_out;
  j->out = out;
  out = NULL;
done:
  free(out);
  free(level_buf);
  free(stream);
}

static void gzip_with_libdeflate(job *j) {
  struct libdeflate_compressor *compressor = libdeflate_alloc_compressor(j->level);
  if (compressor == NULL) {
    j->error = "out of memory";
    return;
  }
  size_t capacity = libdeflate_gzip_compress_bound(compressor, j->in_len);
  uint8_t *out = malloc(capacity);
  size_t written = out == NULL ? 0 : libdeflate_gzip_compress(compressor, j->in, j->in_len, out, capacity);
  libdeflate_free_compressor(compressor);
  if (written == 0) {
    free(out);
    j->error = out == NULL ? "out of memory" : "libdeflate compression failed";
    return;
  }
  j->out = out;
  j->out_len = written;
}

/*
 * Member by member (a body may be several gzip members back to back). The first
 * guess is the caller's size hint (the trailer's ISIZE); a member that does not fit
 * doubles the buffer and is decompressed again.
 */
static void gunzip_with_libdeflate(job *j) {
  if (j->in_len == 0) {
    j->error = "empty input";
    return;
  }
  struct libdeflate_decompressor *decompressor = libdeflate_alloc_decompressor();
  size_t capacity = j->size_hint > MIN_GUNZIP_CAPACITY ? j->size_hint : MIN_GUNZIP_CAPACITY;
  uint8_t *out = decompressor == NULL ? NULL : malloc(capacity);
  size_t in_pos = 0, out_pos = 0;
  if (out == NULL) j->error = "out of memory";
  while (j->error == NULL && in_pos < j->in_len) {
    size_t consumed = 0, written = 0;
    enum libdeflate_result result = libdeflate_gzip_decompress_ex(decompressor, j->in + in_pos, j->in_len - in_pos, out + out_pos,
                                                                  capacity - out_pos, &consumed, &written);
    if (result == LIBDEFLATE_SUCCESS && consumed > 0) {
      in_pos += consumed;
      out_pos += written;
    } else if (result == LIBDEFLATE_INSUFFICIENT_SPACE && capacity <= SIZE_MAX / 2) {
      uint8_t *grown = realloc(out, capacity * 2);
      if (grown == NULL) {
        j->error = "out of memory";
      } else {
        out = grown;
        capacity *= 2;
      }
    } else {
      j->error = "not a well-formed gzip body";
    }
  }
  if (decompressor != NULL) libdeflate_free_decompressor(decompressor);
  if (j->error != NULL) {
    free(out);
    return;
  }
  j->out = out;
  j->out_len = out_pos;
}

static void execute(napi_env env, void *data) {
  (void)env;
  job *j = data;
  if (j->kind == JOB_GUNZIP) {
    gunzip_with_libdeflate(j);
  } else if (j->level < FIRST_DEFLATE_LEVEL) {
    gzip_with_isal(j);
  } else {
    gzip_with_libdeflate(j);
  }
  /* Give back what the result does not use (compressed output is often a fraction of its bound). */
  if (j->out != NULL && j->out_len > 0) {
    uint8_t *shrunk = realloc(j->out, j->out_len);
    if (shrunk != NULL) j->out = shrunk;
  }
}

static void free_output(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

static napi_value make_output(napi_env env, job *j) {
  napi_value result = NULL;
  if (j->out_len == 0) {
    free(j->out);
    j->out = NULL;
    napi_create_buffer(env, 0, NULL, &result);
    return result;
  }
  napi_status status = napi_create_external_buffer(env, j->out_len, j->out, free_output, NULL, &result);
  if (status == napi_ok) {
    j->out = NULL;
    return result;
  }
  /* Runtimes that forbid external buffers get a copy. */
  status = napi_create_buffer_copy(env, j->out_len, j->out, NULL, &result);
  free(j->out);
  j->out = NULL;
  return status == napi_ok ? result : NULL;
}

static void complete(napi_env env, napi_status status, void *data) {
  job *j = data;
  napi_delete_reference(env, j->in_ref);
  napi_value output = NULL;
  if (status == napi_ok && j->error == NULL) output = make_output(env, j);
  if (output != NULL) {
    napi_resolve_deferred(env, j->deferred, output);
  } else {
    napi_value message, error;
    const char *text = j->error != NULL ? j->error : status == napi_cancelled ? "cancelled" : "cannot create the output buffer";
    napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &error);
    napi_reject_deferred(env, j->deferred, error);
    free(j->out);
  }
  napi_delete_async_work(env, j->work);
  free(j);
}

/* gzip(buffer, level) and gunzip(buffer, sizeHint): both return a Promise<Buffer>. */
static napi_value start_job(napi_env env, napi_callback_info info, job_kind kind) {
  size_t argc = 2;
  napi_value argv[2], promise, name;
  bool is_buffer = false;
  int64_t number = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || napi_is_buffer(env, argv[0], &is_buffer) != napi_ok ||
      !is_buffer || napi_get_value_int64(env, argv[1], &number) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected (Buffer, number)");
    return NULL;
  }
  if (kind == JOB_GZIP && (number < 1 || number > 9)) {
    napi_throw_range_error(env, NULL, "gzip level must be 1..9");
    return NULL;
  }
  job *j = calloc(1, sizeof(*j));
  if (j == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  j->kind = kind;
  j->level = kind == JOB_GZIP ? (int)number : 0;
  j->size_hint = kind == JOB_GUNZIP && number > 0 ? (size_t)number : 0;
  void *data = NULL;
  napi_get_buffer_info(env, argv[0], &data, &j->in_len);
  j->in = data;
  napi_create_reference(env, argv[0], 1, &j->in_ref);
  napi_create_promise(env, &j->deferred, &promise);
  napi_create_string_utf8(env, kind == JOB_GZIP ? "coldstore.gzip" : "coldstore.gunzip", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, j, &j->work);
  napi_queue_async_work(env, j->work);
  return promise;
}

static napi_value gzip(napi_env env, napi_callback_info info) { return start_job(env, info, JOB_GZIP); }
static napi_value gunzip(napi_env env, napi_callback_info info) { return start_job(env, info, JOB_GUNZIP); }

static napi_value init(napi_env env, napi_value exports) {
  napi_value isal_version, libdeflate_version;
  char isal[32];
  snprintf(isal, sizeof(isal), "%d.%d.%d", ISAL_MAJOR_VERSION, ISAL_MINOR_VERSION, ISAL_PATCH_VERSION);
  napi_create_string_utf8(env, isal, NAPI_AUTO_LENGTH, &isal_version);
  napi_create_string_utf8(env, LIBDEFLATE_VERSION_STRING, NAPI_AUTO_LENGTH, &libdeflate_version);
  napi_property_descriptor properties[] = {
      {"gzip", NULL, gzip, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gunzip", NULL, gunzip, NULL, NULL, NULL, napi_enumerable, NULL},
      {"isalVersion", NULL, NULL, NULL, NULL, isal_version, napi_enumerable, NULL},
      {"libdeflateVersion", NULL, NULL, NULL, NULL, libdeflate_version, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
