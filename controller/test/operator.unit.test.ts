import { expect } from "chai";
import { DEFAULT_GATEWAY_IMAGE } from "../src/gateways/deployment.ts";
import { DEFAULT_NOTEBOOK_IMAGE } from "../src/notebooks/deployment.ts";
import { operatorOptionsFromEnv } from "../src/operator.ts";

describe("operator settings", () => {
  it("defaults to the pinned images and the checkout's gateway and kernel files", () => {
    const o = operatorOptionsFromEnv({});
    expect(o.gatewayImage).to.equal(DEFAULT_GATEWAY_IMAGE);
    expect(o.notebookImage).to.equal(DEFAULT_NOTEBOOK_IMAGE);
    expect(o.sidecarImage).to.match(/^ghcr\.io\/elastic-jupyter\/controller:\d+\.\d+\.\d+/);
    expect(o.gatewayFiles).to.include.keys("process_proxy.py", "launch_kernel.py");
    expect(o.kernelFiles).to.include.keys("bootstrap.py");
  });

  it("takes images from the environment the chart sets", () => {
    const o = operatorOptionsFromEnv({ EJ_GATEWAY_IMAGE: "mirror/eg@sha256:" + "a".repeat(64), EJ_SIDECAR_IMAGE: "mirror/ctl:1", EJ_NOTEBOOK_IMAGE: "mirror/nb:2" });
    expect(o).to.include({ gatewayImage: "mirror/eg@sha256:" + "a".repeat(64), sidecarImage: "mirror/ctl:1", notebookImage: "mirror/nb:2" });
  });

  it("names the variable when a setting is wrong", () => {
    expect(() => operatorOptionsFromEnv({ EJ_NOTEBOOK_IMAGE: "has space" })).to.throw(/^EJ_NOTEBOOK_IMAGE must be an image reference/);
    expect(() => operatorOptionsFromEnv({ EJ_GATEWAY_FILES_DIR: "/nonexistent" })).to.throw(/^EJ_GATEWAY_FILES_DIR: gateway files: cannot read directory \/nonexistent/);
    expect(() => operatorOptionsFromEnv({ EJ_KERNEL_FILES_DIR: "/tmp" })).to.throw(/^EJ_KERNEL_FILES_DIR: .*bootstrap\.py is missing/);
  });
});
