import type { FastifyInstance } from 'fastify';

/** The status page at /ui. */
export function uiRoutes(_app: FastifyInstance): void {}
