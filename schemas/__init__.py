"""Pydantic models and types shared by connectors, robots, flows and the e-service."""

from schemas.hetu import Hetu, HetuInfo, hetu_key, parse_hetu

__all__ = ["Hetu", "HetuInfo", "hetu_key", "parse_hetu"]
