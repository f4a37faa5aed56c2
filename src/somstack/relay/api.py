"""The relayer's API as pydantic 2 models: one model per request and per answer. The server
validates every request body with them (:func:`parse_request`) and the OpenAPI 3.1 document
served at ``GET /openapi.json`` is generated from them and from :data:`ROUTES` (no hand-kept
copy: what is documented is what is checked).

One rule per type, strict (no coercion):

- an address is ``0x`` and 40 hex digits with a valid EIP-55 checksum (what eth-account and
  every wallet print; lowercase, padded or otherwise re-cased addresses are refused);
- a uint256 is a string of 1 to 78 ASCII digits (``[0-9]``, never ``²``, ``٣`` or fullwidth
  digits) or a JSON integer, at most 2**256 - 1;
- a nonce is ``0x`` and 64 hex digits; ``chainId`` a JSON integer;
- no unknown field (``additionalProperties: false``); the body is a UTF-8 JSON object sent as
  ``application/json``.

A new endpoint (a redemption request, say) is one more model and one more :class:`Route`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from eth_utils import is_checksum_address
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from somstack.relay.checks import REASONS

UINT256_MAX = 2**256 - 1

# refusals that are not about an authorization (the HTTP layer); with checks.REASONS, every
# `error` the server can answer
HTTP_REASONS: dict[str, int] = {"not_found": 404, "method_not_allowed": 405, "internal": 500}
ALL_REASONS: dict[str, int] = {**REASONS, **HTTP_REASONS}


def _checksummed(value: str) -> str:
    if not is_checksum_address(value):
        raise ValueError("must be an EIP-55 checksummed address")
    return value


def _fits(value: str | int) -> str | int:
    if int(value) > UINT256_MAX:
        raise ValueError("must fit a uint256")
    return value


Address = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{40}$"), AfterValidator(_checksummed),
                    Field(description="0x and 40 hex digits, EIP-55 checksummed", examples=["0x5B38Da6a701c568545dCfcB03FcB875f56beddC4"])]
Uint = Annotated[Annotated[str, StringConstraints(pattern=r"^[0-9]{1,78}$")] | Annotated[int, Field(ge=0)],
                 AfterValidator(_fits), Field(description="uint256: a string of 1 to 78 ASCII digits, or a JSON integer")]
Bytes32 = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{64}$"), Field(description="0x and 64 hex digits")]
Signature = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]+$", min_length=132, max_length=2 + 2 * 2048),
                      Field(description="0x and an even number of hex digits: r, s, v (65 bytes, low s) for an EOA; any "
                                        "bytes (at most 2048) an ERC-1271 wallet accepts")]


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", populate_by_name=True, frozen=True)


class Answer(BaseModel):
    """Answers: every field declared, nothing else sent."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# --- Requests ---


class Fee(Strict):
    """When the relayer takes a fee: a ReceiveWithAuthorization from ``from`` to the relayer's
    address of at least the fee (its own nonce)."""

    value: Uint
    valid_after: Uint = Field(alias="validAfter")
    valid_before: Uint = Field(alias="validBefore")
    nonce: Bytes32
    signature: Signature


_EXAMPLE = {
    "token": "0xd9145CCE52D386f254917e481eB44e9943F39138", "kind": "transfer",
    "from": "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4", "to": "0xAb8483F64d9C6d1EcF9b849Ae677dD3315835cb2",
    "value": "1000000000000000000", "validAfter": "1767225600", "validBefore": "1767229200",
    "nonce": "0x" + "5a" * 32, "signature": "0x" + "11" * 64 + "1b",
}


