"""Background work that survives its worker: leases, heartbeats, retries with backoff.

django-tasks-db claims a task and runs it, nothing more: a worker killed mid-task leaves the task
"running" for ever, and a task that raises is failed at once. This app adds what it lacks. Each
`manage.py db_worker` process registers a `Worker` row and renews its heartbeat on a thread of
its own; a task running under a worker silent for longer than the lease is put back to ready
(the attempt counted) by any live worker, or failed once its attempts run out. A task that raises
is tried again after a delay that doubles each time. A task's owner may give it its own number of
attempts and a hook told of its final failure (`job_policy`). Delivery is at least once, so every
task must be idempotent.
"""
