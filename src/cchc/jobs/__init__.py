"""Background work: the job queue (django-q2 on the database), the schedule of periodic
commands, the record of every run, and the heartbeats of the worker and the scheduler.

Nothing that can hang runs inside a request: e-mail, SMS, gateways, long recomputes and
large imports are queued here (`queue.enqueue`) and run by `cchc worker`; periodic commands
are listed as data in `schedule.PERIODIC` and queued by `cchc scheduler`.
"""
