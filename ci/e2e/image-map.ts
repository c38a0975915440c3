// The e2e's image map: which local program stands for each image the operator and the sidecar
// render, since the process kubelet runs pods as local processes (see ci/process-kubelet/main.ts).
// Our two images are real (OCI layouts the kubelet unpacks and runs): the controller (operator and
// sidecar) and the gateway (Enterprise Gateway with our files). The third-party images (the stock
// EG image, notebook and kernel images) are simulated by local programs. Commands, args and env
// come from the pods as rendered.
import { join } from "node:path";
import type { ImageMapEntry } from "../process-kubelet/image-map.ts";

/** Images the e2e's custom resources name. Repositories matter (tags are ignored by the map). */
export const E2E_IMAGES = {
  /** The stock gateway image (the e2e's gateway runs ours, ci/image/build-image.sh gateway, by digest). */
  stockGateway: "elyra/enterprise-gateway:3.3.0",
  notebook: "quay.io/jupyter/base-notebook:2026-08-24",
  /** A typical user kernel image: Python + ipykernel (+ a framework we do not need here). */
  kernel: "quay.io/jupyter/pytorch-notebook:2026-08-24",
} as const;

export interface LocalRuntimes {
  repoRoot: string;
  /** ci/build-pyenv.sh's venvs. */
  gatewayVenv: string;
  notebookVenv: string;
  /** HOMEs and the notebook's working directory live here. */
  stateDir: string;
  /** The controller image's OCI layout (ci/image/build-image.sh controller): operator and sidecar pods run it. */
  controllerLayout: string;
  /** The gateway image's OCI layout (ci/image/build-image.sh gateway): the gateway container runs it. */
  gatewayLayout: string;
}

export function e2eImageMap(r: LocalRuntimes): ImageMapEntry[] {
  const images = join(r.repoRoot, "ci/e2e/images");
  const home = (who: string): string => join(r.stateDir, "home", who);
  return [
    {
      // Our gateway image, for real: its layers are the container's root, its ENTRYPOINT
      // (start-enterprise-gateway: EG_* -> flags), user jovyan and env apply; our gateway files are
      // baked in at /opt/elastic-jupyter/gateway and the operator's ConfigMap is mounted over them.
      match: "*/elastic-jupyter/enterprise-gateway",
      ociLayout: r.gatewayLayout,
    },
    {
      // Stock Enterprise Gateway image: no command in the pod, so its ENTRYPOINT runs - here our
      // stand-in for start-enterprise-gateway.sh, with the gateway venv (EG 3.3, jupyter_server 1.x).
      // The image runs as user jovyan; EG takes a kernel's user name from its own user when the
      // request names none, and refuses "root" (unauthorized_users). Processes run as root here.
      match: "*/enterprise-gateway",
      env: { PATH: `${r.gatewayVenv}/bin:$(PATH)`, HOME: home("gateway"), USER: "jovyan", LOGNAME: "jovyan" },
      defaultCommand: [join(images, "start-enterprise-gateway.sh")],
    },
    {
      // Our controller image (operator and sidecar), for real: the built OCI image's layers are the
      // container's root and its ENTRYPOINT (node controller/dist/main.js), user and env apply.
      match: "*/elastic-jupyter/controller",
      ociLayout: r.controllerLayout,
    },
    {
      // Kernel image: the kernel pod's command is our bootstrap (python3 .../bootstrap.py); any
      // Python with ipykernel will do: the notebook venv (ipykernel 7).
      match: "*/pytorch-notebook",
      env: { PATH: `${r.notebookVenv}/bin:$(PATH)`, HOME: home("kernel") },
    },
    {
      // docker-stacks notebook images: JupyterLab 4 on jupyter_server 2.x, WORKDIR = the user's home.
      // They run as user jovyan (processes run as root here).
      match: "*/*-notebook",
      env: { PATH: `${r.notebookVenv}/bin:$(PATH)`, HOME: home("notebook"), USER: "jovyan", LOGNAME: "jovyan" },
      defaultCommand: [join(images, "start-notebook.sh")],
      workingDir: join(r.stateDir, "work"),
    },
  ];
}

/** Directories the map refers to; they must exist before pods start. */
export function imageMapDirs(stateDir: string): string[] {
  return [join(stateDir, "home/gateway"), join(stateDir, "home/kernel"), join(stateDir, "home/notebook"), join(stateDir, "work")];
}
