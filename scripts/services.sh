#!/usr/bin/env bash
# Start PostgreSQL, Redis and RabbitMQ when they are down; fail (never skip) when one cannot be reached.
set -u
up() { for _ in $(seq 1 30); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done; return 1; }
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true
fi
if ! (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then
  rabbitmq-server -detached || true
fi
up pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL on 127.0.0.1:5432 cannot be reached" >&2; exit 1; }
up redis-cli -h 127.0.0.1 -p 6379 ping || { echo "Redis on 127.0.0.1:6379 cannot be reached" >&2; exit 1; }
up bash -c 'exec 3<>/dev/tcp/127.0.0.1/5672' || { echo "RabbitMQ on 127.0.0.1:5672 cannot be reached" >&2; exit 1; }
echo "services: PostgreSQL, Redis and RabbitMQ are up"
