import { expect } from "chai";
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConfigMap } from "kubernetes-types/core/v1.js";
import { desiredKernelspecs, KERNELSPEC_LABEL, syncKernelsDir } from "../../src/kernelspecs/files.ts";

function cm(name: string, spec: string | undefined, data: Record<string, string>, binaryData?: Record<string, string>): ConfigMap {
  return { metadata: { name, labels: spec ? { [KERNELSPEC_LABEL]: spec } : {} }, data, ...(binaryData ? { binaryData } : {}) };
}

describe("kernelspec files", () => {
  it("selects labelled ConfigMaps, limited to the gateway's kernels list", () => {
    const cms = [cm("a", "python", { "kernel.json": "{}" }), cm("b", "r", { "kernel.json": "{}" }), cm("c", undefined, { "kernel.json": "{}" })];
    expect([...desiredKernelspecs(cms, []).specs.keys()]).to.deep.equal(["python", "r"]);
    expect([...desiredKernelspecs(cms, ["r"]).specs.keys()]).to.deep.equal(["r"]);
  });

  it("skips, with a reason, names that cannot be safe paths and specs without kernel.json", () => {
    const { specs, skipped } = desiredKernelspecs([
      cm("evil", "../etc", { "kernel.json": "{}" }),
      cm("empty", "ok2", { "logo.txt": "" }),
    ], []);
    expect(specs.size).to.equal(0);
    expect(skipped.join("\n")).to.contain("not a valid kernel name").and.contain("no kernel.json");
  });

  it("writes kernel.json alone: other kernelspec resources (kernel.js) would run in users' browsers", () => {
    const { specs } = desiredKernelspecs([cm("a", "py", { "kernel.json": "{}", "kernel.js": "alert(1)", "../x": "" }, { "logo-64x64.png": Buffer.from([1, 2, 3]).toString("base64") })], []);
    expect(Object.keys(specs.get("py")!)).to.deep.equal(["kernel.json"]);
  });

  it("writes, swaps atomically, removes, and leaves unmanaged entries alone", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kernels-"));
    writeFileSync(join(dir, "README"), "not ours");
    const v1 = new Map([["python", { "kernel.json": Buffer.from('{"v":1}') }]]);
    expect(await syncKernelsDir(dir, v1)).to.deep.equal({ written: ["python"], removed: [] });
    expect(readFileSync(join(dir, "python", "kernel.json"), "utf8")).to.equal('{"v":1}');
    expect(lstatSync(join(dir, "python")).isSymbolicLink()).to.equal(true);
    const firstTarget = realpathSync(join(dir, "python"));

    expect(await syncKernelsDir(dir, v1)).to.deep.equal({ written: [], removed: [] }, "unchanged input is a no-op");

    await syncKernelsDir(dir, new Map([["python", { "kernel.json": Buffer.from('{"v":2}') }]]));
    expect(readFileSync(join(dir, "python", "kernel.json"), "utf8")).to.equal('{"v":2}');
    expect(existsSync(firstTarget), "old version pruned").to.equal(false);

    expect(await syncKernelsDir(dir, new Map())).to.deep.equal({ written: [], removed: ["python"] });
    expect(readdirSync(dir).sort()).to.deep.equal([".versions", "README"]);
    expect(readdirSync(join(dir, ".versions"))).to.deep.equal([]);
  });
});
