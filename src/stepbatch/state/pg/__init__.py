"""Progress and account leases in PostgreSQL, for several machines sharing one database.

Needs the `cluster` extra (psycopg). `PgBackend` is the `StateBackend`; `PgLease` the fenced lease;
`PgProgressStore` the `ProgressStore`; `migrations` the tables; `throwaway` a private test server.
Import the modules themselves (this package imports nothing, so `stepbatch` works without psycopg).
"""
