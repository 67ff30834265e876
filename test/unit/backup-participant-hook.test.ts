import { describe, expect, it } from 'vitest';
import { backupParticipantOf, type BackupParticipant } from '../../connectors/common/backups.js';

describe('backupParticipantOf', () => {
  it("finds a started connector's backups hook on the instance the runtime hands over, without the runtime knowing it", () => {
    const participant = { refusal: () => undefined } as unknown as BackupParticipant;
    const connector = {
      participant,
      backups(this: { participant: BackupParticipant }) {
        return this.participant;
      },
    };
    expect(backupParticipantOf(connector)).toBe(participant);
  });

  it('is undefined for no connector, or one without the hook', () => {
    expect(backupParticipantOf(undefined)).toBeUndefined();
    expect(backupParticipantOf({ start: () => undefined })).toBeUndefined();
  });
});
