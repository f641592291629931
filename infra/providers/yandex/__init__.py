"""The shared base of the program's dynamic providers over the official ``yandexcloud`` SDK.

``connection`` (endpoint, TLS roots, auth), ``api`` (retried calls, operations), ``errors``,
``unknowns`` (preview's values) and ``converge`` (the providers' shared create, adopt, read and
delete); a resource (``lockbox/``, ``egress/``) adds its requests and its provider on top.
"""
