"""Managed Redis (Valkey) 7.2 as a Pulumi dynamic provider over the official ``yandexcloud`` SDK.

pulumi-yandex 0.13 bridges terraform-provider-yandex v0.71.0, whose request
builder (``expandRedisConfig``, yandex/mdb_redis_structures.go:104-192) knows
versions 5.0, 6.0 and 6.2 only: for 7.2 it sends a ConfigSpec without a
config, so neither the password nor ``maxmemory_policy`` reaches the API.
This resource sends them in the API's version-independent ``redis`` config.
"""
