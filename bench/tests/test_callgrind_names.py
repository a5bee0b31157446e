"""How the benchmark report names a function of a callgrind profile
(bench/benchlib/callgrind.short_name): the object's file name and the
function, an address in short hex, a recursion level kept."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchlib import callgrind  # noqa: E402

ROWS = [
    ("a named function in a library",
     "./string/../sysdeps/x86_64/multiarch/memmove-vec-unaligned-erms.S:__memcpy_avx_unaligned_erms "
     "[/usr/lib/x86_64-linux-gnu/libc.so.6]",
     "libc.so.6:__memcpy_avx_unaligned_erms"),
    ("an address without symbols", "???:0x000000000000f420 [/usr/bin/lua5.3]", "lua5.3:0xf420"),
    ("an address at a recursion level", "???:0x000000000000d420'2 [/usr/bin/lua5.3]",
     "lua5.3:0xd420'2"),
    ("a named function at a recursion level", "lvm.c:luaV_execute'3 [/usr/lib/liblua5.3.so.0]",
     "liblua5.3.so.0:luaV_execute'3"),
    ("no object: the source file names it", "src/buffer.c:recv_line", "buffer.c:recv_line"),
    ("not a callgrind name", "below main", "below main"),
]


class ShortName(unittest.TestCase):
    def test_rows(self):
        for what, full, short in ROWS:
            with self.subTest(what):
                self.assertEqual(callgrind.short_name(full), short)


if __name__ == "__main__":
    unittest.main()
