"""The shared kernel every layer stands on: settings and the city profile, the database, errors,
time, text, translations, logs, heartbeats and the live-update channel. It imports no domain
and nothing of the composition root (civicdesk/)."""
