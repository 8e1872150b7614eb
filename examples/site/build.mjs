// The example's production build, with nothing but Node.js: it copies src/
// to dist/, fingerprints the script and stylesheet into /assets/ the way Vite
// does (name-<hash>.ext), and rewrites index.html to point at them.
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";

const out = "dist";
rmSync(out, { recursive: true, force: true });
mkdirSync(`${out}/assets`, { recursive: true });

const release = process.env.PHOENIX_RELEASE || "dev";
let html = readFileSync("src/index.html", "utf8").replaceAll("%RELEASE%", release);
for (const [name, ext] of [["app", "js"], ["style", "css"]]) {
  const body = readFileSync(`src/${name}.${ext}`, "utf8").replaceAll("%RELEASE%", release);
  const hash = createHash("sha256").update(body).digest("base64url").slice(0, 8);
  const file = `assets/${name}-${hash}.${ext}`;
  writeFileSync(`${out}/${file}`, body);
  html = html.replaceAll(`/${name}.${ext}`, `/${file}`);
}
writeFileSync(`${out}/index.html`, html);
cpSync("src/favicon.svg", `${out}/favicon.svg`);
cpSync("src/404.html", `${out}/404.html`);
cpSync("staticwebapp.config.json", `${out}/staticwebapp.config.json`);
console.log(`built release ${release} into ${out}/`);