class TransferRequest(Strict):
    """``POST /v1/transfers``: a signed EIP-3009 TransferWithAuthorization (or a
    ReceiveWithAuthorization whose ``to`` is the relayer)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE, {**_EXAMPLE, "chainId": 31337}]})

    token: Address
    kind: Literal["transfer", "receive", "redeem"] = Field(
        default="transfer", description="redeem: a KGST ReceiveWithAuthorization to the redemption queue (`to` = "
                                        "/v1/config redemptionQueue) whose nonce is the payout reference; submitted as "
                                        "RedemptionQueue.requestRedemptionWithAuthorization")
    sender: Address = Field(alias="from")
    to: Address
    value: Uint
    valid_after: Uint = Field(alias="validAfter")
    valid_before: Uint = Field(alias="validBefore")
    nonce: Bytes32
    signature: Signature
    # optional, but never null: left out when not wanted (the default is not validated)
    chain_id: int = Field(default=None, alias="chainId", description="optional; refused with wrong_chain when "  # type: ignore[assignment]
                                                                      "it is not the relayer's chain")
    fee: Fee = Field(default=None, description="required when the relayer takes a fee (see /v1/config)")  # type: ignore[assignment]


# --- Answers ---


class Transfer(Answer):
    """A relayed authorization as the relayer records it."""

    id: Bytes32 = Field(description="keccak256(token ‖ from ‖ nonce)")
    status: Literal["accepted", "submitted", "confirmed", "failed"]
    kind: Literal["transfer", "receive", "redeem"]
    token: Address
    sender: Address = Field(alias="from")
    to: Address
    value: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,78}$")]
    nonce: Bytes32
    tx_hash: Bytes32 | None = Field(alias="txHash")
    reason: str | None = Field(default=None, description="why it failed")
    fee_for: Bytes32 | None = Field(default=None, alias="feeFor", description="the transfer this fee authorization pays for")
    fee_id: Bytes32 | None = Field(default=None, alias="feeId", description="the id of the fee authorization posted with it")


class Error(Answer):
    """Every refusal: a machine-readable reason and one line for people."""

    error: Literal[tuple(ALL_REASONS)]  # type: ignore[valid-type]
    message: str


class Domain(Answer):
    name: str
    version: str
    chain_id: int = Field(alias="chainId")
    verifying_contract: Address = Field(alias="verifyingContract")


class TokenConfig(Answer):
    address: Address
    decimals: int
    fee: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,78}$")] = Field(description="fee in token units; 0: sponsored")
    domain: Domain


class Config(Answer):
    """What a client needs to sign for this relayer."""

    chain_id: int = Field(alias="chainId")
    chain_time: int = Field(alias="chainTime", description="the chain's clock [s], max(latest block, wall clock)")
    relayer: Address
    tokens: dict[str, TokenConfig] = Field(description="by short name (kgst, som)")
    min_validity_seconds: int = Field(alias="minValiditySeconds")
    redemption_queue: Address | None = Field(default=None, alias="redemptionQueue",
                                             description="KGST's redemption queue (POST /v1/redemptions), or null")


class Chain(Answer):
    head: int | None = Field(description="the latest block number seen, or null before the first poll answered")
    head_time: int | None = Field(alias="headTime", description="its timestamp [s]")
    seen_seconds_ago: float | None = Field(alias="seenSecondsAgo", description="since the chain last answered a poll")


class Health(Answer):
    """``/healthz``: 200 when the chain answered a head poll within the last 5 s and the
    submitter's last round went through; 503 otherwise."""

    status: Literal["ok", "chain_unavailable", "submitter_failing"]
    chain_id: int = Field(alias="chainId")
    relayer: Address
    chain: Chain
    submitter: Literal["ok", "failing", "node_refuses_sends"]
    accepted: int
    submitted: int
    relayer_low: bool = Field(alias="relayerLow")


class Ready(Answer):
    """``/readyz`` (for load balancers): 200 when new transfers can be accepted now."""

    ready: bool
    reason: Literal["chain_unavailable", "submitter_failing", "relayer_low_balance"] | None = None


# --- Routes and the document ---


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    operation: str
    summary: str
    responses: dict[int, tuple[type[BaseModel] | str, str]]  # status -> (model, or a media type for text; description)
    request: type[BaseModel] | None = None
    description: str = ""
    parameters: list[dict[str, Any]] = field(default_factory=list)


def _refusals(*statuses: int, extra: tuple[str, ...] = ()) -> dict[int, tuple[type[BaseModel], str]]:
    out: dict[int, tuple[type[BaseModel], str]] = {}
    for status in statuses:
        names = [r for r, s in ALL_REASONS.items() if s == status and (r in REASONS or r in extra)]
        out[status] = (Error, ", ".join(names))
    return out


_COMMON = ("not_found", "method_not_allowed", "internal")

