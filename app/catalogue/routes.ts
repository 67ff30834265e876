import type { FastifyInstance } from 'fastify';
import { ColdstoreError, ErrorCodes } from '../../runtime/api/errors.js';
import type { BackupCatalogue } from './backup-catalogue.js';

function backupId(raw: string): number {
  const id = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(id) || id < 1) {
    throw new ColdstoreError(ErrorCodes.REQUEST_INVALID, `Backup id "${raw}" is not a positive integer.`);
  }
  return id;
}

const dryRun = (query: unknown) => (query as { dryRun?: string }).dryRun === 'true';

/** Backups by id (docs/backups.md), in the spirit of Zeebe's backup API. */
export function backupRoutes(app: FastifyInstance, catalogue: BackupCatalogue): void {
  app.post<{ Params: { id: string } }>('/backups/:id', async (request, reply) => reply.code(202).send(await catalogue.create(backupId(request.params.id))));

  app.get('/backups', async () => catalogue.list());

  app.get<{ Params: { id: string } }>('/backups/:id', async (request, reply) => {
    const id = backupId(request.params.id);
    const found = await catalogue.get(id);
    if (found) return found;
    return reply.code(404).send({
      backupId: id,
      status: 'DOES_NOT_EXIST',
      error_code: 404,
      code: ErrorCodes.BACKUP_NOT_FOUND,
      message: `There is no backup ${id}. GET /backups lists them.`,
    });
  });

  app.delete<{ Params: { id: string } }>('/backups/:id', async (request) => catalogue.delete(backupId(request.params.id), dryRun(request.query)));

  app.post<{ Params: { id: string } }>('/backups/:id/verify', async (request) => catalogue.verify(backupId(request.params.id)));

  app.post('/backups/retention', async (request) => catalogue.applyRetention(dryRun(request.query)));
}
