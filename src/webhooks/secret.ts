// Where a webhook's signing secret is kept: sealed like a stored provider key (AES-256-GCM under
// PROVIDER_KEY_ENCRYPTION_KEY, src/crypto/provider-key-vault.ts), bound to its owner and to this name, so
// a ciphertext copied to another webhook (or to a provider-key row) does not decrypt.

/** The vault's "provider" slot for a webhook: no provider id contains a colon. */
export function secretName(webhookId: string): string {
  return `webhook:${webhookId}`;
}
