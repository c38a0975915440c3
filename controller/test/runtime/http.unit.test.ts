// The controller gets node:http without an ES import (runtime/http.ts), since an ES import of it
// loads undici, http2, zlib and web streams, ~6 MiB of RSS it never uses.
import { expect } from "chai";
import { execFileSync } from "node:child_process";

const src = new URL("../../src/", import.meta.url);
/** The built-in modules a fresh node process has loaded once it has run `code` (an ES module). */
function loadedAfter(code: string): string[] {
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", `${code}\nconsole.log(JSON.stringify(process.moduleLoadList));`], { encoding: "utf8" });
  return JSON.parse(out) as string[];
}
const heavy = (mods: string[]) => mods.filter((m) => /undici|http2|webstreams/.test(m));

describe("runtime/http: what the controller's modules load", () => {
  it("an ES import of node:http loads undici on this Node (else runtime/http.ts is dead and can go)", () => {
    expect(heavy(loadedAfter(`import "node:http";`))).to.include("NativeModule internal/deps/undici/undici");
  });

  it("the controller's modules (both roles, the API client, the health server, the culler) load neither undici nor http2", () => {
    const modules = ["roles.ts", "runtime/manager.ts", "runtime/client.ts", "runtime/health.ts", "culling/gateway-api.ts"];
    const imports = modules.map((m) => `await import(${JSON.stringify(new URL(m, src).href)});`).join("\n");
    expect(heavy(loadedAfter(imports))).to.deep.equal([]);
  });
});
