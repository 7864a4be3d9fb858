// Which of `npm run dev`'s arguments (passed on to wrangler dev) name the local database it serves: the
// migrations are applied with the same ones, or wrangler dev would serve a database without tables.
// yargs takes the camelCase spelling too (`--persistTo`).
export const SAME_DATABASE = new Set(["--persist-to", "--persistTo", "--config", "-c", "--env", "-e"]);

export function databaseArgs(args) {
  const picked = [];
  for (let i = 0; i < args.length; i++) {
    const [flag] = args[i].split("=", 1);
    if (!SAME_DATABASE.has(flag)) continue;
    if (args[i].includes("=")) picked.push(args[i]);
    else if (i + 1 < args.length && !args[i + 1].startsWith("-")) picked.push(args[i], args[++i]);
  }
  return picked;
}
