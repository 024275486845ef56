"""The event-log shape shared by the engines (dossiers, PAKN): an append-only event table
per record, and the steps of every workflow on it.

A record (a dossier, a PAKN) carries a `version` — the number of its events — and a
`state`. A workflow locks the record and checks the version the user saw (`workflow.lock`),
checks the action against the engine's TRANSITIONS table (`workflow.check_transition`),
appends one event with the next sequence number (`workflow.append`), stores the columns
the engine derives from the events with an optimistic version check (`workflow.advance`),
and audits it (`workflow.audit_event`); a refused action leaves only an audit entry
(`workflow.audit_refusal`). What each engine owns: its TRANSITIONS, the payload of each
action, the replay of the events into columns, and its notifications.

The kit imports Django and the layers below it (`cchc.audit`, `cchc.errors`,
`cchc.vietnamese`, `cchc.legaltime`), never an engine.
"""
