// Stored provider keys: AES-256-GCM (WebCrypto) under a master key from PROVIDER_KEY_ENCRYPTION_KEY.
// Each row records the master key's version, so the master key can be rotated: older versions stay
// readable through PROVIDER_KEY_ENCRYPTION_KEYS_PREVIOUS ("1:<base64>,2:<base64>"). The owner and the
// provider are bound in as additional data: a ciphertext copied to another row does not decrypt.
import type { Config } from "../config";
import { base64ToBytes, bytesToBase64 } from "../encoding/base64";
import { ApiError } from "../http/errors";

export interface Sealed {
  ciphertext: string;
  iv: string;
  keyVersion: number;
}

const IV_BYTES = 12;
const imported = new Map<string, Promise<CryptoKey>>();

/** The master key of a version: the current one, or one of the previous ones (parsed and checked by config.ts). */
function masterKey(config: Config, version: number): string | undefined {
  if (config.PROVIDER_KEY_ENCRYPTION_KEY && version === config.PROVIDER_KEY_ENCRYPTION_KEY_VERSION)
    return config.PROVIDER_KEY_ENCRYPTION_KEY;
  return config.PROVIDER_KEY_ENCRYPTION_KEYS_PREVIOUS.get(version);
}

function cryptoKey(secret: string): Promise<CryptoKey> {
  let key = imported.get(secret);
  if (!key) {
    const raw = base64ToBytes(secret);
    if (raw.byteLength !== 32) {
      throw new ApiError("misconfigured", "PROVIDER_KEY_ENCRYPTION_KEY must be 32 bytes, base64-encoded.");
    }
    key = crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
    imported.set(secret, key);
  }
  return key;
}

function additionalData(userId: string, provider: string): Uint8Array {
  return new TextEncoder().encode(`voxgate/provider-key/v1|${userId}|${provider}`);
}

export async function seal(config: Config, userId: string, provider: string, plaintext: string): Promise<Sealed> {
  if (!config.PROVIDER_KEY_ENCRYPTION_KEY) {
    throw new ApiError("misconfigured", "Storing provider keys needs the secret PROVIDER_KEY_ENCRYPTION_KEY.");
  }
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const data = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: additionalData(userId, provider) },
    await cryptoKey(config.PROVIDER_KEY_ENCRYPTION_KEY),
    new TextEncoder().encode(plaintext),
  );
  return { ciphertext: bytesToBase64(new Uint8Array(data)), iv: bytesToBase64(iv), keyVersion: config.PROVIDER_KEY_ENCRYPTION_KEY_VERSION };
}

/**
 * The answer when a stored provider key cannot be decrypted (its master key rotated away without
 * PROVIDER_KEY_ENCRYPTION_KEYS_PREVIOUS, a tampered or moved row): on the gateway and on verify (realtime
 * answers the same code) 400 provider_key_missing, as for no key at all (API.md §3). It is not a
 * 409 (nothing concurrent, a retry fails the same) nor a 5xx to retry: the user must store the key again
 * (or send it as BYOK), and this code is what a client already acts on that way.
 */
export function unreadableStoredKey(provider: { id: string; name: string }): ApiError {
  return new ApiError(
    "provider_key_missing",
    `The stored ${provider.name} key can no longer be decrypted (the server's encryption key changed); store it again.`,
    { provider: provider.id },
  );
}

/** The plaintext, or null when it cannot be decrypted (wrong row, unknown master-key version, tampering). */
export async function open(config: Config, userId: string, provider: string, sealed: Sealed): Promise<string | null> {
  const secret = masterKey(config, sealed.keyVersion);
  if (!secret) return null;
  try {
    const data = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: base64ToBytes(sealed.iv), additionalData: additionalData(userId, provider) },
      await cryptoKey(secret),
      base64ToBytes(sealed.ciphertext),
    );
    return new TextDecoder().decode(data);
  } catch {
    return null;
  }
}
