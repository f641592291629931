"""PCRE, the regex library nginx matches ``~*`` locations and ``rewrite`` with, called through ctypes.

nginx hands a location's regex and a rewrite's to PCRE as written, caseless
for ``~*`` (nginx 1.27.1, the one ingress-nginx 1.15.1 builds: images/nginx/
rootfs/build.sh:21; src/http/ngx_http_core_module.c:3250, src/core/ngx_regex.c:
159 and 279), and matches them against the request's decoded path, regex
locations in the order they are written (ngx_http_core_module.c:1440). Python's
``re`` is another engine; the routes are judged by PCRE itself. This machine's
library is PCRE2 (libpcre2-8, a dependency of Debian's grep); ingress-nginx's
image builds nginx against Alpine's PCRE (build.sh:145), which reads the groups,
alternations, ``.*`` and ``$`` of these paths the same way.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

CASELESS = 0x00000008  # PCRE2_CASELESS, pcre2.h
_NO_MATCH = -1  # PCRE2_ERROR_NOMATCH
_UNSET = ctypes.c_size_t(-1).value  # PCRE2_UNSET: a group that took no part


@functools.cache
def _library() -> ctypes.CDLL:
    name = ctypes.util.find_library("pcre2-8")
    if name is None:
        raise AssertionError("libpcre2-8 is not installed: apt-get install libpcre2-8-0")
    lib = ctypes.CDLL(name)
    size, pointer = ctypes.c_size_t, ctypes.c_void_p
    lib.pcre2_compile_8.restype = pointer
    lib.pcre2_compile_8.argtypes = [
        ctypes.c_char_p,
        size,
        ctypes.c_uint32,
        ctypes.POINTER(ctypes.c_int),
        ctypes.POINTER(size),
        pointer,
    ]
    lib.pcre2_match_data_create_from_pattern_8.restype = pointer
    lib.pcre2_match_data_create_from_pattern_8.argtypes = [pointer, pointer]
    lib.pcre2_match_8.restype = ctypes.c_int
    lib.pcre2_match_8.argtypes = [pointer, ctypes.c_char_p, size, size, ctypes.c_uint32, pointer, pointer]
    lib.pcre2_get_ovector_pointer_8.restype = ctypes.POINTER(size)
    lib.pcre2_get_ovector_pointer_8.argtypes = [pointer]
    lib.pcre2_match_data_free_8.argtypes = [pointer]
    lib.pcre2_code_free_8.argtypes = [pointer]
    return lib


def search(pattern: str, subject: str, options: int = 0) -> list[str | None] | None:
    """The first match of `pattern` in `subject`: the whole match and each group, or None."""
    lib = _library()
    error, offset = ctypes.c_int(), ctypes.c_size_t()
    raw = pattern.encode()
    code = lib.pcre2_compile_8(raw, len(raw), options, ctypes.byref(error), ctypes.byref(offset), None)
    assert code, f"PCRE refuses {pattern!r} (error {error.value} at {offset.value})"
    data = lib.pcre2_match_data_create_from_pattern_8(code, None)
    try:
        text = subject.encode()
        pairs = lib.pcre2_match_8(code, text, len(text), 0, 0, data, None)
        if pairs == _NO_MATCH:
            return None
        assert pairs > 0, f"PCRE failed matching {pattern!r} against {subject!r} ({pairs})"
        vector = lib.pcre2_get_ovector_pointer_8(data)
        groups: list[str | None] = []
        for index in range(pairs):
            start, end = vector[2 * index], vector[2 * index + 1]
            groups.append(None if start == _UNSET else text[start:end].decode())
        return groups
    finally:
        lib.pcre2_match_data_free_8(data)
        lib.pcre2_code_free_8(code)
