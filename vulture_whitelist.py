"""Names vulture (make lint) cannot see used: read by a framework, a template, a test or the database,
not by a call in our code. Routes, tasks, CLI commands, validators and event listeners are recognised by
their decorators (pyproject.toml [tool.vulture]); only what remains is listed here, with who reads it."""

# table columns: written and read by SQL (exports, audits, migrations), not always by attribute
processed_at, image_url, opened_by_user_id, joined_at, details, key_prefix, last_used_at, old_value
verified_at, last_seen_at, undone_by_user_id, token_hash, author_user_id
_.naming_convention  # SQLAlchemy MetaData: stable constraint names
INTERNAL  # Channel.INTERNAL, a stored value

# response and page fields: serialised by pydantic/FastAPI or read by Jinja templates
civicdesk_version, response_due_at, duplicate_of, sla_urgency, ward_name, replaced, last_text
category_vi, category_en, can_rate, can_reopen, can_reply, question
by_department, by_ward, urgent, _.pages, unit_name, speaker
# the API's response schemas (*/schemas.py), filled from rows and dicts by pydantic (from_attributes,
# model_validate) and read by FastAPI when it serialises the answer
lag_seconds, generated_at, computed, by_dimension, online, has_secret, days_off_on_weekdays
working_days_on_weekends, agent_user_id, agents_rung, transferred_to, hangup_cause, recovered, finished_at
recent_tickets, short_abandoned, transferred, service_level, abandonment_rate, asa_seconds, aht_seconds
average_wait_seconds, calls_waiting, longest_wait_seconds, size_bytes, token_type

# protocols and hooks other libraries call: SQLAlchemy TypeDecorator, asyncio, Prometheus, scikit-learn,
# click exceptions, Celery, logging, Pillow, openpyxl, panoramisk
impl, cache_ok, dialect, _.process_bind_param, _.process_result_value
_.data_received, _.collect, _.transform, exit_code, _.beat_schedule, _.handlers, _.MAX_IMAGE_PIXELS
_.number_format, _.reconnect_timeout, _.mtime
n_steps  # the progress bar protocol's parameter

# read by tests, benchmarks and operators: counters of the AMI listener, the metrics state, test hooks
_.logins, _.resyncs, _.metrics_state, _.forget, clear_cache, similarity, measure
fill_placeholders  # bench/triage.py fills the independent test set's {street} the way the corpus does
# the PBX simulator's scenarios the AMI tests and bench/ami_events.py play (telephony/simulator.py)
_.recording, _.finish_silently, _.abandon, _.blind_transfer, _.end_after_transfer, _.after_hours_voicemail
_.live_uniqueids
confirmation_url  # the receipt link for whoever sends the receipt (tests/test_identity.py)

MODEL_MODULES  # every table module, imported for its side effect on the metadata
GSO_ATTRIBUTION  # the statistics office's credit for the ward codes (geo/codes.py)
short_name  # the city profile's short name, shown on the admin page (web/templates/staff/admin_city.html)
total_tokens  # anyio's thread limiter: the web worker's pool size, set at start-up (civicdesk/asgi.py)
auto_reload  # Jinja's: templates are not checked on disk before each render (web/pages/common.py)
resolution_due_at  # the SLA view's deadline: the staff ticket page (template) and the API schema read it
