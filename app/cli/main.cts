#!/usr/bin/env node
/**
 * Entry point. Each sink task's consume call waits for records on one of libuv's
 * threadpool threads; with the default 4, a few idle tasks would delay every file
 * write (checkpoints) and gzip job. The pool is sized when first used, and Node's ES
 * module loader uses it before the first line of an ES module runs, so this entry is
 * CommonJS: it sets the size, then loads the program.
 */
process.env['UV_THREADPOOL_SIZE'] ??= '64';
void import('./program.js');
