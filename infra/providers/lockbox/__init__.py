"""Lockbox secrets as a Pulumi dynamic provider over the official ``yandexcloud`` SDK.

pulumi-yandex 0.13 has no Lockbox resources; this fills the gap with the
same API the console and ``yc`` use.
"""
