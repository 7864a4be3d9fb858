// Vite's ?inline imports (audio-files.ts): the file's bytes as a base64 data: URL.
declare module "*?inline" {
  const dataUrl: string;
  export default dataUrl;
}
