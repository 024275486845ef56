"""Every environment variable cchc reads, with its meaning (`cchc.config` builds the settings
from them). The README documents each one and the deployment's settings file lists each one;
tests check both."""

from __future__ import annotations

# Every environment variable the application reads, with its meaning. The README documents
# each one (a test checks it).
SETTINGS_DOC: dict[str, str] = {
    "DEBUG": "development mode (default true); set false in production",
    "SECRET_KEY": "Django's signing key; required and non-default when DEBUG is false",
    "DATABASE_URL": "database URL; default sqlite:///<project>/var/cchc.sqlite3",
    "ALLOWED_HOSTS": "comma-separated host names served; required when DEBUG is false",
    "CCHC_SITE_URL": "public address of the site, used for the links in e-mails (default: "
    "http://127.0.0.1:8000 with DEBUG, else https://<first ALLOWED_HOSTS entry>)",
    "CSRF_TRUSTED_ORIGINS": "comma-separated origins (https://host) trusted for CSRF",
    "CCHC_VAR_DIR": "directory for the SQLite file, uploads and generated files (default var/)",
    "CCHC_STATIC_ROOT": "directory `cchc collectstatic` writes to and the application serves "
    "/static/ from (default <CCHC_VAR_DIR>/static; the container image uses /app/static)",
    "SECURE_SSL_REDIRECT": "redirect HTTP to HTTPS when DEBUG is false (default true)",
    "SECURE_HSTS_SECONDS": "HSTS max-age when DEBUG is false (default 31536000)",
    "EMAIL_HOST": "SMTP server for outgoing mail; unset = mail written to var/mail/",
    "EMAIL_PORT": "SMTP port (default 587)",
    "EMAIL_HOST_USER": "SMTP user name",
    "EMAIL_HOST_PASSWORD": "SMTP password",
    "DEFAULT_FROM_EMAIL": "sender address of outgoing mail",
    "LOGIN_FAILURE_LIMIT": "failed logins per user name and address before lock-out (default 5)",
    "LOGIN_COOLOFF_MINUTES": "minutes a lock-out lasts (default 15)",
    "CCHC_2FA_REQUIRED_ROLES": "comma-separated role codes that must sign in with two-factor "
    "authentication (TOTP); shortcuts: personal_data (every role that sees citizens' personal "
    "data), staff (every officer role), none; default administrator",
    # Imports (cchc.tabular.tables): bounds checked before and while a file is read.
    "CCHC_IMPORT_MAX_BYTES": "largest import file: a CSV's size, an XLSX's decompressed size, "
    "in bytes (default 536870912 = 512 MB)",
    "CCHC_IMPORT_MAX_ROWS": "most rows in one import file, header included (default 1048576, "
    "Excel's own limit)",
    "CCHC_IMPORT_MAX_COLUMNS": "most columns in one row of an import file (default 500)",
    "CCHC_IMPORT_BATCH_ROWS": "rows a dossier import writes per transaction (each batch commits "
    "with its progress and its audit entry); default 5000",
    "CCHC_IMPORT_LOCK_WAIT": "seconds an import waits for another import of the same file or "
    "source before it is refused (exit code 5); default 10",
    "CCHC_IMPORT_DEFER_INDEX_BYTES": "a dossier import of a file this large (bytes) into an empty "
    "dossier table drops the dossier, event and result tables' secondary indexes and rebuilds them "
    "after the load (`cchc import repair-indexes` after a crash); default 16777216 (16 MB)",
    "CCHC_IMPORT_INLINE_ROWS": "web dossier imports of up to this many data rows run inside the "
    "request; larger ones run on the worker with a progress page (0 = always on the worker); "
    "default 2000",
    "CCHC_RECOMPUTE_BATCH": "dossiers per transaction when open dossiers are recomputed for a "
    "new calendar version (default 200)",
    "CCHC_LATE_APOLOGY": "an apology later than 1 working day before the due: warn (default) "
    "or refuse",
    "CCHC_CERTIFIED_COPY_BOOK": "register book (quyển số) printed on certified electronic copies; "
    "{yyyy} / {yy} stand for the year (default 01/{yyyy}-SCT/BS, notation UNVERIFIED)",
    # Indicators (cchc.indicators).
    "CCHC_PAR_CUTOFF_DAY": "day of the month on which PAR reporting periods start (BNV "
    "581/BNV-CCHC data cut-off, default 15: 15/12 of the previous year to 14/3, 14/6, 14/12)",
    # Citizen portal (cchc.portal) and its notifications.
    "CCHC_SMS_BACKEND": "SMS delivery: outbox (messages appended to <CCHC_VAR_DIR>/sms/"
    "outbox.jsonl; default when DEBUG), http (POST to CCHC_SMS_URL) or none (default otherwise)",
    "CCHC_SMS_URL": "HTTP SMS gateway endpoint (JSON {to, text}) when CCHC_SMS_BACKEND=http",
    "CCHC_SMS_TOKEN": "bearer token sent to the HTTP SMS gateway",
    "CCHC_SMS_TIMEOUT": "seconds the HTTP SMS gateway may take before the attempt is retried "
    "later (default 10)",
    "CCHC_NOTIFY_MAX_ATTEMPTS": "attempts to deliver an e-mail/SMS before it is held as a dead "
    "letter for administrators (default 8: about two hours with the default back-off)",
    "CCHC_NOTIFY_BACKOFF_MAX_MINUTES": "longest wait between two attempts; waits double from "
    "1 minute with ±25% jitter (default 60)",
    "CCHC_NOTIFY_LEASE_MINUTES": "minutes after which an e-mail/SMS left 'sending' by a worker "
    "that died is retried (it may then arrive twice; default 10)",
    "CCHC_REPORT_FILES_DAYS": "days a report made on the web is kept for its requester to "
    "download before `cchc reports prune` deletes the file (default 30)",
    "VNEID_CLIENT_ID": "national identity (VNeID) OpenID Connect client id; unset = VNeID login "
    "hidden (with CCHC_DVCQG_SIMULATOR the simulator's client is used)",
    "VNEID_CLIENT_SECRET": "VNeID client secret",
    "VNEID_ISSUER": "VNeID / national SSO issuer (discovery at <issuer>/.well-known/openid-"
    "configuration); with CCHC_DVCQG_SIMULATOR and nothing set: /gia-lap-dvcqg/oidc",
    "VNEID_AUTHORIZE_URL": "optional override of the discovered authorisation endpoint",
    "VNEID_TOKEN_URL": "optional override of the discovered token endpoint",
    "VNEID_USERINFO_URL": "optional override of the discovered userinfo endpoint",
    "VNEID_JWKS_URL": "optional override of the discovered signing keys (jwks_uri)",
    "VNEID_ID_CLAIM": "claim carrying the personal identification number (default citizen_id; "
    "UNVERIFIED at VNeID)",
    "VNEID_LEVEL_CLAIM": "claim carrying the assurance level 1/2 (default acr; UNVERIFIED)",
    "VNEID_AUTH_METHOD": "token endpoint client authentication: client_secret_post (default) or "
    "client_secret_basic",
    "VNEID_TIMEOUT": "seconds each call to VNeID may take (default 5; the token exchange runs "
    "inside the login request)",
    "PORTAL_LOOKUP_LIMIT": "anonymous status look-ups per address and per dossier code in the "
    "window (default 10)",
    "PORTAL_LOOKUP_WINDOW_MINUTES": "length of the look-up rate-limit window (default 15)",
    "CCHC_PORTAL_NAME": "the citizen portal's name in its header and page titles (default: "
    "«Cổng Dịch vụ công» followed by CCHC_PROVINCE_NAME)",
    "CCHC_PROVINCE_NAME": "the province as written after «Cổng Dịch vụ công», e.g. «tỉnh Bắc "
    "Ninh» (default: the province-level unit of the organisation in force today)",
    # Rate limits of anonymous requests (cchc.ratelimit).
    "CCHC_RATE_LIMITS": "per-scope limits of anonymous requests, per client address and per "
    "target, as scope=requests/minutes, comma-separated (0 = no limit); scopes and defaults: "
    "pakn=10/60, pakn_code=10/15, rating=10/15, register=10/60, payment=30/15, ipn=120/1, "
    "verify=30/15 (tracking uses PORTAL_LOOKUP_*)",
    "CCHC_TRUSTED_PROXIES": "comma-separated addresses/CIDRs of reverse proxies whose "
    "X-Forwarded-For is believed; empty (default) = the client is REMOTE_ADDR",
    "CCHC_PAYMENT_IPN_ALLOW": "comma-separated addresses/CIDRs allowed to call the payment IPN "
    "endpoint (the gateway's servers); empty (default) = any address",
    # The national public-service platform (Cổng DVCQG, cchc.national) and its simulator.
    "CCHC_DVCQG_SIMULATOR": "serve the local national-portal simulator at /gia-lap-dvcqg/ "
    "(default: the value of DEBUG; never enable in production)",
    "CCHC_DVCQG_URL": "the national portal's integration endpoint (the services are posted to "
    "it by name); default: the simulator when it is on, otherwise unset = not connected",
    "CCHC_DVCQG_MADONVI": "the province's unit code at the national portal (madonvi)",
    "CCHC_DVCQG_USERNAME": "account of the province's system at the national portal",
    "CCHC_DVCQG_PASSWORD": "its password (required with CCHC_DVCQG_URL when DEBUG is false)",
    "CCHC_DVCQG_TIMEOUT": "seconds one call to the national portal may take (default 15)",
    "CCHC_DVCQG_MAX_ATTEMPTS": "attempts to deliver one sync record before it is a dead letter "
    "(default 12)",
    "CCHC_DVCQG_BACKOFF_MAX_MINUTES": "longest wait between two attempts; waits double from "
    "1 minute with jitter (default 60)",
    "CCHC_DVCQG_LEASE_MINUTES": "minutes after which a record left 'sending' by a worker that "
    "died is tried again (default 10)",
    "CCHC_DVCQG_ON_TIME_HOURS": "a change synchronised within this many hours counts as synced on "
    "time for 766 sub-indicator 1d (default 24; the portal's own rule is not verified)",
    "CCHC_PORTAL_MODE": "standalone (our portal takes online submissions) or national (the "
    "national portal is the front door for procedures published there; default standalone)",
    "CCHC_DVCQG_PUBLIC_URL": "the national portal's public address, linked from procedures "
    "submitted there in CCHC_PORTAL_MODE=national (default https://dichvucong.gov.vn)",
    # Signed e-results delivered to the holder's data store (cchc.dossiers.datastore).
    "CCHC_DATASTORE": "where signed e-results are delivered: local (the store inside this "
    "system, shown at «Kho dữ liệu của tôi»; default), national (the national data store of "
    "citizens and organisations over HTTP, CCHC_DATASTORE_URL) or off",
    "CCHC_DATASTORE_URL": "the national data store's endpoint (https and a token in production); "
    "default: the simulator's /gia-lap-dvcqg/kho-du-lieu/api/ when CCHC_DVCQG_SIMULATOR is on",
    "CCHC_DATASTORE_TOKEN": "the bearer token of this system at the national data store "
    "(required with CCHC_DATASTORE=national when DEBUG is false)",
    "CCHC_DATASTORE_TIMEOUT": "seconds one call to the national data store may take (default 15)",
    "CCHC_DATASTORE_MAX_ATTEMPTS": "attempts to deliver one result before it is marked failed "
    "(default 10)",
    "CCHC_DATASTORE_BACKOFF_MAX_MINUTES": "longest wait between two delivery attempts; waits "
    "double from 1 minute with jitter (default 60)",
    "CCHC_DATASTORE_LEASE_MINUTES": "minutes after which a delivery left 'sending' by a worker "
    "that died is tried again (default 10)",
    # Online payments (cchc.payments).
    "CCHC_PAYMENT_GATEWAY": "online payment gateways offered, comma-separated (vnpay); default "
    "vnpay when the simulator is on, none otherwise (online payment hidden)",
    "CCHC_PAYMENT_SIMULATOR": "serve the local payment-gateway simulator at /gia-lap-thanh-toan/ "
    "(default: the value of DEBUG; never enable in production)",
    "CCHC_PAYMENT_ORDER_MINUTES": "minutes an online payment order stays open (default 15)",
    "CCHC_PAYMENT_RECONCILE_MINUTES": "reconcile queries pending orders older than this many "
    "minutes (default 15)",
    "CCHC_FEES_BEFORE_RESULT": "refuse to approve or return a result while fees are owed "
    "unless the same step collects cash or records an exemption with its reason (default "
    "true; false only where fees are collected outside this system)",
    "CCHC_RESULTS_ISSUED_ON_APPROVAL": "issue the electronic results of a dossier on the "
    "worker as soon as it is approved (rendered with their QR code, registered, signed by the "
    "competent agency's certificate when signing is configured), rather than on the "
    "applicant's first download (default true)",
    "CCHC_POSTAL_INTAKE": "offer «Bưu chính công ích» as a channel at the counter (default "
    "true; false where the province does not receive dossiers by public post)",
    "CCHC_RECEIPT_FORM": "form number (mẫu số) printed on fee receipts (default 01BLP0-001)",
    "CCHC_RECEIPT_SERIES": "series (ký hiệu) printed on fee receipts; {yy} / {yyyy} stand for "
    "the year of issue (default AA-{yy}E: an electronic receipt series of that year)",
    "CCHC_VNPAY_TMN_CODE": "VNPAY merchant terminal code (vnp_TmnCode)",
    "CCHC_VNPAY_HASH_SECRET": "VNPAY hash secret for HMAC-SHA512 checksums (required in "
    "production when vnpay is enabled)",
    "CCHC_VNPAY_PAY_URL": "VNPAY payment page URL (default: the simulator when it is on)",
    "CCHC_VNPAY_API_URL": "VNPAY merchant API URL for querydr/refund (default: the simulator)",
    "CCHC_VNPAY_CHANNEL": "national 'paid online' code this gateway counts as: 2 = ministry/"
    "provincial gateway (default), 1 = via the National Public Service Portal",
    "CCHC_VNPAY_IPN_URL": "simulator only: URL the simulator sends IPNs to (default: the app's "
    "own IPN view, called in-process)",
    # Browser-facing security (Content-Security-Policy, API documentation).
    "CCHC_API_DOCS": "who may open the API documentation /api/docs and /api/openapi.json: "
    "public, staff (signed-in officials: any role but citizen) or off (default: public with "
    "DEBUG, staff otherwise)",
    "CCHC_CSP_REPORT_URI": "URL browsers send Content-Security-Policy violation reports to "
    "(default: none)",
    # Outgoing mail.
    "EMAIL_USE_TLS": "STARTTLS on the SMTP connection (default true)",
    "EMAIL_TIMEOUT": "seconds the worker waits for the SMTP server before giving up and "
    "retrying later (default 10)",
    # Background jobs (cchc.jobs): the worker, the scheduler and their heartbeats.
    "CCHC_JOBS_SYNC": "run queued jobs at once in the process that queues them instead of on "
    "the worker (default false; the test suite sets it; never in production)",
    "CCHC_WORKER_PROCESSES": "job worker processes started by `cchc worker` (default 2)",
    "CCHC_JOB_TIMEOUT": "seconds a job may run before the worker stops it (default 3600)",
    "CCHC_JOB_ATTEMPTS": "times a job whose worker died is tried again (default 3)",
    "CCHC_SCHEDULE": "changes to the periodic schedule: name=Nm (every N minutes), "
    "name=daily@HH:MM or name=off, separated by ';' (see `cchc jobs list`)",
    "CCHC_HEARTBEAT_STALE_SECONDS": "seconds without a heartbeat after which /readyz reports "
    "the worker or scheduler as down (default 90)",
    # Logs, metrics and error reporting (cchc.webkit.logs, cchc.ops).
    "CCHC_LOG_LEVEL": "log level: DEBUG, INFO, WARNING, ERROR or CRITICAL (default INFO, "
    "WARNING with DEBUG)",
    "CCHC_LOG_FORMAT": "log format on stdout: json (one object per line; default when DEBUG is "
    "false) or text (default with DEBUG)",
    "CCHC_METRICS_TOKEN": "bearer token that lets a Prometheus server read /metrics from any "
    "address (Authorization: Bearer <token>); empty (default) = addresses only",
    "CCHC_METRICS_ALLOW": "comma-separated addresses/CIDRs that may read /metrics without the "
    "token (default 127.0.0.1/32,::1/128; empty = token only); a request relayed by a proxy "
    "not in CCHC_TRUSTED_PROXIES is never let in by address",
    "PROMETHEUS_MULTIPROC_DIR": "directory where each web worker process writes its metrics so "
    "/metrics sums them (set and emptied by deploy/gunicorn.conf.py; unset = per process)",
    "SENTRY_DSN": "DSN of a Sentry-compatible server (e.g. self-hosted GlitchTip) to report "
    "errors to, without personal data; needs `pip install cchc[sentry]`; unset = off",
    "SENTRY_ENVIRONMENT": "environment name shown with error reports (e.g. production)",
    "SENTRY_RELEASE": "release name shown with error reports (default: sentry-sdk's guess)",
    # Backups (cchc.backups, docs/backups.md).
    "CCHC_BACKUP_DIR": "root directory of the scheduled backups (default <CCHC_VAR_DIR>/backups)",
    "CCHC_BACKUP_KEEP": "complete scheduled backups kept under CCHC_BACKUP_DIR (default 7)",
    "CCHC_PG_BIN": "directory of pg_dump/pg_restore when those on PATH are older than the "
    "PostgreSQL server, e.g. /usr/lib/postgresql/16/bin (default: PATH)",
    # Digital signatures (cchc.signing, docs/signing.md).
    "CCHC_SIGNING": "signing profiles, time-stamping authority and LTV options as JSON, inline "
    'or @/path/to/file.json; per profile "stamp": true draws a visible stamp on the last page '
    "(see docs/signing.md); default: none (nothing can be signed)",
    "CCHC_SIGNING_TRUST_ROOTS": "comma-separated PEM/DER files of the trusted root CAs (the "
    "national root CA and the licensed providers) for verifying and for LTV signing; "
    "default: none (no signature is trusted)",
    "CCHC_SIGNING_DEMO": "true: with DEBUG and no CCHC_SIGNING, sign issued documents with the "
    "DEMO keys made under <CCHC_VAR_DIR>/signing-demo/ (make run sets it; refused without "
    "DEBUG); default false",
}
