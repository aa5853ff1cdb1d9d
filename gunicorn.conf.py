"""gunicorn settings for the web app. `gunicorn wsgi:app` reads this file from the project root.

Workers and threads follow the core count; every value can be changed by an environment variable
(WEB_CONCURRENCY, WEB_THREADS, WEB_TIMEOUT, WEB_BIND or PORT) or on the command line.
Graceful reload: `kill -HUP <master pid>` (systemd: `systemctl reload matchmaker-web`) starts new
workers on the new code and lets the old ones finish their requests.
"""

import gc
import os
import sys

from config import web_server_refusal

_cores = os.cpu_count() or 1

bind = os.environ.get("WEB_BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"
# One request at a time per process (sync workers), two processes per core so that one
# process's database waits are another's CPU time (more only add switching: bench_web, 50
# clients, 11.8 ms of CPU a request with 4 processes on 2 cores, 13.6 ms with 6). Every request
# then waits in the one accept queue the processes share and is served first come, first
# served; threaded workers keep a kept-alive connection on the process that took it, so one
# process's queue can be twice another's (p99 1,200-1,350 ms with 4 processes x 4 threads
# against 500-600 ms like this, same load). Sync workers need a buffering proxy in front of
# them for slow clients: nginx (deploy/). WEB_THREADS above 1 selects threaded workers again.
threads = int(os.environ.get("WEB_THREADS") or 1)
worker_class = "gthread" if threads > 1 else "sync"
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * _cores)
# A request running longer than this is stuck: the master replaces its worker.
timeout = int(os.environ.get("WEB_TIMEOUT") or 60)
# On reload or stop, a worker gets this long to finish the requests it holds.
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak cannot grow without bound. A new worker costs
# ~3 s of CPU (imports, create_app, jieba): at 2,000 requests that was ~1.5 ms on each request.
max_requests = 20000
max_requests_jitter = 2000
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
# Workers load the app themselves: HUP then picks up new code, and no connection pool is forked.
preload_app = False
proc_name = "matchmaker-web"
# gunicorn 25+ opens a control socket under $HOME by default; two servers on one host would share
# it. Signals (HUP, TERM) do what we need.
control_socket_disable = True


def post_worker_init(worker):
    # jieba's dictionary loads on a process's first search (~0.5 s of CPU); load it before the
    # worker takes requests, so neither the first searches nor those after a recycle wait on it.
    try:
        from matchmaker.listings.terms import query_terms

        query_terms("机器人")
    except Exception:  # noqa: BLE001 - a search would load it then, or report the problem
        worker.log.exception("could not load the search tokenizer ahead of requests")
    # What the worker has loaded (the app, jieba's dictionary: ~210,000 objects) lives as long as
    # the worker: leave it out of the garbage collector's passes. Otherwise every full pass walks
    # it, ~160 ms in the middle of some request, and GC took ~1.2 ms a request instead of ~0.6.
    gc.collect()
    gc.freeze()
    if _one_at_a_time(worker):
        # One request at a time: collect between requests (post_request), when a request's
        # objects are gone and a pass is short, rather than in the middle of one.
        gc.disable()


def _one_at_a_time(worker) -> bool:
    # The class the worker really runs (the command line may override this file's default).
    return worker.cfg.worker_class_str == "sync"


_served = 0


def post_request(worker, req, environ, resp):
    global _served
    if not _one_at_a_time(worker):
        return
    _served += 1
    # The young generations after every request (~0.2 ms); everything every 1,000 requests.
    gc.collect(2 if _served % 1000 == 0 else 1)


# Checked as the file loads, before gunicorn logs anything: the refusal is the only line printed.
if _problem := web_server_refusal(os.environ):
    print(f"[matchmaker] {_problem}", file=sys.stderr, flush=True)
    os._exit(1)
