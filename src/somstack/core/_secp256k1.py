"""secp256k1 arithmetic for what a PKCS#11 token does not say: the low-s form of a signature
and its recovery id ``v``.

An HSM's ``CKM_ECDSA`` returns ``r || s`` only. Ethereum needs ``s <= n/2`` (EIP-2) and the
parity of the point ``R`` (``v``), which the token never returns. ``R`` is found as in a
verification, ``R = (z/s)·G + (r/s)·Q`` with the key's public point ``Q``: the check
``R.x == r`` verifies the signature on the way, so a wrong answer is never returned. Both bases
are fixed (``G``, and ``Q`` per key), so each gets a table of its 8-bit windows once; a
recovery is then 64 point additions in Jacobian coordinates and one inversion (about 0.3 ms in
Python, against 5 to 10 ms for eth-keys' trial recoveries).

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


Jacobian = tuple[int, int, int] | None  # (X, Y, Z) for x = X/Z², y = Y/Z³; no inversion per step


def _double_jacobian(a: tuple[int, int, int]) -> Jacobian:
    x, y, z = a
    if y == 0:
        return None
    xx, yy = x * x % P, y * y % P
    yyyy = yy * yy % P
    d = 2 * ((x + yy) ** 2 - xx - yyyy) % P
    e = 3 * xx % P
    x3 = (e * e - 2 * d) % P
    return x3, (e * (d - x3) - 8 * yyyy) % P, 2 * y * z % P


def _add_mixed(a: Jacobian, b: Point) -> Jacobian:
    """Jacobian ``a`` plus affine ``b``."""
    if b is None:
        return a
    if a is None:
        return b[0], b[1], 1
    x1, y1, z1 = a
    zz = z1 * z1 % P
    h = (b[0] * zz - x1) % P
    r = (b[1] * z1 * zz - y1) % P
    if h == 0:
        return _double_jacobian(a) if r == 0 else None
    hh = h * h % P
    hhh = h * hh % P
    v = x1 * hh % P
    x3 = (r * r - hhh - 2 * v) % P
    return x3, (r * (v - x3) - y1 * hhh) % P, z1 * h % P


def _affine(a: Jacobian) -> Point:
    if a is None:
        return None
    x, y, z = a
    zi = pow(z, -1, P)
    zi2 = zi * zi % P
    return x * zi2 % P, y * zi2 * zi % P


def _sum(terms: list[tuple[Table, int]]) -> Point:
    """``Σ k · base`` from each base's :func:`table`, ``0 <= k < 2^256``: one inversion in all."""
    acc: Jacobian = None
    for rows, k in terms:
        for i in range(32):
            digit = (k >> (8 * i)) & 0xFF
            if digit:
                acc = _add_mixed(acc, rows[i][digit])
    return _affine(acc)


def multiply(rows: Table, k: int) -> Point:
    """``k · base`` from the base's :func:`table`, ``0 <= k < 2^256``."""
    return _sum([(rows, k)])


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
    point = _sum([(g_table(), z * w % N), (q_table, r * w % N)])
    if point is None or point[0] != r:  # R.x >= n (chance 2^-128) cannot be expressed by v either
        raise ValueError("the signature does not verify against the key's public point")
    return point[1] & 1
