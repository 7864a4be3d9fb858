// Text a person reads in a listing — an API key's name, an agent's name, a webhook's description: stored
// trimmed, so "  Prod " and "Prod" are the same name, and refused when nothing is left after trimming
// (400 validation_failed naming the field), so no listing shows an entry named by whitespace alone — nor
// by characters that show nothing either: zero-width ones (U+200B…U+200D, U+2060, U+180E) and the other
// default-ignorable code points (Hangul fillers, bidi controls, variation selectors). A name with anything
// visible in it is stored as sent, trimmed of whitespace only (a ZWJ or a variation selector in an emoji is
// part of it).
import { z } from "@hono/zod-openapi";

/** Whitespace and the code points a renderer shows as nothing (Unicode's Default_Ignorable_Code_Point). */
const INVISIBLE = /[\s\p{Default_Ignorable_Code_Point}]/gu;

export const BLANK_TEXT = "must not be empty or only whitespace";

/** A required display text of at most `max` characters once trimmed. */
export const displayText = (max: number) =>
  z
    .string()
    .trim()
    .min(1, BLANK_TEXT)
    .max(max, `at most ${max} characters`)
    // (An empty text is min's to refuse: one issue for the field.)
    .refine((text) => text === "" || text.replace(INVISIBLE, "") !== "", BLANK_TEXT)
    .openapi({ description: `Stored trimmed; 1..${max} characters, not only whitespace` });
