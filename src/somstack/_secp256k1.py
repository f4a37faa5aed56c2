"""secp256k1 arithmetic for what a PKCS#11 token does not say: the low-s form of a signature
and its recovery id ``v``.

An HSM's ``CKM_ECDSA`` returns ``r || s`` only. Ethereum needs ``s <= n/2`` (EIP-2) and the
parity of the point ``R`` (``v``), which the token never returns. ``R`` is found as in a
verification, ``R = (z/s)·G + (r/s)·Q`` with the key's public point ``Q``: the check
``R.x == r`` verifies the signature on the way, so a wrong answer is never returned. Both bases
are fixed (``G``, and ``Q`` per key), so each gets a table of its 8-bit windows once; a
recovery is then 64 point additions (about 1 ms in Python, against 5 to 10 ms for eth-keys'
trial recoveries).

Public values only: no private key is ever handled here.
"""

from __future__ import annotations

P = 2**256 - 2**32 - 977
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
G = (
    0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
    0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8,
)
HALF_N = N // 2

Point = tuple[int, int] | None  # affine; None is the point at infinity
Table = list[list[Point]]


def low_s(s: int) -> int:
    """The low form of ``s`` (EIP-2): ``n - s`` when ``s > n/2``; it flips ``R``'s parity."""
    return N - s if s > HALF_N else s


def on_curve(point: tuple[int, int]) -> bool:
    x, y = point
    return 0 <= x < P and 0 <= y < P and (y * y - x * x * x - 7) % P == 0


def _add(a: Point, b: Point) -> Point:
    if a is None:
        return b
    if b is None:
        return a
    x1, y1 = a
    x2, y2 = b
    if x1 == x2:
        if (y1 + y2) % P == 0:
            return None
        slope = 3 * x1 * x1 * pow(2 * y1, -1, P) % P
    else:
        slope = (y2 - y1) * pow(x2 - x1, -1, P) % P
    x3 = (slope * slope - x1 - x2) % P
    return x3, (slope * (x1 - x3) - y1) % P


def table(base: tuple[int, int]) -> Table:
    """``rows[i][d] = d · 256^i · base`` for the 32 byte positions of a scalar."""
    rows: Table = []
    step: Point = base
    for _ in range(32):
        row: list[Point] = [None] * 256
        acc: Point = None
        for digit in range(1, 256):
            acc = _add(acc, step)
            row[digit] = acc
        rows.append(row)
        step = _add(row[255], step)
    return rows


def multiply(rows: Table, k: int) -> Point:
    """``k · base`` from the base's :func:`table`, ``0 <= k < 2^256``."""
    acc: Point = None
    for i in range(32):
        digit = (k >> (8 * i)) & 0xFF
        if digit:
            acc = _add(acc, rows[i][digit])
    return acc


_G_TABLE: Table | None = None


def g_table() -> Table:
    global _G_TABLE
    if _G_TABLE is None:
        _G_TABLE = table(G)
    return _G_TABLE


def recovery_id(digest: bytes, r: int, s: int, q_table: Table) -> int:
    """``v`` (0 or 1) of the signature ``(r, s)`` over ``digest`` by the key whose public point
    has ``q_table``; raises ``ValueError`` when the signature does not verify against that key."""
    if not (0 < r < N and 0 < s < N) or len(digest) != 32:
        raise ValueError("signature values out of range")
    w = pow(s, -1, N)
    z = int.from_bytes(digest, "big")
    point = _add(multiply(g_table(), z * w % N), multiply(q_table, r * w % N))
    if point is None or point[0] != r:  # R.x >= n (chance 2^-128) cannot be expressed by v either
        raise ValueError("the signature does not verify against the key's public point")
    return point[1] & 1
