/** Whole-buffer gzip for connectors: the native addon (ISA-L, libdeflate) when built, node:zlib otherwise. */
export {
  compressorName,
  gunzip,
  gzip,
  gzipCodec,
  loadGzipCodec,
  MAX_GUNZIP_HINT,
  NATIVE_GZIP_ENV,
  type CompressorName,
  type GzipCodec,
  type GzipCodecOptions,
} from '../compression/native-gzip.js';
