"""The local stack's KMS server: moto's server mode, plus KMS's key-state rules.

moto (pinned in scripts/setup-moto.sh) tracks DisableKey and ScheduleKeyDeletion in each
key's state but still encrypts and decrypts with such a key. Real KMS refuses: a disabled
key answers DisabledException, a key pending deletion KMSInvalidStateException. Envelope
encryption tests depend on those refusals, so the backend's encrypt and decrypt (which
GenerateDataKey and ReEncrypt go through too) check the key's state first.

Keys live in this process's memory only; a restart forgets them.
Run by test/stack/kms.ts as: python kms-server.py --host 127.0.0.1 --port PORT
"""

import sys

from moto.core.exceptions import JsonRESTError
from moto.kms.models import KmsBackend
from moto.server import main


def refuse_unusable_key(backend, key_id):
    key = backend.keys.get(key_id)
    if key is None:
        return  # moto's own code answers NotFoundException
    if key.key_state == "Disabled":
        raise JsonRESTError("DisabledException", f"{key.arn} is disabled.")
    if key.key_state == "PendingDeletion":
        raise JsonRESTError("KMSInvalidStateException", f"{key.arn} is pending deletion.")


moto_encrypt = KmsBackend.encrypt
moto_decrypt = KmsBackend.decrypt


def encrypt(self, key_id, plaintext, encryption_context):
    refuse_unusable_key(self, self.any_id_to_key_id(key_id))
    return moto_encrypt(self, key_id=key_id, plaintext=plaintext, encryption_context=encryption_context)


def decrypt(self, ciphertext_blob, encryption_context, key_id=None):
    # The blob names its key; it is known only once moto has opened it.
    plaintext, arn = moto_decrypt(
        self, ciphertext_blob=ciphertext_blob, encryption_context=encryption_context, key_id=key_id
    )
    refuse_unusable_key(self, self.get_key_id(arn))
    return plaintext, arn


KmsBackend.encrypt = encrypt
KmsBackend.decrypt = decrypt

if __name__ == "__main__":
    main(sys.argv[1:])
