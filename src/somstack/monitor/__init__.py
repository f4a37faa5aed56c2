"""Transaction monitoring for AML and sanctions: `somstack monitor` (docs/monitor.md).

Layers, each its own module:
  settings   the rules' parameters (brownie-config.yaml ``somstack: monitor:``, a rules file)
  transfers  the transfers CSV format: a strict reader and a writer
  rules      every rule as DuckDB SQL over a table of transfers -> :class:`alerts.Alert`
  alerts     the alert record, its stable id, the JSON-lines file
  synth      a labelled synthetic history (background + planted typologies) and its scoring
  store      the embedded store (DuckDB, one file under build/): events, cursor, alerts,
             outbox, cases and their append-only audit trail
  follow     the chain follower (`monitor run`, `monitor export`)
  cases      the analyst's cases, the report for the financial intelligence unit
The monitor sees addresses and hashes, never people (docs/privacy.md).
"""
