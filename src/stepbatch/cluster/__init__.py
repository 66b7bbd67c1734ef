"""Several machines: accounts as procrastinate jobs on PostgreSQL (`stepbatch submit/worker/status`).

`schema` holds stepbatch's cluster table (applied by `stepbatch db init` after procrastinate's schema),
`queue` the procrastinate App and its fenced job bookkeeping, `submit` the validated requests, `worker`
the process that runs them, `reaper` the take-over of stalled jobs, `status` the table for operators.
Needs the `cluster` extra (procrastinate, psycopg); nothing imports this package unless it is used.
"""
