import { expect } from "chai";
import * as api from "@elastic-jupyter/api";
import { API_VERSION, GROUP, KIND, PLURAL, VERSION } from "../src/api.ts";

describe("controller API names", () => {
  it("match the typed API's", () => {
    expect([GROUP, VERSION, API_VERSION]).to.deep.equal([api.GROUP, api.VERSION, api.API_VERSION]);
    const names = [api.JUPYTER_GATEWAY, api.JUPYTER_NOTEBOOK, api.JUPYTER_KERNEL, api.JUPYTER_KERNEL_TEMPLATE, api.JUPYTER_KERNEL_SPEC];
    expect(Object.values(KIND)).to.deep.equal(names.map((n) => n.kind));
    expect(Object.values(PLURAL)).to.deep.equal(names.map((n) => n.plural));
  });
});
