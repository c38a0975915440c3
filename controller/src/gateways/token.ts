// Tokens kept in Secrets (key `token`): the gateway's (EG_AUTH_TOKEN) and the notebooks' own.
// The operator generates one when the user names no Secret, creating it once and never rewriting
// it (create, not apply), so a token survives every reconcile.
import { randomBytes } from "node:crypto";
import type { Secret } from "kubernetes-types/core/v1.js";
import type { JupyterGateway } from "@elastic-jupyter/api";
import { FIELD_MANAGER, KIND, LABELS } from "../api.ts";
import type { Cache } from "../runtime/cache.ts";
import { isConflict, type KubeClient, type KubeObject } from "../runtime/client.ts";
import { GVK, MANAGED_BY, ownedMeta } from "./owned.ts";

export const TOKEN_KEY = "token";

export function newToken(): string {
  return randomBytes(24).toString("hex");
}

/** The gateway's token Secret, or undefined when its auth is disabled. */
export function gatewayTokenSecretName(gw: JupyterGateway): string | undefined {
  if ((gw.spec.auth?.mode ?? "token") !== "token") return undefined;
  return gw.spec.auth?.secretName ?? `${gw.metadata!.name!}-gateway-token`;
}

/** The generated gateway token Secret (only when the user named none). */
export function desiredGatewayTokenSecret(gw: JupyterGateway, token: string): Secret | undefined {
  if (!gatewayTokenSecretName(gw) || gw.spec.auth?.secretName) return undefined;
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: ownedMeta({ ...gw, kind: KIND.gateway }, gatewayTokenSecretName(gw)!, { ...MANAGED_BY, [LABELS.gateway]: gw.metadata!.name!, "app.kubernetes.io/component": "gateway-token" }),
    type: "Opaque",
    stringData: { [TOKEN_KEY]: token },
  };
}

/** A Secret the operator may hold: ours are cached (they carry the managed-by label); a user's
 *  is read from the API server. */
export async function getSecret(client: KubeClient, cache: Cache, namespace: string, name: string): Promise<Secret | undefined> {
  return cache.get<Secret & KubeObject>(GVK.secret, namespace, name) ?? (await client.get<Secret & KubeObject>(GVK.secret, namespace, name));
}

/**
 * Whether the token Secret `name` exists with a `token` key; when it does not exist and `generated`
 * is given, creates it (a Secret the user named is never created for them).
 */
export async function ensureTokenSecret(client: KubeClient, cache: Cache, namespace: string, name: string, generated: Secret | undefined): Promise<boolean> {
  const existing = await getSecret(client, cache, namespace, name);
  if (existing) return existing.data?.[TOKEN_KEY] !== undefined; // without the key the pod could not start
  if (!generated) return false;
  try {
    await client.create(generated as KubeObject, { fieldManager: FIELD_MANAGER });
  } catch (e) {
    if (!isConflict(e)) throw e; // created meanwhile (by us, or by the user under that name): use it
  }
  return true;
}
