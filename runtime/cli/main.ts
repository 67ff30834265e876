#!/usr/bin/env node
/**
 * Entry point. Each sink task's consume call waits for records on one of libuv's
 * threadpool threads; with the default 4, a few idle tasks would delay every file
 * write (checkpoints). The pool is sized before anything uses it, hence this file
 * imports nothing statically.
 */
process.env['UV_THREADPOOL_SIZE'] ??= '64';
await import('./program.js');
