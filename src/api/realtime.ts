// The realtime routes' shapes (API.md §4.3): the upgrade requests' query parameters and the client-token
// request and answer. What flows over the sockets is described in src/realtime/protocol.ts.
import { z } from "@hono/zod-openapi";
import { upstreamIdProblem } from "../providers/ids";
import { IsoTime } from "./schemas";

/** A voice or model id as it goes into a provider's URL: nothing that could change the URL's shape. */
const Id = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,200}$/, "letters, digits and . _ : - only")
  .superRefine((v, ctx) => {
    const problem = upstreamIdProblem(v, false);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

const SampleRate = z.coerce.number().int().min(8000).max(48000);

const TokenParam = z.string().max(400).optional().openapi({
  description: "A client token (POST /v1/realtime/tokens), for clients that cannot set headers; or the subprotocol voxgate-token.<token>",
});

export const ListenQuery = z.object({
  provider: z.string().max(40).optional().openapi({ example: "deepgram" }),
  model: Id.optional(),
  language: z
    .string()
    .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, "a language tag such as en or en-US")
    .optional(),
  encoding: z.enum(["linear16", "mulaw"]).optional().openapi({ description: "linear16 (default) or mulaw" }),
  sampleRate: SampleRate.optional().openapi({ description: "16000 by default (8000 for mulaw)" }),
  token: TokenParam,
});

export const SpeakQuery = z.object({
  provider: z.string().max(40).optional().openapi({ example: "elevenlabs" }),
  voiceId: Id.optional(),
  model: Id.optional(),
  format: z.enum(["pcm", "ulaw", "mp3"]).optional().openapi({ description: "pcm (default), ulaw or mp3" }),
  sampleRate: SampleRate.optional(),
  token: TokenParam,
});

export const OpenAiRealtimeQuery = z.object({
  model: z.string().min(1).max(200).openapi({ example: "openai/gpt-realtime", description: "openai/<model>, or an OpenAI model id" }),
  token: TokenParam,
});

export const RealtimeTokenBody = z
  .object({
    operation: z.enum(["listen", "speak", "realtime"]),
    provider: z.string().min(1).max(40).optional(),
    maxSeconds: z.number().int().min(1).max(86_400).optional(),
    maxCredits: z.number().positive().max(1_000_000_000).optional(),
    ttlSeconds: z.number().int().min(1).max(600).optional().openapi({ description: "At most 600; 60 by default" }),
  })
  .strict();

export const RealtimeTokenSchema = z
  .object({
    success: z.literal(true),
    token: z.string().openapi({ example: "vgt_dXNyXzEyMw.Qm9vdHN0cmFwIHRoZSB0b2tlbiBzZWNyZXQgaGVyZSBwbGVhc2U" }),
    expiresAt: IsoTime,
  })
  .openapi("RealtimeToken");

/** Default lifetime of a client token. */
export const TOKEN_TTL_DEFAULT_SECONDS = 60;
