// Types shared by the five kinds. Kubernetes core types come from `kubernetes-types`; where we
// narrow one (conditions, pod template metadata) we derive from it instead of copying it.
//
// JSDoc tags read by the generator (schema-gen/src/generate.ts):
//   @minimum @maximum @pattern @minLength @maxLength @minItems @maxItems @default @format  JSON Schema
//   @asType integer        the JSON type `integer` for a TS `number`
//   @coreType <name>       this field holds a Kubernetes core type: its inner descriptions are
//                          dropped from the generated CRD and it stays open in values.schema.json
//   @listType / @listMapKeys   x-kubernetes-list-type / x-kubernetes-list-map-keys
//   @validations [{rule, message, fieldPath?}]   x-kubernetes-validations (CEL), in JSON5
//   @preserveUnknownFields x-kubernetes-preserve-unknown-fields (only where truly free-form)
//   @intOrString           x-kubernetes-int-or-string
import type { EnvVar, PodSpec as CorePodSpec } from "kubernetes-types/core/v1.js";
import type { Condition as MetaCondition, ObjectMeta } from "kubernetes-types/meta/v1.js";

/**
 * A pod's resource claim (DRA) as API servers serve it since Kubernetes 1.31: the claim or the
 * claim template is named directly. kubernetes-types 1.30 still has the alpha `source` object,
 * which no API server of a supported version accepts.
 */
export interface PodResourceClaim {
  /** The claim's name within the pod; containers use it in `resources.claims`. */
  name: string;
  /** An existing ResourceClaim in the pod's namespace. */
  resourceClaimName?: string;
  /** A ResourceClaimTemplate in the pod's namespace; a ResourceClaim is made from it for the pod. */
  resourceClaimTemplateName?: string;
}

/** core/v1 PodSpec with the resource claims of current API servers. */
export interface PodSpec extends Omit<CorePodSpec, "resourceClaims"> {
  /** DRA claims the pod's containers use. */
  resourceClaims?: PodResourceClaim[];
}

/**
 * A whole number.
 * @asType integer
 */
export type Integer = number;

/**
 * A reference to another object of this API by name, in the same namespace unless `namespace` is set.
 */
export interface ObjectRef {
  /**
   * Name of the referenced object.
   * @minLength 1
   * @maxLength 253
   * @pattern ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$
   */
  name: string;
  /**
   * Namespace of the referenced object; defaults to the namespace of the referring object.
   * @maxLength 63
   * @pattern ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$
   */
  namespace?: string;
}

/** The three values of a condition's status. */
export type ConditionStatus = "True" | "False" | "Unknown";

/**
 * A standard Kubernetes condition (metav1.Condition) with the validation that Kubernetes' own
 * CRDs put on it.
 */
export interface Condition extends MetaCondition {
  /**
   * Type of the condition in CamelCase, e.g. `Ready`.
   * @maxLength 316
   * @pattern ^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?){0,}\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$
   */
  type: string;
  /** Status of the condition: True, False or Unknown. */
  status: ConditionStatus;
  /**
   * Why the condition last changed, a CamelCase word a script can match (e.g. `TemplateNotFound`).
   * @minLength 1
   * @maxLength 1024
   * @pattern ^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$
   */
  reason: string;
  /**
   * A human-readable message about the last transition; may be empty.
   * @maxLength 32768
   */
  message: string;
  /**
   * When the condition last changed status.
   * @format date-time
   */
  lastTransitionTime: string;
  /**
   * The `metadata.generation` this condition was computed from.
   * @asType integer
   * @minimum 0
   */
  observedGeneration?: number;
}

/** Status fields every kind has, so kstatus-based tools (Helm 4 --wait, Argo CD, Flux) can tell readiness. */
export interface CommonStatus {
  /**
   * The `metadata.generation` the controller last acted on; status is current when it equals the generation.
   * @asType integer
   * @minimum 0
   */
  observedGeneration?: number;
  /**
   * Current conditions of this object; `Ready` summarises them.
   * @listType map
   * @listMapKeys ["type"]
   * @maxItems 16
   */
  conditions?: Condition[];
}

/**
 * Metadata of a pod template: labels and annotations for the pod. Any other key with a string
 * value is accepted too and treated as a label, because the original operator's examples put
 * labels such as `app` and `component` directly under `metadata`.
 * @preserveUnknownFields
 */
export interface PodTemplateMetadata extends Pick<ObjectMeta, "labels" | "annotations"> {
  [legacyLabel: string]: string | { [key: string]: string } | undefined;
}

/**
 * A pod template: core/v1 PodTemplateSpec, with its metadata narrowed to labels and annotations
 * (plus the original operator's label shorthand).
 */
export interface PodTemplate {
  /** Labels and annotations for the pod (other string keys are treated as labels). */
  metadata?: PodTemplateMetadata;
  /**
   * The pod spec.
   * @coreType core/v1.PodSpec
   */
  spec?: PodSpec;
}

/** Like PodTemplate, but every part of the pod spec is optional: it is merged over what the controller generates. */
export interface PodTemplateOverrides {
  /** Labels and annotations added to the pod. */
  metadata?: Pick<ObjectMeta, "labels" | "annotations">;
  /**
   * Pod spec fields merged over the generated pod (containers are matched by name).
   * @coreType core/v1.PodSpec
   */
  spec?: Partial<PodSpec>;
}

/**
 * A list of environment variables keyed by name. (Fields using it say `@coreType core/v1.EnvVar`
 * themselves: tags on an alias do not survive Omit<>, which the values types use.)
 * @listType map
 * @listMapKeys ["name"]
 */
export type EnvList = EnvVar[];

/** The pattern of a port range "lo..hi" (EG's format; "0..0" means any port). */
export const PORT_RANGE_PATTERN = "^[0-9]{1,5}\\.\\.[0-9]{1,5}$";

/** A Kubernetes object name (DNS-1123 subdomain). */
export const DNS_SUBDOMAIN_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
