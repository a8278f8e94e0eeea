"""The KEDA fields our manifests use, as KEDA documents them (keda.sh/docs, ScaledObject spec,
TriggerAuthentication, the redis scaler). kubernetes-validate knows no CRDs, so these stand in:
an unknown or misspelt field fails, as `kubectl apply` against KEDA's CRDs would."""

from __future__ import annotations

from typing import Any

_NAME_REF: dict[str, Any] = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string"}, "kind": {"type": "string"}},
    "additionalProperties": False,
}
_METADATA: dict[str, Any] = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "namespace": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "additionalProperties": False,
}
# The redis scaler's metadata: every value is a string (KEDA parses them itself).
_REDIS_METADATA: dict[str, Any] = {
    "type": "object",
    "required": ["listName"],
    "properties": {
        name: {"type": "string"}
        for name in (
            "address", "addressFromEnv", "host", "hostFromEnv", "port", "portFromEnv",
            "username", "usernameFromEnv", "passwordFromEnv", "listName", "listLength",
            "activationListLength", "databaseIndex", "enableTLS", "unsafeSsl",
        )
    },
    "oneOf": [{"required": ["address"]}, {"required": ["addressFromEnv"]},
              {"required": ["host"]}, {"required": ["hostFromEnv"]}],
    "additionalProperties": False,
}  # fmt: skip
_TRIGGER: dict[str, Any] = {
    "type": "object",
    "required": ["type", "metadata"],
    "properties": {
        "type": {"const": "redis"},
        "name": {"type": "string"},
        "metadata": _REDIS_METADATA,
        "authenticationRef": _NAME_REF,
    },
    "additionalProperties": False,
}
SCALED_OBJECT: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "keda.sh/v1alpha1"},
        "kind": {"const": "ScaledObject"},
        "metadata": _METADATA,
        "spec": {
            "type": "object",
            "required": ["scaleTargetRef", "triggers"],
            "properties": {
                "scaleTargetRef": _NAME_REF,
                "pollingInterval": {"type": "integer", "minimum": 1},
                "cooldownPeriod": {"type": "integer", "minimum": 0},
                "idleReplicaCount": {"type": "integer", "minimum": 0},
                "minReplicaCount": {"type": "integer", "minimum": 0},
                "maxReplicaCount": {"type": "integer", "minimum": 1},
                "triggers": {"type": "array", "minItems": 1, "items": _TRIGGER},
            },
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
}
TRIGGER_AUTHENTICATION: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "keda.sh/v1alpha1"},
        "kind": {"const": "TriggerAuthentication"},
        "metadata": _METADATA,
        "spec": {
            "type": "object",
            "required": ["secretTargetRef"],
            "properties": {
                "secretTargetRef": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["parameter", "name", "key"],
                        "properties": {
                            "parameter": {"enum": ["password", "username", "host", "address"]},
                            "name": {"type": "string"},
                            "key": {"type": "string"},
                        },
                        "additionalProperties": False,
                    },
                }
            },
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
}
SCHEMAS = {"ScaledObject": SCALED_OBJECT, "TriggerAuthentication": TRIGGER_AUTHENTICATION}
