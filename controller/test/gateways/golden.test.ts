// The golden files are valid API objects: every object in them passes the real API server's
// strict validation (server-side dry run), so a misspelt field cannot hide in a golden file.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { freshNamespace, kubectl } from "../../../ci/test/cluster.ts";

const golden = (folder: string, file: string) => fileURLToPath(new URL(`../${folder}/testdata/${file}`, import.meta.url));
const files = [
  golden("gateways", "jupytergateway-elastic.yaml"),
  golden("gateways", "jupytergateway-elastic-with-custom-kernels.yaml"),
  golden("gateways", "gw-full.yaml"),
  golden("notebooks", "notebooks.yaml"),
  golden("kernelspecs", "kernelspec-configmaps.yaml"),
];

/** Every Kubernetes object (something with apiVersion and kind) inside a golden document. */
function objectsIn(value: unknown): Array<Record<string, any>> {
  if (!value || typeof value !== "object") return [];
  const v = value as Record<string, any>;
  if (typeof v.apiVersion === "string" && typeof v.kind === "string") return [v];
  return Object.values(v).flatMap(objectsIn);
}

describe("golden files are valid API objects", function () {
  let ns: string;
  before(async () => { ns = await freshNamespace("golden"); });
  after(async () => { await kubectl(["delete", "namespace", ns, "--wait=false"]); });

  for (const file of files) {
    it(file.split("/controller/test/")[1]!, async () => {
      const objects = objectsIn(parse(readFileSync(file, "utf8")));
      expect(objects.length).to.be.greaterThan(0);
      for (const obj of objects) {
        obj.metadata.namespace = ns;
        const r = await kubectl(["apply", "--dry-run=server", "--validate=strict", "--server-side", "-f", "-"], JSON.stringify(obj));
        expect(r.code, `${obj.kind} ${obj.metadata.name}: ${r.stderr}`).to.equal(0);
      }
    });
  }
});
