#!/usr/bin/env bash
# Start RabbitMQ when it is down; fail (never skip) when it cannot be reached. PostgreSQL and Redis need
# no server here: the tests start the embedded ones (CIVICDESK_TEST_POSTGRES_URL / _REDIS_URL point
# them at servers instead).
set -u
up() { for _ in $(seq 1 30); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done; return 1; }
if ! (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then
  rabbitmq-server -detached || true
fi
up bash -c 'exec 3<>/dev/tcp/127.0.0.1/5672' || { echo "RabbitMQ on 127.0.0.1:5672 cannot be reached" >&2; exit 1; }
echo "services: RabbitMQ is up"
