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

function masterKeys(config: Config): Map<number, string> {
  const keys = new Map<number, string>();
  for (const entry of (config.PROVIDER_KEY_ENCRYPTION_KEYS_PREVIOUS ?? "").split(",")) {
    const m = /^\s*(\d+)\s*:\s*(\S+)\s*$/.exec(entry);
    if (m?.[1] !== undefined && m[2] !== undefined) keys.set(Number(m[1]), m[2]);
  }
  if (config.PROVIDER_KEY_ENCRYPTION_KEY) keys.set(config.PROVIDER_KEY_ENCRYPTION_KEY_VERSION, config.PROVIDER_KEY_ENCRYPTION_KEY);
  return keys;
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

/** The plaintext, or null when it cannot be decrypted (wrong row, unknown master-key version, tampering). */
export async function open(config: Config, userId: string, provider: string, sealed: Sealed): Promise<string | null> {
  const secret = masterKeys(config).get(sealed.keyVersion);
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
