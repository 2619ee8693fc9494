#!/usr/bin/env python3
"""Every thread of the server carries the program's static thread-local storage at the top of its
stack, and the README's per-connection memory (two threads per client) assumes it is small: a
2.5 KB thread_local once cost every idle connection 8 KB (two more stack pages). This reads the
TLS segment of the server binary (its PT_TLS program header) and fails above 1 KiB.

usage: thread_local_size_test.py SERVER_BINARY
"""
import struct
import sys

LIMIT = 1024
PT_TLS = 7


def tls_size(path):
    with open(path, 'rb') as f:
        elf = f.read()
    assert elf[:4] == b'\x7fELF' and elf[4] == 2, 'not a 64-bit ELF file'
    endian = '<' if elf[5] == 1 else '>'
    phoff, = struct.unpack_from(endian + 'Q', elf, 0x20)
    phentsize, phnum = struct.unpack_from(endian + 'HH', elf, 0x36)
    for i in range(phnum):
        header = phoff + i * phentsize
        kind, = struct.unpack_from(endian + 'I', elf, header)
        if kind == PT_TLS:
            memsz, = struct.unpack_from(endian + 'Q', elf, header + 0x28)
            return memsz
    return 0


def main():
    size = tls_size(sys.argv[1])
    print(f'static thread-local storage of {sys.argv[1]}: {size} bytes (limit {LIMIT})')
    return 0 if size <= LIMIT else 1


if __name__ == '__main__':
    sys.exit(main())
