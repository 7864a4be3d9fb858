// Vite's ?raw imports (provider-matrix.test.ts): a file's text.
declare module "*?raw" {
  const text: string;
  export default text;
}
