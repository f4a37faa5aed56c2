"""The remittance relayer: an HTTP service that submits signed EIP-3009 authorizations, so that
senders need no BNB (`somstack relay serve`), and its client (`somstack relay send`).

- :mod:`.store`: the durable SQLite record of every accepted authorization.
- :mod:`.checks`: what is checked before an authorization is accepted, and the refusal reasons.
- :mod:`.submitter`: the one task that owns the relayer key's nonce, sends and confirms.
- :mod:`.server`: the aiohttp application (API, limits, metrics, OpenAPI document).
- :mod:`.client`: signing an authorization with eth-account and posting it.
"""
