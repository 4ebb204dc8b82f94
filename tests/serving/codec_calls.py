"""Call a loaded predictor through its codec, as the served model does (the benchmarks' helpers)."""

from bench.codec_calls import smoke, v1, v2

__all__ = ["smoke", "v1", "v2"]
