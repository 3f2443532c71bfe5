"""Cross-cutting records every domain uses: audit log, idempotency keys, job runs."""
