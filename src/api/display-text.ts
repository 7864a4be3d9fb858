// Text a person reads in a listing — an API key's name, an agent's name, a webhook's description: stored
// trimmed, so "  Prod " and "Prod" are the same name, and refused when nothing is left after trimming
// (400 validation_failed naming the field), so no listing shows an entry named by whitespace alone.
import { z } from "@hono/zod-openapi";

export const BLANK_TEXT = "must not be empty or only whitespace";

/** A required display text of at most `max` characters once trimmed. */
export const displayText = (max: number) =>
  z
    .string()
    .trim()
    .min(1, BLANK_TEXT)
    .max(max, `at most ${max} characters`)
    .openapi({ description: `Stored trimmed; 1..${max} characters, not only whitespace` });
