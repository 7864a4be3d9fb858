// The passthrough worker: the physical limit of a Workers gateway in front of the mock providers.
// Same runtime as Voxgate (workerd, same compatibility date and flags), no auth, no validation, no
// metering: it forwards the request body to the mock provider and streams the answer back untouched.
//   POST /v1/synthesize → ElevenLabs' streaming TTS endpoint (what Voxgate calls for the default voice)
//   POST /v1/chat       → OpenAI chat completions (what Voxgate calls for gpt-* models)

const ELEVENLABS_STREAM_PATH = "/elevenlabs/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM/stream?output_format=mp3_44100_128";
const OPENAI_CHAT_PATH = "/openai/v1/chat/completions";

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (request.method !== "POST") return new Response("not found", { status: 404 });
    let url;
    let auth;
    if (pathname === "/v1/synthesize") {
      url = env.MOCK_ORIGIN + ELEVENLABS_STREAM_PATH;
      auth = { "xi-api-key": env.ELEVENLABS_API_KEY };
    } else if (pathname === "/v1/chat") {
      url = env.MOCK_ORIGIN + OPENAI_CHAT_PATH;
      auth = { authorization: `Bearer ${env.OPENAI_API_KEY}` };
    } else {
      return new Response("not found", { status: 404 });
    }
    const upstream = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...auth },
      body: request.body,
    });
    return new Response(upstream.body, upstream);
  },
};
