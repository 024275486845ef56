"""Operations: health probes, Prometheus metrics and error reporting (issue 16)."""
