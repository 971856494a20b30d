"""Operating the product: Prometheus metrics, structured logs, error tracking, heartbeats and health."""
