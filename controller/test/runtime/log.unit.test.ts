import { expect } from "chai";
import { createLogger } from "../../src/runtime/log.ts";

describe("createLogger", () => {
  it("writes one JSON object per line with ts, level, msg and fields, errors as their message", () => {
    const lines: string[] = [];
    const log = createLogger("info", { role: "sidecar" }, (l) => lines.push(l)).with({ controller: "kernels" });
    const err = Object.assign(new Error("conflict"), { statusCode: 409 });
    log.error("reconcile failed", { key: "ns/k1", err });
    expect(lines).to.have.length(1);
    const rec = JSON.parse(lines[0]!);
    expect(rec).to.include({ level: "error", msg: "reconcile failed", role: "sidecar", controller: "kernels", key: "ns/k1" });
    expect(rec.err).to.deep.equal({ message: "conflict", statusCode: 409 });
    expect(new Date(rec.ts).toISOString()).to.equal(rec.ts);
  });

  it("drops lines below its level", () => {
    const lines: string[] = [];
    const log = createLogger("warn", {}, (l) => lines.push(l));
    log.debug("d"); log.info("i"); log.warn("w"); log.error("e");
    expect(lines.map((l) => JSON.parse(l).msg)).to.deep.equal(["w", "e"]);
  });
});