ROUTES: list[Route] = [
    Route("post", "/v1/transfers", "postTransfer", "Relay a signed transferWithAuthorization or receiveWithAuthorization",
          request=TransferRequest,
          description="Checked before it is accepted: shape (this schema), the per-client budget, the signature (ECDSA "
                      "off chain, ERC-1271 on chain), the per-sender and relayer-wide budgets, the validity window, the "
                      "nonce (authorizationState), the token's pre-check (detectTransferRestriction), the sender's balance "
                      "net of pending transfers, and a simulation of the call. Accepted authorizations are written to "
                      "disk before the answer. The same authorization posted again answers 200 from the store, spending "
                      "no budget. Optional header X-API-Key: a key the operator issued gives its holder a budget of its own.",
          responses={202: (Transfer, "Accepted: new"), 200: (Transfer, "Already known: the same id, its current status"),
                     **_refusals(400, 401, 402, 404, 405, 408, 409, 413, 415, 422, 429, 500, 503,
                                 extra=_COMMON)}),
    Route("post", "/v1/redemptions", "postRedemption", "Relay a signed KGST redemption request to the redemption queue",
          request=TransferRequest,
          description="The body of POST /v1/transfers with kind 'redeem' (or no kind): the holder's ReceiveWithAuthorization "
                      "of KGST to the redemption queue, its nonce the payout reference (a salted hash of the bank details), "
                      "so the relayer cannot change it. Checked as a transfer; follow it with GET /v1/transfers/{id}.",
          responses={202: (Transfer, "Accepted: new"), 200: (Transfer, "Already known: the same id, its current status"),
                     **_refusals(400, 401, 402, 404, 405, 408, 409, 413, 415, 422, 429, 500, 503, extra=_COMMON)}),
    Route("get", "/v1/transfers/{id}", "getTransfer", "Status of a relayed transfer",
          parameters=[{"name": "id", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^0x[0-9a-fA-F]{64}$"},
                       "description": "keccak256(token ‖ from ‖ nonce)"}],
          responses={200: (Transfer, "The transfer"), **_refusals(404, 405, 500, extra=_COMMON)}),
    Route("get", "/v1/config", "getConfig", "Chain, relayer address, tokens with their EIP-712 domains and fees",
          responses={200: (Config, "The relayer's configuration"), **_refusals(405, 500, 503, extra=_COMMON)}),
    Route("get", "/healthz", "health", "Liveness: the chain (head poll) and the submitter",
          responses={200: (Health, "Serving, the chain answers, the submitter's rounds go through"),
                     503: (Health, "The chain has not answered for 5 s, or the submitter's rounds fail")}),
    Route("get", "/readyz", "ready", "Readiness for a load balancer: can new transfers be accepted now",
          responses={200: (Ready, "Ready"), 503: (Ready, "Not ready, with the reason")}),
    Route("get", "/metrics", "metrics", "Prometheus exposition format: accepted, refused by reason, submitted, confirmed, "
                                        "failed, latency histograms, process metrics",
          responses={200: ("text/plain", "Metrics")}),
    Route("get", "/openapi.json", "openapi", "This document", responses={200: ("application/json", "OpenAPI 3.1")}),
]


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of :data:`ROUTES`, the schemas generated from the models."""
    from pydantic.json_schema import models_json_schema

    models = sorted({m for r in ROUTES for m in [r.request, *(x for x, _ in r.responses.values())]
                     if isinstance(m, type)}, key=lambda m: m.__name__)
    _, top = models_json_schema([(m, "validation") for m in models], ref_template="#/components/schemas/{model}")
    schemas = top.get("$defs", {})

    def ref(model: type[BaseModel]) -> dict[str, Any]:
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    paths: dict[str, Any] = {}
    for route in ROUTES:
        op: dict[str, Any] = {"operationId": route.operation, "summary": route.summary}
        if route.description:
            op["description"] = route.description
        if route.parameters:
            op["parameters"] = route.parameters
        if route.request is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref(route.request)}}}
        op["responses"] = {}
        for status, (model, text) in sorted(route.responses.items()):
            if isinstance(model, str):
                content = {model: {"schema": {"type": "string"} if model.startswith("text/") else {"type": "object"}}}
            else:
                content = {"application/json": {"schema": ref(model)}}
            op["responses"][str(status)] = {"description": text or "-", "content": content}
        paths.setdefault(route.path, {})[route.method] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "SomStack remittance relayer", "version": "2.0.0",
                 "description": "Submits signed EIP-3009 authorizations (KGST, the digital som) and pays their gas, so "
                                "that senders need no BNB. Every refusal carries a machine-readable reason in `error`. "
                                "Generated from the server's own models (somstack.relay.api)."},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def declared(method: str, path: str, status: int) -> type[BaseModel] | str | None:
    """The model (or media type) the document declares for an answer, or None if undeclared."""
    for route in ROUTES:
        if route.method == method.lower() and route.path == path:
            found = route.responses.get(status)
            return found[0] if found else None
    return None


_UNION_TAGS = {"constrained-str", "int", "str"}


class Malformed(ValueError):
    """A body the models refuse: one line naming the first field at fault."""


def parse_request(body: Any) -> TransferRequest:
    """The request body validated with :class:`TransferRequest` (strict), or Malformed."""
    if not isinstance(body, dict):
        raise Malformed("the body must be a JSON object")
    try:
        return TransferRequest.model_validate(body)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        path = [str(p) for p in first["loc"] if str(p) not in _UNION_TAGS]
        where = ".".join(path) or "body"
        if first["type"] == "extra_forbidden":
            what = "unknown field"
        elif len(path) < len(first["loc"]):  # a member of the uint256 union
            what = "must be a uint256: a string of 1 to 78 ASCII digits [0-9], or a JSON integer"
        else:
            what = first["msg"]
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise Malformed(f"{where[:80]}: {what[:200]}{more}") from None
