"""Read models built from the event store: balances at any date, warnings, surplus, audit trail.

Projections only read events (never the aggregate's internals) and never change them. This
package is where they live; the first ones arrive with the projections work (see
docs/architecture.md, "Planned").
"""
